/** Small statistics for benchmarks: every figure is a median with its spread over repeated rounds. */

export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index];
}

export const median = (values: readonly number[]) => quantile(values, 0.5);

/** "median (min–max)" of per-round figures. */
export function spread(values: readonly number[], digits = 2): string {
  const fmt = (v: number) => v.toFixed(digits);
  return `${fmt(median(values))} (${fmt(Math.min(...values))}–${fmt(Math.max(...values))})`;
}

/** Times `fn` once per iteration, in microseconds. */
export async function sample(fn: () => unknown, iterations: number): Promise<number[]> {
  const out: number[] = new Array(iterations);
  for (let i = 0; i < iterations; i++) {
    const start = process.hrtime.bigint();
    await fn();
    out[i] = Number(process.hrtime.bigint() - start) / 1000;
  }
  return out;
}

/** Per-round medians and p99s of each case, in microseconds. */
export type InterleavedResult = Record<string, { medians: number[]; p99s: number[] }>;

/**
 * Times the cases call by call, alternating, in rounds (so drift and noise on a shared machine hit
 * them alike), after `warmup` calls of each. Stdout is silenced meanwhile: the handlers' log lines
 * are still formatted, as Lambda formats them, but go nowhere.
 */
export async function interleaved(
  cases: Readonly<Record<string, () => unknown>>,
  options: { readonly rounds: number; readonly iterations: number; readonly warmup: number },
): Promise<InterleavedResult> {
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (() => true) as typeof process.stdout.write;
  const result: InterleavedResult = {};
  try {
    for (const fn of Object.values(cases)) await sample(fn, options.warmup);
    const entries = Object.entries(cases);
    for (let round = 0; round < options.rounds; round++) {
      const times: number[][] = entries.map(() => []);
      for (let i = 0; i < options.iterations; i++) {
        for (let c = 0; c < entries.length; c++) times[c].push(...(await sample(entries[c][1], 1)));
      }
      entries.forEach(([name], c) => {
        result[name] ??= { medians: [], p99s: [] };
        result[name].medians.push(median(times[c]));
        result[name].p99s.push(quantile(times[c], 0.99));
      });
    }
  } finally {
    process.stdout.write = write;
  }
  return result;
}

/** A row of the printed table. */
export interface BenchRow {
  readonly bench: string;
  readonly case: string;
  readonly measure: string;
  readonly value: string;
  readonly floor?: string;
  readonly ratio?: string;
  readonly goal?: string;
  readonly met?: boolean;
}
