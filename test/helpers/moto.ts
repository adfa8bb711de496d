/** A real moto_server for the tests (src/proxy/moto-server.ts), started and stopped around a test file. */
import { after, before } from 'node:test';
import { S3Client } from '@aws-sdk/client-s3';
import { MOTO_CREDENTIALS } from '../../src/proxy/moto-credentials.ts';
import { type MotoServer, startMotoServer } from '../../src/proxy/moto-server.ts';

export type Moto = MotoServer;
export const startMoto = (): Promise<Moto> => startMotoServer();

export async function withMoto<T>(fn: (moto: Moto) => Promise<T>): Promise<T> {
  const moto = await startMoto();
  try {
    return await fn(moto);
  } finally {
    await moto.stop();
  }
}

/** Credentials moto accepts (it checks none). */
export { MOTO_CREDENTIALS };

/**
 * One moto_server for a test file: started in `before`, stopped in `after`. `endpoint()` and `s3()` (an
 * S3 SDK client, path-style, as users would point one at it) are for use inside tests.
 */
export function useMoto(): { endpoint(): string; s3(region?: string): S3Client } {
  let moto: Moto | undefined;
  before(async () => {
    moto = await startMoto();
  });
  after(async () => {
    await moto?.stop();
  });
  const endpoint = () => {
    if (moto === undefined) throw new Error('moto_server is not running (useMoto() registers it in before())');
    return moto.endpoint;
  };
  return {
    endpoint,
    s3: (region = 'us-east-1') =>
      new S3Client({ endpoint: endpoint(), region, forcePathStyle: true, credentials: MOTO_CREDENTIALS }),
  };
}
