/**
 * Sends one CloudTrail record to opentrail's ingest API with the AWS SDK's SigV4 signer, as the README
 * shows. Run against a server:
 *   OPENTRAIL_ENDPOINT=http://127.0.0.1:4790 AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=… npx tsx examples/ingest-with-sdk.ts
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';

const endpoint = new URL(process.env['OPENTRAIL_ENDPOINT'] ?? 'http://127.0.0.1:4790');
const body = JSON.stringify({
  Records: [
    {
      eventVersion: '1.11',
      eventTime: `${new Date().toISOString().slice(0, 19)}Z`,
      eventSource: 'orders.example.com',
      eventName: 'CancelOrder',
      awsRegion: 'us-east-1',
      userIdentity: { type: 'IAMUser', userName: 'alice' },
      requestParameters: { orderId: '42' },
      responseElements: null,
    },
  ],
});
const signer = new SignatureV4({
  service: 'opentrail',
  region: 'us-east-1',
  sha256: Sha256,
  credentials: {
    accessKeyId: process.env['AWS_ACCESS_KEY_ID'] ?? '',
    secretAccessKey: process.env['AWS_SECRET_ACCESS_KEY'] ?? '',
  },
});
const request = await signer.sign({
  method: 'POST',
  protocol: endpoint.protocol,
  hostname: endpoint.hostname,
  port: Number(endpoint.port),
  path: '/',
  headers: {
    host: endpoint.host,
    'content-type': 'application/x-amz-json-1.1',
    'x-amz-target': 'OpenTrailIngest_20261101.PutRecords',
  },
  body,
});
const response = await fetch(endpoint, { method: 'POST', headers: request.headers, body });
console.log(JSON.stringify(await response.json()));
