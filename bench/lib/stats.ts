/** Percentiles of a sample, and a line that puts a figure beside its target. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

export function median(values: readonly number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

export function report(label: string, value: number, unit: string, target: string, ok: boolean): string {
  const figure = value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(2);
  return `${label.padEnd(52)} ${figure.padStart(12)} ${unit.padEnd(10)} target ${target.padEnd(14)} ${ok ? 'MET' : 'MISSED'}`;
}

/** Resident set size of a process, from /proc (Linux). */
export async function rssBytes(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return Number(kb) * 1024;
}

/**
 * Samples a running counter once a second for `seconds` seconds, after a warm-up (at whose end
 * `afterWarmup` runs, to reset other measurements): the per-second deltas.
 */
export async function perSecondCounts(
  counter: () => number,
  seconds: number,
  afterWarmup: () => void = () => undefined,
  warmupMs = 2000,
): Promise<number[]> {
  const { setTimeout: sleep } = await import('node:timers/promises');
  await sleep(warmupMs);
  afterWarmup();
  const counts: number[] = [];
  for (let s = 0; s < seconds; s++) {
    const before = counter();
    await sleep(1000);
    counts.push(counter() - before);
  }
  return counts;
}
