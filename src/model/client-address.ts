/** An IPv4 address as node gives it for an IPv4 client of a dual-stack (IPv6) socket. */
const IPV4_MAPPED = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/**
 * A caller's address as CloudTrail writes it in sourceIPAddress. Listening on `::` (`--host ::`), node gives
 * an IPv4 caller's address as `::ffff:203.0.113.9`; AWS writes an IPv4 caller as `203.0.113.9`.
 */
export function recordedAddress(address: string): string {
  return IPV4_MAPPED.exec(address)?.[1] ?? address;
}
