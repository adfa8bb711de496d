import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { generatedModelText, MODEL_SOURCES } from '../../scripts/botocore-models.ts';

/**
 * The compact models under src/api/model are generated from the installed botocore; after a botocore
 * upgrade they must be regenerated, or opentrail validates against a model the SDKs no longer speak.
 */
describe('the committed service models', () => {
  for (const { service, version, out } of MODEL_SOURCES) {
    it(`${out} is what botocore's ${service} ${version} model generates`, () => {
      const committed = readFileSync(new URL(`../../${out}`, import.meta.url), 'utf8');
      const generated = generatedModelText(service, version);
      assert.ok(
        committed === generated,
        `${out} differs from botocore's ${service} ${version} model: run \`npm run generate:model\` and commit the result`,
      );
    });
  }
});
