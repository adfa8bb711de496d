/**
 * Sets a member under a name a caller chose, always as the object's own member: an assignment to
 * `__proto__` would replace the object's prototype instead (and the member would vanish from the record).
 */
export function ownMember<T>(target: Record<string | number, unknown>, name: string | number, value: T): T {
  Object.defineProperty(target, name, { value, writable: true, enumerable: true, configurable: true });
  return value;
}
