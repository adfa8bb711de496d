/** A value made on the first `get()`: loading what makes it is deferred until something needs it. */
export interface FirstUse<T> {
  /** The value, made on the first call. A make that failed is not kept: the next call tries again. */
  get(): Promise<T>;
  /** Destroys the value if it was made. */
  close(): void;
}

export function firstUse<T>(make: () => Promise<T>, destroy: (value: T) => void): FirstUse<T> {
  let made: Promise<T> | undefined;
  return {
    get: () => {
      made ??= make().catch((error: unknown) => {
        made = undefined;
        throw error;
      });
      return made;
    },
    // A value that failed to be made has nothing to destroy.
    close: () => {
      made?.then(destroy).catch(() => undefined);
    },
  };
}
