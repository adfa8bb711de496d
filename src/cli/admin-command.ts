import { parseArgs } from 'node:util';
import { ADMIN_TARGET_PREFIX } from '../api/admin-api.ts';
import { CLIENT_OPTIONS, clientFor } from './client-options.ts';
import { type CliIo, UsageError } from './io.ts';

/** `opentrail admin <command>`: accounts, users, access keys and organizations on a running server. */
const COMMANDS: Record<string, { operation: string; options: Record<string, string>; required: string[] }> = {
  'create-account': { operation: 'CreateAccount', options: { 'account-id': 'AccountId', name: 'Name' }, required: [] },
  'list-accounts': { operation: 'ListAccounts', options: {}, required: [] },
  'create-user': {
    operation: 'CreateUser',
    options: { 'account-id': 'AccountId', 'user-name': 'UserName' },
    required: ['account-id', 'user-name'],
  },
  'create-access-key': {
    operation: 'CreateAccessKey',
    options: { 'account-id': 'AccountId', 'user-name': 'UserName' },
    required: ['account-id'],
  },
  'delete-access-key': {
    operation: 'DeleteAccessKey',
    options: { 'access-key-id': 'AccessKeyId' },
    required: ['access-key-id'],
  },
  'create-organization': {
    operation: 'CreateOrganization',
    options: { 'management-account-id': 'ManagementAccountId' },
    required: ['management-account-id'],
  },
  'add-account-to-organization': {
    operation: 'AddAccountToOrganization',
    options: { 'organization-id': 'OrganizationId', 'account-id': 'AccountId' },
    required: ['organization-id', 'account-id'],
  },
};

export function adminUsage(): string {
  const lines = Object.entries(COMMANDS).map(
    ([name, c]) =>
      `  opentrail admin ${name} ${Object.keys(c.options)
        .map((o) => (c.required.includes(o) ? `--${o} X` : `[--${o} X]`))
        .join(' ')}`,
  );
  return `${lines.join('\n')}\n  (all take [--endpoint-url URL] [--region R]; credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)`;
}

export async function adminCommand(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  const command = name === undefined ? undefined : COMMANDS[name];
  if (command === undefined)
    throw new UsageError(name === undefined ? 'admin needs a command' : `unknown admin command ${name}`);
  const options = Object.fromEntries(Object.keys(command.options).map((o) => [o, { type: 'string' as const }]));
  const { values } = parseArgs({ args: rest, options: { ...options, ...CLIENT_OPTIONS }, strict: true });
  const input: Record<string, string> = {};
  for (const [flag, member] of Object.entries(command.options)) {
    const v = (values as Record<string, string | undefined>)[flag];
    if (v !== undefined) input[member] = v;
    else if (command.required.includes(flag)) throw new UsageError(`admin ${name} needs --${flag}`);
  }
  const output = await clientFor(ADMIN_TARGET_PREFIX, values, io).call(command.operation, input);
  io.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
  return 0;
}
