/** Regenerates the compact service models and the proxy's operation table from the installed botocore: `npm run generate:model`. */
import { writeFileSync } from 'node:fs';
import { generatedModelText, MODEL_SOURCES } from './botocore-models.ts';
import { operationTableText, PROXY_OPERATIONS_FILE } from './proxy-operations.ts';

for (const { service, version, out } of MODEL_SOURCES) {
  writeFileSync(out, generatedModelText(service, version));
  console.log(`wrote ${out}`);
}
writeFileSync(PROXY_OPERATIONS_FILE, operationTableText());
console.log(`wrote ${PROXY_OPERATIONS_FILE}`);
