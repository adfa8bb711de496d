/**
 * CloudTrail records request members with their first letter lowered (`S3BucketName` → `s3BucketName`,
 * `LookupAttributes[].AttributeKey` → `lookupAttributes[].attributeKey`), as the real records show.
 * Dates become ISO-8601 text.
 */
export function lowerCamelMembers(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(lowerCamelMembers);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k.charAt(0).toLowerCase() + k.slice(1)] = lowerCamelMembers(v);
    return out;
  }
  return value;
}
