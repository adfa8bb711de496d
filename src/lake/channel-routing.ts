/**
 * How ActivityAuditLog records find their stores. Only PutAuditEvents writes them (the ingest API's routing
 * header never carries this member), and it writes into each record's routing header the ids of the stores
 * its channel delivers to when the record is logged; the lake consumer gives such a record only to those
 * stores (and only if their selectors select ActivityAuditLog). A record of that category without the member
 * goes to no store: stores are fed by channels alone.
 */
export const CHANNEL_DESTINATIONS_MEMBER = 'channelDestinations';

export function channelDelivers(header: object, storeId: string): boolean {
  const ids = (header as Record<string, unknown>)[CHANNEL_DESTINATIONS_MEMBER];
  return Array.isArray(ids) && ids.includes(storeId);
}
