import { ServiceError } from '../model/service-error.ts';
import type { JsonApi } from './aws-json.ts';
import type { OperationTable } from './operation.ts';

/**
 * The admin API: accounts, IAM-style users, access keys and organizations, for operators and tests
 * (`opentrail admin …` calls it). Same protocol as CloudTrail (AWS JSON 1.1, SigV4 with the signing name
 * `opentrail`); only principals of the admin account may call it. Calls are recorded like any other,
 * without the secrets they return.
 */
export const ADMIN_TARGET_PREFIX = 'OpenTrailAdmin_20261101';
export const ADMIN_SIGNING_NAME = 'opentrail';

function str(input: Record<string, unknown>, name: string, required: true): string;
function str(input: Record<string, unknown>, name: string, required: false): string | undefined;
function str(input: Record<string, unknown>, name: string, required: boolean): string | undefined {
  const v = input[name];
  if (v === undefined || v === null) {
    if (required) throw new ServiceError('ValidationException', `${name} is required.`);
    return undefined;
  }
  if (typeof v !== 'string') throw new ServiceError('SerializationException', `${name} must be a string.`);
  return v;
}

const adminOperations: OperationTable = {
  CreateAccount: {
    readOnly: false,
    handle: async (ctx, input: Record<string, unknown>) => {
      const accountId = str(input, 'AccountId', false);
      const name = str(input, 'Name', false);
      const a = await ctx.services.identity.createAccount({
        ...(accountId !== undefined ? { accountId } : {}),
        ...(name !== undefined ? { name } : {}),
      });
      return { AccountId: a.accountId, Name: a.name };
    },
  },
  ListAccounts: {
    readOnly: true,
    handle: (ctx) => ({
      Accounts: ctx.services.identity.accounts().map((a) => ({
        AccountId: a.accountId,
        Name: a.name,
        ...(a.organizationId !== undefined ? { OrganizationId: a.organizationId } : {}),
      })),
    }),
  },
  CreateUser: {
    readOnly: false,
    handle: async (ctx, input: Record<string, unknown>) => {
      const u = await ctx.services.identity.createUser(str(input, 'AccountId', true), str(input, 'UserName', true));
      return {
        AccountId: u.accountId,
        UserName: u.userName,
        UserId: u.userId,
        Arn: `arn:aws:iam::${u.accountId}:user/${u.userName}`,
      };
    },
  },
  CreateAccessKey: {
    readOnly: false,
    handle: async (ctx, input: Record<string, unknown>) => {
      const userName = str(input, 'UserName', false);
      const k = await ctx.services.identity.createAccessKey(str(input, 'AccountId', true), userName);
      return {
        AccessKeyId: k.accessKeyId,
        SecretAccessKey: k.secretAccessKey,
        AccountId: k.accountId,
        ...(k.userName !== undefined ? { UserName: k.userName } : {}),
      };
    },
  },
  DeleteAccessKey: {
    readOnly: false,
    handle: async (ctx, input: Record<string, unknown>) => {
      await ctx.services.identity.deleteAccessKey(str(input, 'AccessKeyId', true));
      return {};
    },
  },
  CreateOrganization: {
    readOnly: false,
    handle: async (ctx, input: Record<string, unknown>) => {
      const org = await ctx.services.identity.createOrganization(str(input, 'ManagementAccountId', true));
      return { OrganizationId: org.organizationId, ManagementAccountId: org.managementAccountId };
    },
  },
  AddAccountToOrganization: {
    readOnly: false,
    handle: async (ctx, input: Record<string, unknown>) => {
      await ctx.services.identity.addAccountToOrganization(
        str(input, 'OrganizationId', true),
        str(input, 'AccountId', true),
      );
      return {};
    },
  },
};

export const adminApi: JsonApi = {
  targetPrefixes: [ADMIN_TARGET_PREFIX],
  signingNames: [ADMIN_SIGNING_NAME],
  eventSource: 'admin.opentrail.local',
  operations: adminOperations,
  maxBodyBytes: 1024 * 1024,
  authorize(caller) {
    if (!caller.principal.isAdmin) {
      throw new ServiceError(
        'AccessDeniedException',
        `${caller.principal.arn} is not an admin: only principals of the admin account can call the admin API.`,
      );
    }
  },
  redactForRecord(_operation, output) {
    const { SecretAccessKey: _secret, ...rest } = output;
    return rest;
  },
};
