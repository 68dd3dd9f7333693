/**
 * Bench 6: burst capacity. A simulation, not a load test: it replays a burst of N events through
 * the processor's default settings (batch size, maximum concurrency, timeouts) with per-event
 * costs measured on this machine, and reports how long events wait in the queue and how many
 * media URLs would die before their download starts.
 *
 * Inputs (measured in the same `npm run bench`, or read from bench/RESULTS.md when run alone):
 * - processor milliseconds per event without media (load bench);
 * - streaming throughput of the processor's media code at 10 MiB, 100 MiB and 1 GiB (media bench),
 *   fitted as `time = a + size / b` for one transfer, with the 1 GiB figure as what one execution
 *   environment moves in total when its batch downloads several files at once;
 * - processor cold start (cold-start bench), paid once per execution environment.
 * Those throughputs are over loopback; FaceSign's media host and S3 from Lambda may be slower, so
 * every scenario also runs with the throughput divided by 4 and by 10.
 *
 * Model: all N events are queued at t = 0 (the worst case for queue age); each media URL was made
 * `DELIVERY_DELAY_S` before that (FaceSign's own delay eats into `URL_LIFE_S`). Lambda's SQS
 * poller starts 5 concurrent batches and adds up to 300 a minute, capped by the event source's
 * maximum concurrency (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html).
 * A batch's records run in parallel; it takes as long as its slowest record, or as long as its
 * environment needs to move all its bytes, whichever is longer. A media URL "expires" when its
 * batch starts after it died (the processor then dead-letters it as `media_url_expired`).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  ASSUMED_DELIVERY_DELAY_SECONDS,
  FAILURE_RESERVE_SECONDS,
  MAX_RETRY_DELAY_SECONDS,
  MEDIA_URL_LIFETIME_SECONDS,
  queueVisibilityTimeoutSeconds,
} from '../contract/time-budget';
import { LOCAL_SETTINGS } from '../contract/handler-settings';
import { SETTINGS } from '../contract/settings';
import type { BenchRow } from './stats';

const MIB = 1024 ** 2;
/** Media URL life, from FaceSign's document. */
export const URL_LIFE_S = MEDIA_URL_LIFETIME_SECONDS;
/** Assumed time between FaceSign making a media URL and our queue having the event. */
export const DELIVERY_DELAY_S = ASSUMED_DELIVERY_DELAY_SECONDS;

/** The media mix of the burst: equal thirds of a selfie, a document photo and a session video. */
export const MEDIA_MIX: ReadonlyArray<{ type: string; bytes: number }> = [
  { type: 'media.user_photo', bytes: 1 * MIB },
  { type: 'media.document_photo', bytes: 3 * MIB },
  { type: 'media.user_video', bytes: 50 * MIB },
];

/** Per-event costs the simulation runs on. */
export interface MeasuredCosts {
  /** Processor milliseconds per event without media. */
  readonly processorMsPerEvent: number;
  /** Fixed seconds of one media transfer (`a`). */
  readonly transferFixedS: number;
  /** MiB/s of one transfer beyond the fixed part (`b`). */
  readonly streamMiBps: number;
  /** MiB/s one execution environment moves in total. */
  readonly environmentMiBps: number;
  /** Processor cold start, ms. */
  readonly coldStartMs: number;
  readonly source: string;
}

/** The settings the simulation runs at (the construct's defaults unless told). */
export interface BurstSettings {
  readonly batchSize: number;
  readonly maxConcurrency: number;
}

export const DEFAULT_SETTINGS: BurstSettings = {
  batchSize: SETTINGS.processorBatchSize.default,
  maxConcurrency: SETTINGS.processorMaxConcurrency.default,
};

export interface BurstResult {
  readonly events: number;
  readonly media: number;
  readonly drainS: number;
  readonly peakQueueAgeS: number;
  readonly expired: number;
  /** Least time a media URL had left when its download started, s. */
  readonly minUrlLeftS: number;
}

let rowsOfThisRun: readonly BenchRow[] = [];

/** `npm run bench` hands over the rows measured so far, so that a full run simulates on its own figures. */
export function provideRowsOfThisRun(rows: readonly BenchRow[]): void {
  rowsOfThisRun = rows;
}

/**
 * The per-event costs: from the load, media and cold-start rows of this run when `npm run bench`
 * measured them, otherwise from bench/RESULTS.md. Throws, naming the figure, when one is missing.
 */
export function costsFromResults(file = path.join(__dirname, 'RESULTS.md')): MeasuredCosts {
  const needed = ['load', 'media', 'cold start'];
  if (needed.every((bench) => rowsOfThisRun.some((r) => r.bench === bench))) return costsFrom(rowsOfThisRun, 'this run');
  const text = readFileSync(file, 'utf8');
  const rows: BenchRow[] = [];
  for (const line of text.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length > 5) rows.push({ bench: cells[1], case: cells[2], measure: cells[3], value: cells[4] });
  }
  const measured = text.match(/^Measured (\S+) on .*?commit (\w+)/m);
  return costsFrom(rows, `bench/RESULTS.md (${measured ? `${measured[1]}, commit ${measured[2]}` : 'undated'})`);
}

function costsFrom(rows: readonly BenchRow[], source: string): MeasuredCosts {
  const cell = (bench: string, kase: RegExp, measure: RegExp): string => {
    const row = rows.find((r) => r.bench === bench && kase.test(r.case) && measure.test(r.measure));
    if (!row) throw new Error(`no ${bench} / ${kase} / ${measure} figure; run npm run bench first`);
    return row.value;
  };
  const first = (value: string) => Number(value.split(/[ /(]/).filter(Boolean)[0]);
  const processorMs = Number(cell('load', /senders/, /processor ms per event/).split('/')[1]);
  const at10 = first(cell('media', /^10 MiB$/, /^throughput MiB\/s$/));
  const at100 = first(cell('media', /^100 MiB$/, /^throughput MiB\/s$/));
  const at1g = first(cell('media', /^1 GiB$/, /^throughput MiB\/s$/));
  const coldStart = first(cell('cold start', /^processor$/, /^process start → first answer/));
  // time(size) = a + size / b through the 10 MiB and 100 MiB points.
  const t10 = 10 / at10;
  const t100 = 100 / at100;
  const b = 90 / (t100 - t10);
  const a = Math.max(0, t10 - 10 / b);
  const values = [processorMs, at10, at100, at1g, coldStart, a, b];
  if (values.some((v) => !Number.isFinite(v) || v < 0) || b <= 0) throw new Error(`the measured figures do not parse: ${values.join(', ')}`);
  return { processorMsPerEvent: processorMs, transferFixedS: a, streamMiBps: b, environmentMiBps: at1g, coldStartMs: coldStart, source };
}

/** The costs with the media throughput divided by `slowdown`. */
export function slower(costs: MeasuredCosts, slowdown: number): MeasuredCosts {
  return { ...costs, streamMiBps: costs.streamMiBps / slowdown, environmentMiBps: costs.environmentMiBps / slowdown };
}

/** Runs a burst of `events` events, `mediaShare` of them media in {@link MEDIA_MIX} order. */
export function simulateBurst(events: number, mediaShare: number, costs: MeasuredCosts, settings: BurstSettings = DEFAULT_SETTINGS): BurstResult {
  const urlDiesAt = URL_LIFE_S - DELIVERY_DELAY_S;
  const mediaEvery = mediaShare > 0 ? 1 / mediaShare : Infinity;
  let nextMedia = 0;
  const sizes: number[] = new Array(events);
  let media = 0;
  for (let i = 0; i < events; i++) {
    if (i >= nextMedia && mediaShare > 0) {
      sizes[i] = MEDIA_MIX[media % MEDIA_MIX.length].bytes;
      media++;
      nextMedia += mediaEvery;
    } else {
      sizes[i] = 0;
    }
  }

  // Each environment is free at some time; the poller may run at most `allowed(t)` of them.
  const free: number[] = [];
  const allowed = (t: number) => Math.min(settings.maxConcurrency, Math.floor(5 + (300 * t) / 60));
  let head = 0;
  let peakQueueAgeS = 0;
  let expired = 0;
  let minUrlLeftS = Infinity;
  let drainS = 0;
  while (head < events) {
    // The earliest moment an environment can take a batch.
    let pick = -1;
    let start = Infinity;
    for (let e = 0; e < free.length; e++) {
      if (free[e] < start) {
        start = free[e];
        pick = e;
      }
    }
    if (free.length < settings.maxConcurrency) {
      // A new environment starts when the poller's ramp allows one more.
      let t = 0;
      while (allowed(t) <= free.length) t += 1;
      if (t < start) {
        start = t;
        pick = free.length;
        free.push(t + costs.coldStartMs / 1000);
        start = free[pick];
      }
    }
    const batch = sizes.slice(head, head + settings.batchSize);
    head += batch.length;
    peakQueueAgeS = Math.max(peakQueueAgeS, start);
    let slowest = 0;
    let bytes = 0;
    for (const size of batch) {
      let seconds = costs.processorMsPerEvent / 1000;
      if (size > 0) {
        const left = urlDiesAt - start;
        minUrlLeftS = Math.min(minUrlLeftS, left);
        if (left <= 0) {
          expired++;
          continue;
        }
        seconds += costs.transferFixedS + size / MIB / costs.streamMiBps;
        bytes += size;
      }
      slowest = Math.max(slowest, seconds);
    }
    const duration = Math.max(slowest, costs.processorMsPerEvent / 1000 + bytes / MIB / costs.environmentMiBps);
    free[pick] = start + duration;
    drainS = Math.max(drainS, free[pick]);
  }
  return { events, media, drainS, peakQueueAgeS, expired, minUrlLeftS: Number.isFinite(minUrlLeftS) ? minUrlLeftS : URL_LIFE_S };
}

/** The largest burst (in steps of 1,000 events) that loses no media URL, up to `limit`. */
export function safeBurst(mediaShare: number, costs: MeasuredCosts, settings: BurstSettings = DEFAULT_SETTINGS, limit = 1_000_000): number {
  let low = 0;
  let high = limit;
  while (high - low > 1000) {
    const mid = Math.round((low + high) / 2000) * 1000;
    if (simulateBurst(mid, mediaShare, costs, settings).expired === 0) low = mid;
    else high = mid;
  }
  return low;
}

/** The timeout budget at the default settings, in seconds (also written in docs/operations.md). */
export function timeoutBudget() {
  const processorTimeout = SETTINGS.processorTimeout.default;
  const visibility = queueVisibilityTimeoutSeconds(processorTimeout);
  const attemptCap = Math.min(SETTINGS.mediaDownloadTimeout.default, processorTimeout - FAILURE_RESERVE_SECONDS);
  let backoff = 0;
  for (let attempt = 1; attempt < SETTINGS.maxReceiveCount.default; attempt++) {
    backoff += Math.min(MAX_RETRY_DELAY_SECONDS, LOCAL_SETTINGS.retryBaseDelaySeconds.default * 2 ** (attempt - 1) * 1.2);
  }
  return {
    processorTimeout,
    visibility,
    attemptCap,
    transientWorstCase: SETTINGS.maxReceiveCount.default * attemptCap + backoff,
    crashThenSuccess: visibility + attemptCap,
  };
}

export async function runBurstBench(): Promise<BenchRow[]> {
  const measured = costsFromResults();
  const rows: BenchRow[] = [];
  const row = (kase: string, measure: string, value: string, goal?: string, met?: boolean) =>
    rows.push({ bench: 'burst', case: kase, measure, value, goal, met });
  const s = DEFAULT_SETTINGS;
  row(
    'inputs',
    'processor ms per event / transfer time = a + size ÷ b / environment MiB/s / cold start ms',
    `${measured.processorMsPerEvent.toFixed(1)} / ${measured.transferFixedS.toFixed(2)} s + size ÷ ${measured.streamMiBps.toFixed(0)} MiB/s / ${measured.environmentMiBps.toFixed(0)} / ${measured.coldStartMs.toFixed(0)}, from ${measured.source}`,
  );
  row(
    'inputs',
    'settings',
    `batch ${s.batchSize}, max concurrency ${s.maxConcurrency}; media mix ${MEDIA_MIX.map((m) => `${m.type} ${m.bytes / MIB} MiB`).join(', ')} in equal thirds; URLs made ${DELIVERY_DELAY_S} s before the burst is queued`,
  );

  for (const slowdown of [1, 4, 10]) {
    const costs = slower(measured, slowdown);
    const label = slowdown === 1 ? 'measured throughput' : `throughput ÷ ${slowdown}`;
    for (const [events, share] of [
      [10_000, 0.5],
      [10_000, 0],
      [50_000, 0.5],
    ] as const) {
      const r = simulateBurst(events, share, costs);
      const kase = `${events.toLocaleString('en-US')} events, ${share * 100}% media, ${label}`;
      row(kase, 'drain s / peak queue age s', `${r.drainS.toFixed(0)} / ${r.peakQueueAgeS.toFixed(0)}`);
      // The goal: a burst of 10,000 events, half media, loses nothing at the defaults, even at a tenth of the measured throughput.
      const goal = events === 10_000 && share === 0.5;
      row(
        kase,
        'media URLs expired before download (least URL time left, s)',
        `${r.expired} of ${r.media} (${r.minUrlLeftS.toFixed(0)})`,
        goal ? '0' : undefined,
        goal ? r.expired === 0 : undefined,
      );
    }
    row(`safe envelope, ${label}`, 'largest burst, half media, that loses no URL (1,000s)', safeBurst(0.5, costs).toLocaleString('en-US'));
  }
  const b = timeoutBudget();
  row('timeout budget', 'processor timeout / queue visibility s', `${b.processorTimeout} / ${b.visibility}`, '≤ 300 visibility', b.visibility <= 300);
  row(
    'timeout budget',
    'crash, then a full-length retry, s',
    `${b.crashThenSuccess}`,
    `≤ ${URL_LIFE_S - DELIVERY_DELAY_S}`,
    b.crashThenSuccess <= URL_LIFE_S - DELIVERY_DELAY_S,
  );
  row(
    'timeout budget',
    `${SETTINGS.maxReceiveCount.default} attempts each cut at ${b.attemptCap} s, with +20% backoff, s`,
    `${b.transientWorstCase.toFixed(0)}`,
    `≤ ${URL_LIFE_S - DELIVERY_DELAY_S}`,
    b.transientWorstCase <= URL_LIFE_S - DELIVERY_DELAY_S,
  );
  for (const slowdown of [1, 4, 10]) {
    const costs = slower(measured, slowdown);
    const fits = (SETTINGS.mediaDownloadTimeout.default - costs.transferFixedS) * costs.streamMiBps;
    row(
      'timeout budget',
      `largest file within the ${SETTINGS.mediaDownloadTimeout.default} s download cap, ${slowdown === 1 ? 'measured' : `÷ ${slowdown}`} (${costs.streamMiBps.toFixed(0)} MiB/s)`,
      `${fits >= 1024 ? `${(fits / 1024).toFixed(1)} GiB` : `${fits.toFixed(0)} MiB`} (cap ${SETTINGS.maxMediaBytes.default / 1024 ** 3} GiB)`,
    );
  }
  return rows;
}
