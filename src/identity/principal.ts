/** Who made a request: the account root or an IAM-style user, as resolved from an access key. */
export interface Principal {
  readonly accountId: string;
  readonly type: 'Root' | 'IAMUser';
  /** The IAM user's name; absent for the root. */
  readonly userName?: string;
  /** `AIDA…` for users, the account id for the root (as AWS reports it). */
  readonly principalId: string;
  readonly arn: string;
  /** Principals of the admin account may call the admin API. */
  readonly isAdmin: boolean;
}

export function rootPrincipal(accountId: string, isAdmin: boolean): Principal {
  return { accountId, type: 'Root', principalId: accountId, arn: `arn:aws:iam::${accountId}:root`, isAdmin };
}

export function userPrincipal(accountId: string, userName: string, userId: string, isAdmin: boolean): Principal {
  return {
    accountId,
    type: 'IAMUser',
    userName,
    principalId: userId,
    arn: `arn:aws:iam::${accountId}:user/${userName}`,
    isAdmin,
  };
}
