/**
 * The family of everything the recorder reports through `onError`. None is ever thrown into the host
 * application's request path; `instanceof RecorderError` tells them apart from the host's own errors.
 */
export class RecorderError extends Error {
  override readonly name: string = 'RecorderError';
}
