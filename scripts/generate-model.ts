/** Regenerates the compact service models from the installed botocore: `npm run generate:model`. */
import { writeFileSync } from 'node:fs';
import { generatedModelText, MODEL_SOURCES } from './botocore-models.ts';

for (const { service, version, out } of MODEL_SOURCES) {
  writeFileSync(out, generatedModelText(service, version));
  console.log(`wrote ${out}`);
}
