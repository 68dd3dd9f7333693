/**
 * The fault suite: bounded load against the local runtime on 127.0.0.1, with faults injected
 * from outside while it runs, and the same count taken after every run: answered 200, archived,
 * media stored, in the DLQ, published unique/total, lost. The assertion is always the same:
 * nothing lost, and every event answered 200 archived exactly once.
 *
 * The runs that crash an invocation wait for the queue's visibility timeout, which the runtime
 * reads from the construct (the suite passes the construct's shortest processor timeout), so they
 * run side by side and the file takes about one visibility timeout plus the load.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { mediaSha256 } from '../../local/media-content';
import { createHash } from 'node:crypto';
import { ctx, event, fault, getObject, mediaHits, planMedia, post, publishedCounts, s3, unique, waitFor, workers } from './helpers';

/** One event of a run and what its sender saw (FaceSign retries a 5xx; so does this sender). */
interface Delivery {
  readonly event: Record<string, unknown>;
  readonly statuses: number[];
  readonly media?: { readonly key: string; readonly size: number; readonly seed: string };
}

/** The counts of one run. */
interface RunReport {
  readonly run: string;
  readonly sent: number;
  readonly answered200: number;
  readonly sawA5xx: number;
  readonly archived: number;
  readonly archivedMoreThanOnce: number;
  readonly mediaEvents: number;
  readonly mediaStored: number;
  readonly inDeadLetterQueue: number;
  readonly publishedUnique: number;
  readonly publishedTotal: number;
  readonly lost: number;
  readonly faults: Record<string, number>;
}

const SENDERS = 4;
const ATTEMPTS = 6;
const visibilityMs = ctx.visibilityTimeoutSeconds * 1000;
// A crashed batch is back after one visibility timeout; one more allows for a second crash in the same run.
const settleMs = 2 * visibilityMs + 90_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Events for a run: one session prefix, a share of them media events served by the planned host. */
async function makeEvents(run: string, count: number, mediaShare: number, media: { size: number; durationMs?: number } = { size: 8192 }): Promise<Delivery[]> {
  const deliveries: Delivery[] = [];
  for (let i = 0; i < count; i++) {
    const sessionId = `ses_${run}_${i}`;
    if (i < Math.round(count * mediaShare)) {
      const p = `/${unique(run)}.jpg`;
      const mediaUrl = await planMedia(p, [{ status: 200, seed: p, size: media.size, contentType: 'image/jpeg', durationMs: media.durationMs }]);
      const e = event('media.user_photo', { sessionId, mediaUrl });
      deliveries.push({
        event: e,
        statuses: [],
        media: { key: `media/${sessionId}/media.user_photo/${(e.media as { id: string }).id}.jpg`, size: media.size, seed: p },
      });
    } else {
      deliveries.push({ event: event(i % 2 ? 'session.status' : 'session.completed', { sessionId }), statuses: [] });
    }
  }
  return deliveries;
}

/** Sends every delivery `copies` times with SENDERS in parallel; a 5xx or a dropped connection is retried, as FaceSign does. */
async function send(deliveries: Delivery[], copies = 1): Promise<void> {
  const jobs = deliveries.flatMap((d) => Array.from({ length: copies }, () => d));
  let next = 0;
  await Promise.all(
    Array.from({ length: SENDERS }, async () => {
      while (next < jobs.length) {
        const d = jobs[next++];
        const body = JSON.stringify(d.event);
        for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
          const status = await post(body).then(
            (a) => a.status,
            () => 599,
          );
          d.statuses.push(status);
          if (status < 500) break;
          await sleep(200 * attempt);
        }
      }
    }),
  );
}

async function listAll(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: ctx.bucket, Prefix: prefix, ContinuationToken: token }));
    keys.push(...(page.Contents ?? []).map((o) => o.Key!));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

async function deadLetteredIds(): Promise<Set<string>> {
  const status = (await (await fetch(ctx.statusUrl)).json()) as { deadLetterQueue: { messages: Array<{ eventId?: string }> } };
  return new Set(status.deadLetterQueue.messages.map((m) => m.eventId ?? ''));
}

/** Waits until every event answered 200 is published or dead-lettered (publishing is the last step), then counts. */
async function settleAndCount(run: string, deliveries: Delivery[], faults: Record<string, number>): Promise<RunReport> {
  const answered = deliveries.filter((d) => d.statuses.includes(200));
  const ids = new Set(deliveries.map((d) => String(d.event.id)));
  const deadline = Date.now() + settleMs;
  let published: Record<string, number> = {};
  let dead = new Set<string>();
  for (;;) {
    [published, dead] = await Promise.all([publishedCounts(), deadLetteredIds()]);
    if (answered.every((d) => published[String(d.event.id)] || dead.has(String(d.event.id)))) break;
    if (Date.now() > deadline) break;
    await sleep(2000);
  }
  const archiveKeys = await listAll(`events/ses_${run}_`);
  const archivedTimes = new Map<string, number>();
  for (const key of archiveKeys) {
    const id = decodeURIComponent(key.slice(key.lastIndexOf('-') + 1, -'.json'.length));
    archivedTimes.set(id, (archivedTimes.get(id) ?? 0) + 1);
  }
  const mediaEvents = deliveries.filter((d) => d.media);
  let mediaStored = 0;
  for (const d of mediaEvents) {
    const stored = await getObject(d.media!.key);
    if (stored && stored.body.length === d.media!.size && sha256(stored.body) === (await mediaSha256(d.media!.seed, d.media!.size))) mediaStored++;
  }
  const report: RunReport = {
    run,
    sent: deliveries.length,
    answered200: answered.length,
    sawA5xx: deliveries.filter((d) => d.statuses.some((s) => s >= 500)).length,
    archived: [...archivedTimes.keys()].filter((id) => ids.has(id)).length,
    archivedMoreThanOnce: [...archivedTimes.values()].filter((n) => n > 1).length,
    mediaEvents: mediaEvents.length,
    mediaStored,
    inDeadLetterQueue: [...ids].filter((id) => dead.has(id)).length,
    publishedUnique: [...ids].filter((id) => published[id]).length,
    publishedTotal: [...ids].reduce((n, id) => n + (published[id] ?? 0), 0),
    lost: answered.filter((d) => !archivedTimes.has(String(d.event.id)) && !dead.has(String(d.event.id))).length,
    faults,
  };
  console.log(
    `fault suite, ${run}: answered 200 ${report.answered200}/${report.sent} (${report.sawA5xx} saw a 5xx first), archived ${report.archived}, ` +
      `media stored ${report.mediaStored}/${report.mediaEvents}, in DLQ ${report.inDeadLetterQueue}, ` +
      `published unique/total ${report.publishedUnique}/${report.publishedTotal}, lost ${report.lost}; faults ${JSON.stringify(faults)}`,
  );
  return report;
}

/** The assertion every run makes. */
function expectNothingLost(report: RunReport, deliveries: Delivery[]): void {
  expect(report.answered200).toBe(report.sent);
  expect(report.lost).toBe(0);
  expect(report.inDeadLetterQueue).toBe(0);
  expect(report.archived).toBe(report.answered200);
  expect(report.archivedMoreThanOnce).toBe(0);
  expect(report.mediaStored).toBe(deliveries.filter((d) => d.media).length);
  expect(report.publishedUnique).toBe(report.answered200);
}

/** Kills busy workers of a function, by PID, while `running()`; only those running one of `ids` when given. */
async function killWhile(fn: 'verifier' | 'processor', running: () => boolean, options: { max: number; everyMs: number; ids?: Set<string> }): Promise<number> {
  let kills = 0;
  while (running() && kills < options.max) {
    const victim = (await workers(fn)).find((w) => w.busy && (!options.ids || w.eventIds.some((id) => options.ids!.has(id))));
    if (victim) {
      try {
        process.kill(victim.pid, 'SIGKILL');
        kills++;
        await sleep(options.everyMs);
      } catch {
        // it had just exited
      }
    } else {
      await sleep(fn === 'verifier' ? 2 : 20);
    }
  }
  return kills;
}

const reports: Record<string, RunReport> = {};
const runs: Record<string, Delivery[]> = {};

describe(`fault suite (${ctx.dynamodbKind}; visibility timeout ${ctx.visibilityTimeoutSeconds} s from the construct)`, () => {
  it('a duplicate storm: 40 events each sent 5 times at once are archived and published exactly once', async () => {
    const run = unique('storm');
    const deliveries = await makeEvents(run, 40, 0.3);
    await send(deliveries, 5);
    const report = await settleAndCount(run, deliveries, { copiesPerEvent: 5 });
    reports.storm = report;
    expectNothingLost(report, deliveries);
    expect(report.publishedTotal).toBe(report.publishedUnique);
  });

  describe('runs with crashes, side by side', () => {
    beforeAll(async () => {
      const tags = { batch: unique('kbatch'), download: unique('kdl'), verifier: unique('kver'), dynamodb: unique('ddb') };
      const [batch, download, verifier, dynamodb] = await Promise.all([
        makeEvents(tags.batch, 120, 0.3),
        makeEvents(tags.download, 2, 1, { size: 256 * 1024, durationMs: 4000 }),
        makeEvents(tags.verifier, 80, 0.3),
        makeEvents(tags.dynamodb, 80, 0.3),
      ]);
      Object.assign(runs, { batch, download, verifier, dynamodb });
      const idsOf = (ds: Delivery[]) => new Set(ds.map((d) => String(d.event.id)));

      // Processor workers killed while they run batches of this run's events.
      const processorKilledMidBatch = async () => {
        let loading = true;
        const load = send(batch).finally(() => (loading = false));
        const kills = await killWhile('processor', () => loading, { max: 3, everyMs: 1500, ids: idsOf(batch) });
        await load;
        return settleAndCount(tags.batch, batch, { processorWorkersKilled: kills });
      };

      // Each media event's worker killed while the slow host is still sending the file. Done
      // first, while the queue is empty, so that these batches come back with the others.
      const killMidDownload = async () => {
        let kills = 0;
        for (const d of download) {
          await send([d]);
          const p = new URL(String((d.event.media as { url: string }).url)).pathname;
          for (const deadline = Date.now() + 60_000; (await mediaHits(p)) < 1 && Date.now() < deadline;) await sleep(50);
          // The host takes 4 s to send the file: the worker found here is in the middle of it.
          const victim = (await workers('processor')).find((w) => w.eventIds.includes(String(d.event.id)));
          if (victim) {
            process.kill(victim.pid, 'SIGKILL');
            kills++;
          }
        }
        return kills;
      };
      const downloadKills = await killMidDownload();
      const processorKilledMidDownload = async () => {
        const report = await settleAndCount(tags.download, download, { processorWorkersKilledMidDownload: downloadKills });
        const hits = await Promise.all(download.map((d) => mediaHits(new URL(String((d.event.media as { url: string }).url)).pathname)));
        return { ...report, faults: { ...report.faults, downloadsStarted: hits.reduce((a, b) => a + b, 0) } };
      };

      // Verifier workers killed in the middle of requests: those senders see a 500 and retry.
      const verifierKilledMidRequest = async () => {
        let loading = true;
        const load = send(verifier).finally(() => (loading = false));
        const kills = await killWhile('verifier', () => loading, { max: 4, everyMs: 1000, ids: idsOf(verifier) });
        await load;
        return settleAndCount(tags.verifier, verifier, { verifierWorkersKilled: kills });
      };

      // DynamoDB holds every request of the processor for longer than its timeout.
      const dynamodbPaused = async () => {
        const load = send(dynamodb);
        await sleep(2000);
        const pauseMs = (ctx.processorTimeoutSeconds + 5) * 1000;
        await fault({ dynamodbPaused: true });
        try {
          await sleep(pauseMs);
        } finally {
          await fault({ dynamodbPaused: false });
        }
        await load;
        return settleAndCount(tags.dynamodb, dynamodb, { dynamodbPausedSeconds: pauseMs / 1000 });
      };

      const [a, b, c, d] = await Promise.all([processorKilledMidBatch(), processorKilledMidDownload(), verifierKilledMidRequest(), dynamodbPaused()]);
      Object.assign(reports, { batch: a, download: b, verifier: c, dynamodb: d });
      mkdirSync('test-results', { recursive: true });
      writeFileSync(path.join('test-results', 'fault-suite.json'), JSON.stringify(reports, null, 2));
    }, settleMs + 180_000);

    it('a processor worker killed mid-batch (SIGKILL by PID, as an out-of-memory kill): nothing lost, the batch comes back after the visibility timeout', () => {
      expect(reports.batch.faults.processorWorkersKilled).toBeGreaterThan(0);
      expectNothingLost(reports.batch, runs.batch);
    });

    it('a processor worker killed mid-download: the event is received again after the visibility timeout and its file stored', () => {
      expect(reports.download.faults.processorWorkersKilledMidDownload).toBe(runs.download.length);
      // Each file was requested again after the download that was killed (more than once if a
      // fault of another run hit the same batch: all runs share the queue).
      expect(reports.download.faults.downloadsStarted).toBeGreaterThanOrEqual(2 * runs.download.length);
      expectNothingLost(reports.download, runs.download);
    });

    it('a verifier worker killed mid-request: its sender gets a 500 (and retries), nothing answered 200 is lost', () => {
      expect(reports.verifier.faults.verifierWorkersKilled).toBeGreaterThan(0);
      // A verifier request takes milliseconds: a worker seen busy with this run's event may have
      // moved on to another run's by the time the kill lands. Whoever's request it was got the 500.
      expect(Object.values(reports).reduce((n, r) => n + r.sawA5xx, 0)).toBeGreaterThan(0);
      expectNothingLost(reports.verifier, runs.verifier);
    });

    it('DynamoDB paused for longer than the processor timeout: the timed-out batches come back, nothing lost', () => {
      expect(reports.dynamodb.faults.dynamodbPausedSeconds).toBeGreaterThan(ctx.processorTimeoutSeconds);
      expectNothingLost(reports.dynamodb, runs.dynamodb);
    });

    it('the runtime kept serving: a new event after all of it is processed', async () => {
      const [d] = await makeEvents(unique('after'), 1, 0);
      await send([d]);
      expect(d.statuses).toEqual([200]);
      const status = (await (await fetch(ctx.statusUrl)).json()) as { functions: { processor: { crashes: number }; verifier: { crashes: number } } };
      expect(status.functions.processor.crashes).toBeGreaterThan(0);
      expect(status.functions.verifier.crashes).toBeGreaterThan(0);
      for (const deadline = Date.now() + 30_000; !(await publishedCounts())[String(d.event.id)] && Date.now() < deadline;) await sleep(200);
      expect((await publishedCounts())[String(d.event.id)]).toBe(1);
    });
  });
});

describe('the status page answers "where is everything?"', () => {
  type Status = {
    queue: { visible: number; inFlight: number; delayed: number; visibilityTimeoutSeconds: number; maxReceiveCount: number };
    deadLetterQueue: { count: number; messages: Array<{ eventId?: string; eventType?: string; failureReason: string; attempts?: string }>; more: number };
    eventSource: { received: number; deleted: number; inFlight: number };
    functions: { processor: { environments: Array<{ pid: number; busy: boolean }> } };
    published: { total: number; recent: unknown[]; more: number };
  };
  const status = async () => {
    const text = await (await fetch(ctx.statusUrl)).text();
    return { size: Buffer.byteLength(text), body: JSON.parse(text) as Status };
  };

  it('shows a record in flight while its download runs, then gone from the queue', async () => {
    const [d] = await makeEvents(unique('inflight'), 1, 1, { size: 64 * 1024, durationMs: 3000 });
    await send([d]);
    const during = await waitFor('the record in flight', async () => {
      const { body } = await status();
      return body.eventSource.inFlight >= 1 && body.queue.inFlight >= 1 && body.functions.processor.environments.some((e) => e.busy) ? body : undefined;
    });
    expect(during.queue.visibilityTimeoutSeconds).toBe(ctx.visibilityTimeoutSeconds);
    for (const deadline = Date.now() + 30_000; !(await publishedCounts())[String(d.event.id)] && Date.now() < deadline;) await sleep(200);
    expect((await publishedCounts())[String(d.event.id)]).toBe(1);
  });

  it('lists each dead letter with its failureReason, and only the last 20 published events with a count of the rest', async () => {
    const p = `/${unique('gone')}.jpg`;
    const e = event('media.user_photo', { mediaUrl: await planMedia(p, [{ status: 404 }]) });
    expect((await post(JSON.stringify(e))).status).toBe(200);
    const { size, body } = await waitFor('the dead letter on the status page', async () => {
      const s = await status();
      return s.body.deadLetterQueue.messages.some((m) => m.eventId === e.id) ? s : undefined;
    });
    expect(body.deadLetterQueue.messages.find((m) => m.eventId === e.id)).toMatchObject({
      failureReason: 'media_not_available',
      eventType: 'media.user_photo',
      attempts: '1',
    });
    expect(body.deadLetterQueue.count).toBe(body.deadLetterQueue.messages.length + body.deadLetterQueue.more);
    expect(body.queue.maxReceiveCount).toBeGreaterThan(0);
    // Hundreds of events were published by the runs above; the page stays small.
    expect(body.published.recent.length).toBe(20);
    expect(body.published.total).toBe(20 + body.published.more);
    expect(body.published.more).toBeGreaterThan(100);
    expect(size).toBeLessThan(64 * 1024);
  });
});
