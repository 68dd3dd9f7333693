/**
 * Bench 4: the local pipeline under load. N concurrent senders post signed events until a fixed
 * count is sent; then we wait for the processor and check that every event answered 200 reached
 * the archive. Also returns the measured function durations for the cost bench.
 */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { signFaceSignPayload } from '../contract/signature';
import { startLocalRuntime } from '../local/runtime';
import { buildSampleEvent } from '../local/sample-events';
import { median, quantile, type BenchRow } from './stats';

const SENDERS = Number(process.env.BENCH_SENDERS ?? 8);
const COUNT = Number(process.env.BENCH_EVENTS ?? 1500);

/** Per-invocation durations measured under load (ms), and events per processor batch. */
export interface MeasuredDurations {
  verifierMs: number;
  processorMsPerEvent: number;
  /** Bytes both functions wrote to their logs (JSON log lines and EMF metrics) per event. */
  logBytesPerEvent: number;
}

let last: { rows: BenchRow[]; durations: MeasuredDurations } | undefined;

/** The load figures of this run, measuring them if the load bench has not run yet. */
export async function measuredLoad(): Promise<{ rows: BenchRow[]; durations: MeasuredDurations }> {
  last ??= await runLoad();
  return last;
}

export async function runLoad(): Promise<{ rows: BenchRow[]; durations: MeasuredDurations }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'facesign-load-'));
  let logBytes = 0;
  const runtime = await startLocalRuntime({
    port: 0,
    dataDir,
    verifierConcurrency: 4,
    stack: { processorBatchSize: 10, processorMaxConcurrency: 4 },
    onLog: (_fn, line) => {
      logBytes += Buffer.byteLength(line) + 1;
    },
  });
  try {
    // Warm the functions up so the figures are for warm invocations.
    await send(runtime.webhookUrl, runtime.signingSecret, 'warmup', 20, 4);
    await drain(runtime, 'warmup', 20);
    runtime.durations.verifier.length = 0;
    runtime.durations.processor.length = 0;
    logBytes = 0;

    const sessionId = `load-${Date.now()}`;
    const started = performance.now();
    const { latencies, ok } = await send(runtime.webhookUrl, runtime.signingSecret, sessionId, COUNT, SENDERS);
    const sendSeconds = (performance.now() - started) / 1000;
    const archived = await drain(runtime, sessionId, ok);
    const drainedSeconds = (performance.now() - started) / 1000;
    const processorTotal = runtime.durations.processor.reduce((a, b) => a + b, 0);
    const durations = {
      verifierMs: median(runtime.durations.verifier),
      processorMsPerEvent: processorTotal / Math.max(1, archived),
      logBytesPerEvent: logBytes / Math.max(1, archived),
    };
    const rows: BenchRow[] = [
      { bench: 'load', case: `${SENDERS} senders, ${COUNT} events`, measure: 'requests per second', value: (COUNT / sendSeconds).toFixed(0) },
      {
        bench: 'load',
        case: `${SENDERS} senders, ${COUNT} events`,
        measure: 'latency p50 / p99 ms (client)',
        value: `${median(latencies).toFixed(1)} / ${quantile(latencies, 0.99).toFixed(1)}`,
      },
      {
        bench: 'load',
        case: `${SENDERS} senders, ${COUNT} events`,
        measure: 'answered 200 / archived',
        value: `${ok} / ${archived}`,
        goal: 'equal',
        met: ok === archived,
      },
      { bench: 'load', case: `${SENDERS} senders, ${COUNT} events`, measure: 'all archived after, s', value: drainedSeconds.toFixed(1) },
      {
        bench: 'load',
        case: `${SENDERS} senders, ${COUNT} events`,
        measure: 'verifier invocation median ms / processor ms per event',
        value: `${durations.verifierMs.toFixed(1)} / ${durations.processorMsPerEvent.toFixed(1)}`,
      },
      {
        bench: 'load',
        case: `${SENDERS} senders, ${COUNT} events`,
        measure: 'log bytes per event (both functions)',
        value: durations.logBytesPerEvent.toFixed(0),
      },
      { bench: 'load', case: `${SENDERS} senders, ${COUNT} events`, measure: 'local DynamoDB', value: runtime.dynamodbKind },
    ];
    return { rows, durations };
  } finally {
    await runtime.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function runLoadBench(): Promise<BenchRow[]> {
  return (await measuredLoad()).rows;
}

async function send(url: string, secret: string, sessionId: string, count: number, senders: number): Promise<{ latencies: number[]; ok: number }> {
  let next = 0;
  let ok = 0;
  const latencies: number[] = [];
  await Promise.all(
    Array.from({ length: senders }, async () => {
      while (next < count) {
        const n = next++;
        const body = JSON.stringify(buildSampleEvent('session.status', { id: `evt_${sessionId}_${n}`, sessionId }));
        const { headers } = signFaceSignPayload(body, secret);
        const t = performance.now();
        const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
        await response.arrayBuffer();
        latencies.push(performance.now() - t);
        if (response.status === 200) ok++;
      }
    }),
  );
  return { latencies, ok };
}

async function drain(runtime: Awaited<ReturnType<typeof startLocalRuntime>>, sessionId: string, expected: number): Promise<number> {
  const deadline = Date.now() + 180_000;
  let count = 0;
  while (Date.now() < deadline) {
    count = 0;
    let token: string | undefined;
    do {
      const page = await runtime.s3.send(new ListObjectsV2Command({ Bucket: runtime.bucket, Prefix: `events/${sessionId}/`, ContinuationToken: token }));
      count += page.KeyCount ?? 0;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    if (count >= expected) return count;
    await new Promise((r) => setTimeout(r, 500));
  }
  return count;
}
