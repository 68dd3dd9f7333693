/**
 * Re-verification of held deliveries, with an in-memory hold and queue: what now verifies is queued
 * exactly as the verifier queues it and removed; the rest stays; freshness is judged at the time of
 * arrival; no secret changes nothing; each fault (queue, S3) leaves the hold in place and is reported.
 */
import { describe, expect, it } from 'vitest';
import { heldDeliveryKey, type HeldDelivery } from '../../../contract/held-delivery';
import { signFaceSignPayload } from '../../../contract/signature';
import { reverifyHeld, type ReverifyDependencies } from '../../../lambda/reverifier/reverify';
import type { VerifiedEvent } from '../../../lambda/verifier/handle-webhook';
import { heldDelivery } from '../../../lambda/verifier/hold-store';
import { SigningSecretNotConfiguredError, SigningSecretUnavailableError } from '../../../lambda/verifier/signing-secrets';
import { sampleEvent } from '../../support/events';
import { silentLogger } from '../../support/observability';

const DAY_MS = 24 * 3600 * 1000;
const NOW_MS = 1_761_595_700_000;
const TOLERANCE = 7 * 24 * 3600;

/** A delivery signed with `secret` at `signedAtMs`, held as the verifier holds it when received at `receivedAtMs`. */
function held(secret: string, receivedAtMs: number, options: { body?: string; signedAtMs?: number } = {}): { key: string; text: string; body: string } {
  const event = sampleEvent('session.status');
  const body = options.body ?? JSON.stringify({ ...event, id: `evt_${receivedAtMs}_${secret}` });
  const signed = signFaceSignPayload(body, secret, Math.floor((options.signedAtMs ?? receivedAtMs) / 1000));
  const parsed = JSON.parse(body) as { id: string; type: string; sessionId: string };
  const stored: HeldDelivery = heldDelivery({
    bytes: Buffer.from(body, 'utf8'),
    headers: { 'x-facesign-signature': signed.signature, 'content-type': 'application/json' },
    receivedAtMs,
    lookalike: { id: parsed.id, type: parsed.type, sessionId: parsed.sessionId, signedAt: signed.timestamp },
  });
  return { key: heldDeliveryKey(receivedAtMs, `${receivedAtMs}${secret}`.padEnd(64, '0')), text: JSON.stringify(stored), body };
}

function harness(objects: Array<{ key: string; text: string }>, overrides: Partial<ReverifyDependencies> = {}) {
  const store = new Map(objects.map((o) => [o.key, o.text]));
  const queued: VerifiedEvent[] = [];
  const removed: string[] = [];
  const deps: ReverifyDependencies = {
    readSecrets: async () => ['whsec_right'],
    // Two keys a page, to walk the pagination; like S3's, the token is a position among keys, so removals do not shift it.
    listHeld: async (_signal, token, startAfter) => {
      const after = token ?? startAfter;
      const keys = [...store.keys()].sort().filter((k) => after === undefined || k > after);
      const page = keys.slice(0, 2);
      return { keys: page, next: keys.length > 2 ? page[1] : undefined };
    },
    getHeld: async (key) => {
      const text = store.get(key);
      if (text === undefined) throw Object.assign(new Error('gone'), { name: 'NoSuchKey' });
      return text;
    },
    removeHeld: async (key) => {
      store.delete(key);
      removed.push(key);
    },
    enqueue: async (event) => void queued.push(event),
    logger: silentLogger(),
    toleranceSeconds: TOLERANCE,
    maxBodyBytes: 256 * 1024,
    holdRetentionDays: 7,
    idempotencyWindowSeconds: 7 * 24 * 3600,
    now: () => NOW_MS,
    signal: new AbortController().signal,
    ...overrides,
  };
  return { deps, store, queued, removed };
}

describe('reverifyHeld', () => {
  it('queues the exact signed body of what now verifies, removes it from hold, and leaves the rest', async () => {
    const good = held('whsec_right', NOW_MS - DAY_MS);
    const other = held('whsec_other', NOW_MS - 2 * DAY_MS);
    const also = held('whsec_right', NOW_MS - 3 * DAY_MS);
    const { deps, store, queued, removed } = harness([good, other, also]);
    const report = await reverifyHeld(deps);
    expect(report).toMatchObject({ secretConfigured: true, stillUnverified: 1, expired: 0, unreadable: 0, failed: [], refused: [], complete: true });
    expect(report.requeued.map((r) => r.key).sort()).toEqual([good.key, also.key].sort());
    expect(queued.map((q) => q.rawBody).sort()).toEqual([good.body, also.body].sort());
    expect(queued[0].event?.type).toBe('session.status');
    expect(removed.sort()).toEqual([good.key, also.key].sort());
    expect([...store.keys()]).toEqual([other.key]);

    // A second run changes nothing.
    const again = await reverifyHeld(deps);
    expect(again).toMatchObject({ requeued: [], stillUnverified: 1 });
    expect(queued).toHaveLength(2);
  });

  it('judges freshness at the time of arrival: a signature fresh then verifies though it is older than the tolerance now', async () => {
    // Received 6 days ago, signed 6 hours before that; now 6.25 days old, within 7 days at arrival.
    const receivedAt = NOW_MS - 6 * DAY_MS;
    const fresh = held('whsec_right', receivedAt, { signedAtMs: receivedAt - 6 * 3600 * 1000 });
    const { deps, queued } = harness([fresh], { toleranceSeconds: 6 * 24 * 3600 });
    expect((await reverifyHeld(deps)).requeued).toHaveLength(1);
    expect(queued).toHaveLength(1);
    // Stale already when it arrived: the verifier would have refused it for its timestamp too.
    const stale = held('whsec_right', receivedAt, { signedAtMs: receivedAt - 7 * DAY_MS });
    const second = harness([stale], { toleranceSeconds: 6 * 24 * 3600 });
    const report = await reverifyHeld(second.deps);
    expect(report.requeued).toHaveLength(0);
    expect(report.refused).toEqual([{ key: stale.key, reason: expect.stringMatching(/^401 timestamp_out_of_tolerance: /) }]);
    expect(second.store.has(stale.key)).toBe(true);
  });

  it('with no secret configured, says so and changes nothing', async () => {
    const good = held('whsec_right', NOW_MS - DAY_MS);
    let listed = 0;
    const { deps, store, queued } = harness([good], {
      readSecrets: async () => {
        throw new SigningSecretNotConfiguredError('the signing secret has not been set: put the value from the FaceSign dashboard into the secret');
      },
    });
    const list = deps.listHeld;
    const report = await reverifyHeld({ ...deps, listHeld: (signal, token) => (listed++, list(signal, token)) });
    expect(report).toMatchObject({ secretConfigured: false, message: expect.stringContaining('has not been set'), requeued: [] });
    expect(listed).toBe(0);
    expect(queued).toHaveLength(0);
    expect(store.has(good.key)).toBe(true);
  });

  it('fails when the secret cannot be read at all (the command exits non-zero)', async () => {
    const { deps } = harness([], {
      readSecrets: async () => {
        throw new SigningSecretUnavailableError('AccessDeniedException');
      },
    });
    await expect(reverifyHeld(deps)).rejects.toThrow('AccessDeniedException');
  });

  it('removes what is older than holdRetention without re-verifying it, and counts what it cannot read', async () => {
    const old = held('whsec_right', NOW_MS - 8 * DAY_MS);
    const garbage = { key: 'held/2025/01/01/1-x.json', text: '{"version":9}' };
    const { deps, store, queued } = harness([old, garbage]);
    const report = await reverifyHeld(deps);
    expect(report).toMatchObject({ expired: 1, unreadable: 1, requeued: [], complete: true });
    expect(queued).toHaveLength(0);
    expect([...store.keys()]).toEqual([garbage.key]);
  });

  it('re-queues nothing received longer ago than the idempotency window, even within holdRetention', async () => {
    const inside = held('whsec_right', NOW_MS - 11 * 3600 * 1000);
    const outside = held('whsec_right', NOW_MS - 13 * 3600 * 1000);
    const { deps, store, queued } = harness([inside, outside], { holdRetentionDays: 1, idempotencyWindowSeconds: 12 * 3600 });
    const report = await reverifyHeld(deps);
    expect(report).toMatchObject({ expired: 1, complete: true });
    expect(report.requeued.map((r) => r.key)).toEqual([inside.key]);
    expect(queued).toHaveLength(1);
    expect(store.size).toBe(0);
  });

  it('a queue failure leaves the delivery held and is reported; the run goes on', async () => {
    const first = held('whsec_right', NOW_MS - DAY_MS);
    const second = held('whsec_right', NOW_MS - 2 * DAY_MS);
    let calls = 0;
    const { deps, store, queued } = harness([first, second]);
    const enqueue = deps.enqueue;
    const report = await reverifyHeld({
      ...deps,
      enqueue: async (event, signal) => {
        if (calls++ === 0) throw Object.assign(new Error('down'), { name: 'QueueDoesNotExist' });
        return enqueue(event, signal);
      },
    });
    expect(report.failed).toEqual([{ key: second.key, reason: 'queue_unavailable: QueueDoesNotExist' }]);
    expect(report.requeued.map((r) => r.key)).toEqual([first.key]);
    expect(queued).toHaveLength(1);
    expect(store.has(second.key)).toBe(true);
  });

  it('an S3 failure reading or removing a hold is reported, and the hold stays', async () => {
    const good = held('whsec_right', NOW_MS - DAY_MS);
    const unreadable = held('whsec_right', NOW_MS - 2 * DAY_MS);
    const { deps, store, queued } = harness([good, unreadable]);
    const report = await reverifyHeld({
      ...deps,
      getHeld: async (key, signal) => {
        if (key === unreadable.key) throw Object.assign(new Error('slow down'), { name: 'SlowDown' });
        return deps.getHeld(key, signal);
      },
      removeHeld: async () => {
        throw Object.assign(new Error('denied'), { name: 'AccessDenied' });
      },
    });
    expect(report.failed).toEqual(
      expect.arrayContaining([
        { key: unreadable.key, reason: 'the held object could not be read (SlowDown)' },
        { key: good.key, reason: expect.stringContaining('queued, but not removed from hold (AccessDenied)') },
      ]),
    );
    expect(queued).toHaveLength(1);
    expect(store.size).toBe(2);
  });

  it('stops when its deadline passes and says it is not complete', async () => {
    const objects = [held('whsec_right', NOW_MS - DAY_MS), held('whsec_right', NOW_MS - 2 * DAY_MS), held('whsec_right', NOW_MS - 3 * DAY_MS)];
    const controller = new AbortController();
    const { deps, queued } = harness(objects, { signal: controller.signal });
    const enqueue = deps.enqueue;
    const report = await reverifyHeld({
      ...deps,
      enqueue: async (event, signal) => {
        await enqueue(event, signal);
        controller.abort();
      },
    });
    expect(report.complete).toBe(false);
    expect(report.requeued).toHaveLength(1);
    expect(queued).toHaveLength(1);
  });

  it('says where it stopped, and a run given that key goes on after it instead of reading again what stays held', async () => {
    // Sorted by key (the time received): two that still verify under no secret, then one that does.
    const objects = [held('whsec_other', NOW_MS - 3 * DAY_MS), held('whsec_other', NOW_MS - 2 * DAY_MS), held('whsec_right', NOW_MS - DAY_MS)];
    const [, second, third] = [...objects].sort((a, b) => (a.key < b.key ? -1 : 1));
    const controller = new AbortController();
    const read: string[] = [];
    const { deps, queued } = harness(objects, { signal: controller.signal });
    const getHeld = deps.getHeld;
    const tracked = { ...deps, getHeld: (key: string, signal: AbortSignal) => (read.push(key), getHeld(key, signal)) };
    const stopped = await reverifyHeld({
      ...tracked,
      getHeld: async (key, signal) => {
        const text = await tracked.getHeld(key, signal);
        if (key === second!.key) controller.abort();
        return text;
      },
    });
    // The delivery being looked at when the deadline passed is finished; the run stops before the next.
    expect(stopped).toMatchObject({ complete: false, resumeAfter: second!.key, stillUnverified: 2 });
    read.length = 0;
    const resumed = await reverifyHeld({ ...tracked, signal: new AbortController().signal, startAfter: stopped.resumeAfter });
    expect(read).toEqual([third!.key]);
    expect(resumed).toMatchObject({ complete: true, stillUnverified: 0, requeued: [{ key: third!.key }] });
    expect(resumed.resumeAfter).toBeUndefined();
    expect(queued).toHaveLength(1);
  });
});
