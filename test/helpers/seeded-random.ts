/**
 * mulberry32: a small seeded generator, so an input a test drew at random can be drawn again from its seed.
 * `seededUint32` gives 32-bit integers, `seededRandom` numbers in [0, 1) from the same sequence.
 */
export function seededUint32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
}

export function seededRandom(seed: number): () => number {
  const next = seededUint32(seed);
  return () => next() / 4294967296;
}
