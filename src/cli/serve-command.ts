import { createApp } from '../app.ts';
import { ConfigError, loadConfig } from '../config/load-config.ts';
import { MOTO_ACCOUNT_ID, MOTO_TEST_KEYS } from '../proxy/index.ts';
import type { CliIo } from './io.ts';

/** `opentrail serve` (and `npm start`): start the service and keep it running until a signal stops it. */
export async function serveCommand(argv: string[], io: CliIo): Promise<number> {
  let config: ReturnType<typeof loadConfig>;
  let app: Awaited<ReturnType<typeof createApp>>;
  try {
    config = loadConfig(argv, io.env);
    // Settings checked against the data directory (the admin identity) fail here, as bad values do above.
    app = await createApp(config);
  } catch (error) {
    if (error instanceof ConfigError) {
      io.stderr.write(`opentrail: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const url = await app.listen();
  io.stdout.write(`opentrail is serving the CloudTrail API at ${url} (data in ${config.dataDir})\n`);
  if (app.config.upstream !== undefined) {
    const { default: fallback, services } = app.config.upstream;
    const routes = [
      ...Object.entries(services).map(([s, u]) => `${s} → ${u}`),
      ...(fallback ? [`others → ${fallback}`] : []),
    ];
    io.stdout.write(`Recording calls to other services: ${routes.join(', ')}\n`);
  }
  if (config.moto) {
    io.stdout.write(
      `moto mode: account ${MOTO_ACCOUNT_ID} answers to moto's test keys (${MOTO_TEST_KEYS.map((k) => k.accessKeyId).join(', ')}); TEST_SERVER_MODE_ENDPOINT=${url}\n`,
    );
  }
  if (app.admin.generatedSecret !== undefined) {
    // Shown once: from now on the secret is kept only in the data directory's 0600 secrets file.
    io.stdout.write(
      [
        'Admin credentials were generated for this data directory (shown once):',
        `  export AWS_ACCESS_KEY_ID=${app.admin.accessKeyId}`,
        `  export AWS_SECRET_ACCESS_KEY=${app.admin.generatedSecret}`,
        `  (account ${app.admin.accountId})`,
        `Try: aws cloudtrail describe-trails --endpoint-url ${url} --region us-east-1`,
        '',
      ].join('\n'),
    );
  }
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      io.stdout.write(`opentrail: ${signal}, shutting down\n`);
      resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  await app.close();
  return 0;
}
