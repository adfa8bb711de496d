/** Deletes a map's oldest entries (first inserted) until it holds at most `kept`: a bounded cache or history. */
export function dropOldest<K, V>(map: Map<K, V>, kept: number): void {
  for (const key of map.keys()) {
    if (map.size <= kept) return;
    map.delete(key);
  }
}
