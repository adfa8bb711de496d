import type { Clock } from '../model/clock.ts';
import { DIGITS, type IdSource, UPPER_ALNUM } from '../model/ids.ts';
import { SerialQueue } from '../model/serial-queue.ts';
import { ServiceError } from '../model/service-error.ts';
import type { Connection } from '../store/database.ts';
import { type Principal, rootPrincipal, userPrincipal } from './principal.ts';
import { readSecretFile, writeSecretFile } from './secret-file.ts';

/**
 * Accounts, organizations, IAM-style users and access keys. Rows live in the control-plane tables;
 * secrets live only in a 0600 file beside the database. Everything is held in memory as well, because
 * every request resolves its access key before anything else runs.
 *
 * Mutations run one at a time (`#changes`): each checks, writes and then updates memory before the next
 * starts, and the secrets file is always rewritten whole from memory, so two concurrent CreateAccessKey
 * calls can neither both pass a check nor each write a file that lacks the other's secret.
 */
export interface Account {
  accountId: string;
  name: string;
  organizationId?: string;
  isAdmin: boolean;
  createdAtMs: number;
}

export interface Organization {
  organizationId: string;
  managementAccountId: string;
  createdAtMs: number;
}

export interface User {
  accountId: string;
  userName: string;
  userId: string;
  createdAtMs: number;
}

export interface AccessKey {
  accessKeyId: string;
  secretAccessKey: string;
  accountId: string;
  userName?: string;
  status: 'Active' | 'Inactive';
  createdAtMs: number;
}

interface SecretsFile {
  accessKeys: Record<string, string>;
}

const USER_NAME = /^[\w+=,.@-]{1,64}$/;
/** AWS Organizations' rule for account names. */
const ACCOUNT_NAME = /^[\x20-\x7e]{1,50}$/;
const SECRET_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

export class IdentityStore {
  readonly #conn: Connection;
  readonly #secretsPath: string;
  readonly #clock: Clock;
  readonly #ids: IdSource;
  readonly #accounts = new Map<string, Account>();
  readonly #organizations = new Map<string, Organization>();
  readonly #users = new Map<string, User>();
  readonly #keys = new Map<string, AccessKey>();
  readonly #changes = new SerialQueue();

  private constructor(conn: Connection, secretsPath: string, clock: Clock, ids: IdSource) {
    this.#conn = conn;
    this.#secretsPath = secretsPath;
    this.#clock = clock;
    this.#ids = ids;
  }

  static async load(conn: Connection, secretsPath: string, clock: Clock, ids: IdSource): Promise<IdentityStore> {
    const store = new IdentityStore(conn, secretsPath, clock, ids);
    const secrets = (await readSecretFile<SecretsFile>(secretsPath)) ?? { accessKeys: {} };
    await conn.serial(async (raw) => {
      for (const r of (await raw.runAndReadAll('SELECT * FROM organizations')).getRowObjectsJS()) {
        const org = {
          organizationId: String(r['organization_id']),
          managementAccountId: String(r['management_account_id']),
          createdAtMs: Number(r['created_at_ms']),
        };
        store.#organizations.set(org.organizationId, org);
      }
      for (const r of (await raw.runAndReadAll('SELECT * FROM accounts')).getRowObjectsJS()) {
        const account: Account = {
          accountId: String(r['account_id']),
          name: String(r['name']),
          isAdmin: Boolean(r['is_admin']),
          createdAtMs: Number(r['created_at_ms']),
          ...(r['organization_id'] ? { organizationId: String(r['organization_id']) } : {}),
        };
        store.#accounts.set(account.accountId, account);
      }
      for (const r of (await raw.runAndReadAll('SELECT * FROM users')).getRowObjectsJS()) {
        const user = {
          accountId: String(r['account_id']),
          userName: String(r['user_name']),
          userId: String(r['user_id']),
          createdAtMs: Number(r['created_at_ms']),
        };
        store.#users.set(`${user.accountId}/${user.userName}`, user);
      }
      for (const r of (await raw.runAndReadAll('SELECT * FROM access_keys')).getRowObjectsJS()) {
        const id = String(r['access_key_id']);
        const secret = secrets.accessKeys[id];
        // A key whose secret file entry is missing cannot sign anything; it stays unusable.
        if (secret === undefined) continue;
        store.#keys.set(id, {
          accessKeyId: id,
          secretAccessKey: secret,
          accountId: String(r['account_id']),
          status: r['status'] === 'Inactive' ? 'Inactive' : 'Active',
          createdAtMs: Number(r['created_at_ms']),
          ...(r['user_name'] ? { userName: String(r['user_name']) } : {}),
        });
      }
    });
    return store;
  }

  /** The signing secret and principal of an active access key. */
  resolveAccessKey(accessKeyId: string): { secretAccessKey: string; principal: Principal } | undefined {
    const key = this.#keys.get(accessKeyId);
    if (key === undefined || key.status !== 'Active') return undefined;
    const account = this.#accounts.get(key.accountId);
    if (account === undefined) return undefined;
    if (key.userName === undefined) {
      return { secretAccessKey: key.secretAccessKey, principal: rootPrincipal(account.accountId, account.isAdmin) };
    }
    const user = this.#users.get(`${key.accountId}/${key.userName}`);
    if (user === undefined) return undefined;
    return {
      secretAccessKey: key.secretAccessKey,
      principal: userPrincipal(account.accountId, user.userName, user.userId, account.isAdmin),
    };
  }

  account(accountId: string): Account | undefined {
    return this.#accounts.get(accountId);
  }

  accounts(): Account[] {
    return [...this.#accounts.values()].sort((a, b) => a.accountId.localeCompare(b.accountId));
  }

  organization(organizationId: string): Organization | undefined {
    return this.#organizations.get(organizationId);
  }

  /** The organization an account belongs to, if any. */
  organizationOf(accountId: string): Organization | undefined {
    const orgId = this.#accounts.get(accountId)?.organizationId;
    return orgId === undefined ? undefined : this.#organizations.get(orgId);
  }

  membersOf(organizationId: string): Account[] {
    return this.accounts().filter((a) => a.organizationId === organizationId);
  }

  users(accountId: string): User[] {
    return [...this.#users.values()].filter((u) => u.accountId === accountId);
  }

  accessKeys(accountId: string): Omit<AccessKey, 'secretAccessKey'>[] {
    return [...this.#keys.values()]
      .filter((k) => k.accountId === accountId)
      .map(({ secretAccessKey: _secret, ...rest }) => rest);
  }

  createAccount(input: { accountId?: string; name?: string; isAdmin?: boolean }): Promise<Account> {
    return this.#changes.run(async () => {
      const accountId = input.accountId ?? this.#newAccountId();
      if (!/^\d{12}$/.test(accountId)) {
        throw new ServiceError('ValidationException', `Account id '${accountId}' must be 12 digits.`);
      }
      if (this.#accounts.has(accountId)) {
        throw new ServiceError('EntityAlreadyExistsException', `Account ${accountId} already exists.`);
      }
      if (input.name !== undefined && !ACCOUNT_NAME.test(input.name)) {
        throw new ServiceError(
          'ValidationException',
          'An account name is 1-50 printable ASCII characters (space to ~), as AWS Organizations names accounts.',
        );
      }
      const account: Account = {
        accountId,
        name: input.name ?? `account-${accountId}`,
        isAdmin: input.isAdmin ?? false,
        createdAtMs: this.#clock.now(),
      };
      await this.#conn.withTransaction((raw) =>
        raw.run('INSERT INTO accounts VALUES ($1, $2, NULL, $3, $4)', [
          account.accountId,
          account.name,
          account.isAdmin,
          account.createdAtMs,
        ]),
      );
      this.#accounts.set(accountId, account);
      return account;
    });
  }

  createUser(accountId: string, userName: string): Promise<User> {
    return this.#changes.run(async () => {
      this.#requireAccount(accountId);
      if (!USER_NAME.test(userName)) {
        throw new ServiceError(
          'ValidationException',
          `User name '${userName}' must be 1-64 letters, digits or the characters _+=,.@-`,
        );
      }
      if (this.#users.has(`${accountId}/${userName}`)) {
        throw new ServiceError(
          'EntityAlreadyExistsException',
          `User ${userName} already exists in account ${accountId}.`,
        );
      }
      const user: User = {
        accountId,
        userName,
        userId: `AIDA${this.#ids.randomString(17, UPPER_ALNUM)}`,
        createdAtMs: this.#clock.now(),
      };
      await this.#conn.withTransaction((raw) =>
        raw.run('INSERT INTO users VALUES ($1, $2, $3, $4)', [accountId, userName, user.userId, user.createdAtMs]),
      );
      this.#users.set(`${accountId}/${userName}`, user);
      return user;
    });
  }

  /** A new access key for the account's root (no user name) or one of its users. */
  createAccessKey(
    accountId: string,
    userName?: string,
    fixed?: { accessKeyId: string; secretAccessKey: string },
  ): Promise<AccessKey> {
    return this.#changes.run(async () => {
      this.#requireAccount(accountId);
      if (userName !== undefined && !this.#users.has(`${accountId}/${userName}`)) {
        throw new ServiceError('NoSuchEntityException', `User ${userName} does not exist in account ${accountId}.`);
      }
      const key: AccessKey = {
        accessKeyId: fixed?.accessKeyId ?? `AKIA${this.#ids.randomString(16, UPPER_ALNUM)}`,
        secretAccessKey: fixed?.secretAccessKey ?? this.#ids.randomString(40, SECRET_ALPHABET),
        accountId,
        status: 'Active',
        createdAtMs: this.#clock.now(),
        ...(userName !== undefined ? { userName } : {}),
      };
      if (this.#keys.has(key.accessKeyId)) {
        throw new ServiceError('EntityAlreadyExistsException', `Access key ${key.accessKeyId} already exists.`);
      }
      // Secret first: a crash between the two leaves an unused secret, never a key without one.
      await this.#writeSecrets(key);
      await this.#conn.withTransaction((raw) =>
        raw.run('INSERT INTO access_keys VALUES ($1, $2, $3, $4, $5)', [
          key.accessKeyId,
          accountId,
          userName ?? null,
          key.status,
          key.createdAtMs,
        ]),
      );
      this.#keys.set(key.accessKeyId, key);
      return key;
    });
  }

  deleteAccessKey(accessKeyId: string): Promise<void> {
    return this.#changes.run(async () => {
      if (!this.#keys.has(accessKeyId)) {
        throw new ServiceError('NoSuchEntityException', `Access key ${accessKeyId} does not exist.`);
      }
      await this.#conn.withTransaction((raw) =>
        raw.run('DELETE FROM access_keys WHERE access_key_id = $1', [accessKeyId]),
      );
      this.#keys.delete(accessKeyId);
      await this.#writeSecrets();
    });
  }

  /** Makes `managementAccountId` the management account of a new organization. */
  createOrganization(managementAccountId: string): Promise<Organization> {
    return this.#changes.run(async () => {
      const account = this.#requireAccount(managementAccountId);
      if (account.organizationId !== undefined) {
        throw new ServiceError(
          'EntityAlreadyExistsException',
          `Account ${managementAccountId} already belongs to organization ${account.organizationId}.`,
        );
      }
      const org: Organization = {
        organizationId: `o-${this.#ids.randomString(10, 'abcdefghijklmnopqrstuvwxyz0123456789')}`,
        managementAccountId,
        createdAtMs: this.#clock.now(),
      };
      await this.#conn.withTransaction(async (raw) => {
        await raw.run('INSERT INTO organizations VALUES ($1, $2, $3)', [
          org.organizationId,
          managementAccountId,
          org.createdAtMs,
        ]);
        await raw.run('UPDATE accounts SET organization_id = $1 WHERE account_id = $2', [
          org.organizationId,
          managementAccountId,
        ]);
      });
      this.#organizations.set(org.organizationId, org);
      account.organizationId = org.organizationId;
      return org;
    });
  }

  addAccountToOrganization(organizationId: string, accountId: string): Promise<void> {
    return this.#changes.run(async () => {
      if (!this.#organizations.has(organizationId)) {
        throw new ServiceError('NoSuchEntityException', `Organization ${organizationId} does not exist.`);
      }
      const account = this.#requireAccount(accountId);
      if (account.organizationId !== undefined) {
        throw new ServiceError(
          'EntityAlreadyExistsException',
          `Account ${accountId} already belongs to organization ${account.organizationId}.`,
        );
      }
      await this.#conn.withTransaction((raw) =>
        raw.run('UPDATE accounts SET organization_id = $1 WHERE account_id = $2', [organizationId, accountId]),
      );
      account.organizationId = organizationId;
    });
  }

  #requireAccount(accountId: string): Account {
    const account = this.#accounts.get(accountId);
    if (account === undefined) throw new ServiceError('NoSuchEntityException', `Account ${accountId} does not exist.`);
    return account;
  }

  #newAccountId(): string {
    for (;;) {
      const id = this.#ids.randomString(12, DIGITS);
      if (!id.startsWith('0') && !this.#accounts.has(id)) return id;
    }
  }

  /** Rewrites the secrets file from memory, plus `adding` (a key about to be stored); only inside `#changes`. */
  async #writeSecrets(adding?: AccessKey): Promise<void> {
    const keys = adding === undefined ? [...this.#keys.values()] : [...this.#keys.values(), adding];
    const file: SecretsFile = { accessKeys: Object.fromEntries(keys.map((k) => [k.accessKeyId, k.secretAccessKey])) };
    await writeSecretFile(this.#secretsPath, file);
  }
}
