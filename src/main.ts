/** `npm start`: read the configuration, start the service, print the admin credentials the first time. */
import { createApp } from './app.ts';
import { ConfigError, loadConfig } from './config/load-config.ts';

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.argv.slice(2), process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`opentrail: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const app = await createApp(config);
  const url = await app.listen();
  const out = process.stdout;
  out.write(`opentrail is serving the CloudTrail API at ${url} (data in ${config.dataDir})\n`);
  if (app.admin.generatedSecret !== undefined) {
    // Shown once: the secret is kept only in the data directory's 0600 secrets file from now on.
    out.write(
      [
        'Admin credentials were generated for this data directory (shown once):',
        `  AWS_ACCESS_KEY_ID=${app.admin.accessKeyId}`,
        `  AWS_SECRET_ACCESS_KEY=${app.admin.generatedSecret}`,
        `  account id: ${app.admin.accountId}`,
        `Try: aws cloudtrail describe-trails --endpoint-url ${url} --region us-east-1`,
        '',
      ].join('\n'),
    );
  }
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    out.write(`opentrail: ${signal}, shutting down\n`);
    await app.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(`opentrail: could not start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
