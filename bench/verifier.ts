/**
 * Bench 1: the verifier's work per request, warm, in-process, network replaced by an in-process
 * transport. Ratios against floors measured in the same process, call by call.
 */
import { buildHandlerBundles } from '../scripts/handler-bundles';
import { runChild } from './child';
import { median, spread, type BenchRow } from './stats';

type ChildResult = { bodyBytes: number; result: Record<string, { medians: number[]; p99s: number[] }> };
type ForgeryResult = { maxBodyBytes: number; oversizeBytes: number; secrets: number; result: Record<string, { medians: number[]; p99s: number[] }> };

const VARIANTS = {
  full: {},
  'no logs': { POWERTOOLS_LOG_LEVEL: 'SILENT' },
  'no metrics': { POWERTOOLS_METRICS_DISABLED: 'true' },
} as const;

export async function runVerifierBench(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const [label, bytes] of [
    ['typical event', 0],
    ['200 KiB body', 200 * 1024],
  ] as const) {
    const runs: Record<string, ChildResult> = {};
    for (const [variant, env] of Object.entries(VARIANTS)) {
      runs[variant] = await runChild<ChildResult>('verifier-child.ts', {
        ...env,
        BENCH_BODY_BYTES: String(bytes),
        BENCH_ROUNDS: '5',
        BENCH_ITERATIONS: bytes ? '400' : '1500',
      });
    }
    const full = runs.full.result;
    const ratio = (a: string, b: string) => full[a].medians.map((v, i) => v / full[b].medians[i]);
    const ratioA = ratio('oursA', 'floorA');
    const ratioB = ratio('oursB', 'floorB');
    const kb = `${label} (${runs.full.bodyBytes} B)`;
    rows.push(
      {
        bench: 'verifier',
        case: kb,
        measure: 'a. verification median µs',
        value: spread(full.oursA.medians, 1),
        floor: spread(full.floorA.medians, 1),
        ratio: spread(ratioA),
        goal: '≤ 2x',
        met: median(ratioA) <= 2,
      },
      {
        bench: 'verifier',
        case: kb,
        measure: 'a. verification p99 µs',
        value: spread(full.oursA.p99s, 1),
        floor: spread(full.floorA.p99s, 1),
        ratio: spread(full.oursA.p99s.map((v, i) => v / full.floorA.p99s[i])),
      },
      {
        bench: 'verifier',
        case: kb,
        measure: 'b. whole handler median µs',
        value: spread(full.oursB.medians, 1),
        floor: spread(full.floorB.medians, 1),
        ratio: spread(ratioB),
        goal: '≤ 1.5x',
        met: median(ratioB) <= 1.5,
      },
      {
        bench: 'verifier',
        case: kb,
        measure: 'b. whole handler p99 µs',
        value: spread(full.oursB.p99s, 1),
        floor: spread(full.floorB.p99s, 1),
        ratio: spread(full.oursB.p99s.map((v, i) => v / full.floorB.p99s[i])),
      },
      { bench: 'verifier', case: kb, measure: 'b. floor with our 3 message attributes µs', value: spread(full.floorBWithAttributes.medians, 1) },
    );
    const cost = (variant: string) => {
      const r = runs[variant].result;
      // Each variant's own floor normalises away the difference between processes.
      return median(full.oursB.medians.map((v, i) => v / full.floorB.medians[i])) * median(r.floorB.medians) - median(r.oursB.medians);
    };
    const show = (v: number) => (v < 1 ? `≈0 (within noise: ${v.toFixed(1)})` : v.toFixed(1));
    rows.push(
      { bench: 'verifier', case: kb, measure: 'b. spent on logging (µs, est.)', value: show(cost('no logs')) },
      { bench: 'verifier', case: kb, measure: 'b. spent on metrics (µs, est.)', value: show(cost('no metrics')) },
    );
  }
  rows.push(...(await runForgeryBench()));
  return rows;
}

/**
 * c. What a forgery costs beside an authentic delivery of maxBodyBytes (the floor), on the
 * deployed bundle invoked as Lambda invokes it (verifier-forgery-child.ts), with one secret and
 * with two (a rotation). Goal: the worst forgery at most 2x the floor.
 */
export async function runForgeryBench(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  await buildHandlerBundles();
  for (const secrets of [1, 2]) {
    const run = await runChild<ForgeryResult>('verifier-forgery-child.ts', { BENCH_SECRETS: String(secrets), BENCH_ROUNDS: '5', BENCH_ITERATIONS: '30' });
    const r = run.result;
    const ms = (values: number[]) => values.map((v) => v / 1000);
    const ratio = (name: string) => r[name].medians.map((v, i) => v / r.authenticMax.medians[i]);
    const c = `deployed bundle, ${secrets} secret${secrets > 1 ? 's (rotation)' : ''}`;
    const floor = spread(ms(r.authenticMax.medians));
    rows.push(
      {
        bench: 'verifier',
        case: c,
        measure: 'c. authentic typical event, median ms',
        value: spread(ms(r.authenticTypical.medians)),
        floor,
        ratio: spread(ratio('authenticTypical')),
      },
      { bench: 'verifier', case: c, measure: `c. authentic maxBodyBytes (${run.maxBodyBytes} B) = floor, median ms`, value: floor },
      {
        bench: 'verifier',
        case: c,
        measure: `c. forgery: ${run.maxBodyBytes} B not UTF-8 as base64, 8 t, 16 v1, median ms`,
        value: spread(ms(r.forgedMax.medians)),
        floor,
        ratio: spread(ratio('forgedMax')),
        goal: '≤ 2x',
        met: median(ratio('forgedMax')) <= 2,
      },
      {
        bench: 'verifier',
        case: c,
        measure: `c. forgery: ${run.oversizeBytes} B not UTF-8 as base64, 8 t, 16 v1, median ms`,
        value: spread(ms(r.forgedOversize.medians)),
        floor,
        ratio: spread(ratio('forgedOversize')),
        goal: '≤ 2x',
        met: median(ratio('forgedOversize')) <= 2,
      },
    );
  }
  return rows;
}
