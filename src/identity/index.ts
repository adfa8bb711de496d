export { type AdminIdentity, bootstrapAdmin } from './bootstrap-admin.ts';
export type { Caller } from './caller.ts';
export { type AccessKey, type Account, IdentityStore, type Organization, type User } from './identity-store.ts';
export { type Principal, rootPrincipal, userPrincipal } from './principal.ts';
export { readSecretFile, writeSecretFile } from './secret-file.ts';
