import type { Principal } from './principal.ts';

/** Who is calling and where: the verified principal and the Region of its credential scope. */
export interface Caller {
  readonly principal: Principal;
  readonly region: string;
  readonly accessKeyId: string;
}
