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
