/**
 * The credentials opentrail signs with at moto: moto accepts any, and these are the ones its documentation
 * uses. Kept apart from moto-mode.ts so the configuration can default to them without loading the proxy.
 */
export const MOTO_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' } as const;
