/**
 * Re-verifies held deliveries against the current signing secret(s). Each one goes through the
 * verifier's own decision, {@link handleWebhook}, with the signature's age judged at the time the
 * delivery was received: what verifies now is queued exactly as the verifier would have queued it
 * (the processor's idempotency drops any that FaceSign also delivered again) and removed from hold;
 * the rest stay until their retention runs out.
 */
import { parseHeldDelivery, type HeldDelivery, type ReverifyReport } from '../../contract/held-delivery';
import { SECONDS_PER_DAY } from '../../contract/time-budget';
import type { EventMetrics, Logger } from '../shared/observability';
import { handleWebhook, type VerifiedEvent, type WebhookResponse } from '../verifier/handle-webhook';
import { SigningSecretNotConfiguredError } from '../verifier/signing-secrets';

/** What the re-verification needs from the outside world. Every call gets the invocation's deadline as `signal`. */
export interface ReverifyDependencies {
  /** The current secrets; throws SigningSecretNotConfiguredError when none is set. */
  readonly readSecrets: (signal: AbortSignal) => Promise<string[]>;
  /**
   * One page of held keys, oldest first, and the token of the next page. The first page (no token)
   * starts after `startAfter` (ListObjectsV2 StartAfter), when given.
   */
  readonly listHeld: (signal: AbortSignal, continuationToken?: string, startAfter?: string) => Promise<{ keys: string[]; next?: string }>;
  readonly getHeld: (key: string, signal: AbortSignal) => Promise<string>;
  readonly removeHeld: (key: string, signal: AbortSignal) => Promise<void>;
  /** The verifier's enqueue (verifier/enqueue.ts). */
  readonly enqueue: (event: VerifiedEvent, signal: AbortSignal) => Promise<void>;
  readonly logger: Logger;
  readonly toleranceSeconds: number;
  readonly maxBodyBytes: number;
  readonly holdRetentionDays: number;
  /** How long the processor remembers an event id; nothing received longer ago is re-queued. */
  readonly idempotencyWindowSeconds: number;
  readonly now?: () => number;
  /**
   * Continue after this key: the previous run's {@link ReverifyReport.resumeAfter}. Without it a run
   * that ran out of time would be followed by one that looks again at what the first left held, and
   * with more held than one run can read (a forger at the cap fills ~24,000 a day) none would get further.
   */
  readonly startAfter?: string;
  /** Aborts every call once the invocation must stop; checked between deliveries too. */
  readonly signal: AbortSignal;
}

/** The verifier's metrics are not counted again: the reverifier's outcome is its report. */
const UNCOUNTED: EventMetrics = { count: () => undefined, countBy: () => undefined, record: () => undefined };

/** The report as it is being filled in: one held key at a time adds to it. */
interface Tally {
  readonly requeued: Array<ReverifyReport['requeued'][number]>;
  stillUnverified: number;
  readonly refused: Array<{ key: string; reason: string }>;
  expired: number;
  unreadable: number;
  readonly failed: Array<{ key: string; reason: string }>;
}

/** Looks at every held delivery once; never throws for one delivery, only when the secret cannot be read. */
export async function reverifyHeld(deps: ReverifyDependencies): Promise<ReverifyReport> {
  const { signal, logger } = deps;
  let secrets: string[];
  try {
    secrets = await deps.readSecrets(signal);
  } catch (error) {
    if (!(error instanceof SigningSecretNotConfiguredError)) throw error;
    logger.warn('no signing secret is configured: nothing re-verified, nothing changed', { reason: error.message });
    return { ...emptyReport(), secretConfigured: false, message: error.message };
  }
  const tally: Tally = { requeued: [], stillUnverified: 0, refused: [], expired: 0, unreadable: 0, failed: [] };
  let token: string | undefined;
  // The last key looked at to the end; keys come in order, so a next run resumes after it.
  let lookedAt = deps.startAfter;
  let current: string | undefined;
  const done = () => ({ ...emptyReport(), ...tally });
  const incomplete = () => ({ ...done(), complete: false, ...(lookedAt !== undefined ? { resumeAfter: lookedAt } : {}) });
  do {
    if (signal.aborted) return incomplete();
    let page: { keys: string[]; next?: string };
    try {
      page = await deps.listHeld(signal, token, token === undefined ? deps.startAfter : undefined);
    } catch (error) {
      if (signal.aborted) return incomplete();
      throw error;
    }
    for (const key of page.keys) {
      if (current !== undefined) lookedAt = current;
      if (signal.aborted) return incomplete();
      current = key;
      await reverifyKey(key, secrets, deps, tally);
    }
    if (current !== undefined) lookedAt = current;
    token = page.next;
  } while (token !== undefined);
  return { ...done(), complete: true };
}

/** Reads one held key and re-verifies it, or removes it once expired; the outcome goes into `tally`. */
async function reverifyKey(key: string, secrets: string[], deps: ReverifyDependencies, tally: Tally): Promise<void> {
  const { signal, logger } = deps;
  let text: string;
  try {
    text = await deps.getHeld(key, signal);
  } catch (error) {
    // Removed meanwhile (by the lifecycle rule or a concurrent run): nothing left to do.
    if ((error as Error)?.name === 'NoSuchKey') return;
    tally.failed.push({ key, reason: `the held object could not be read (${(error as Error)?.name})` });
    return;
  }
  let held: HeldDelivery;
  try {
    held = parseHeldDelivery(text);
  } catch (error) {
    logger.warn('a held object is not a held delivery this version can read; left for the lifecycle rule', { key, reason: (error as Error).message });
    tally.unreadable += 1;
    return;
  }
  const now = deps.now ?? Date.now;
  if (now() - held.receivedAt > Math.min(deps.holdRetentionDays * SECONDS_PER_DAY, deps.idempotencyWindowSeconds) * 1000) {
    // Past its retention or the idempotency window: re-queued now, it could be processed a
    // second time, because the record of a redelivery FaceSign made meanwhile may be gone.
    await deps.removeHeld(key, signal).then(
      () => (tally.expired += 1),
      (error: Error) => tally.failed.push({ key, reason: `expired, but could not be removed (${error?.name})` }),
    );
    return;
  }
  const { response, queueFailure } = await replayToVerifier(held, secrets, deps);
  const body = response.body as { error?: string; message?: string };
  if (response.statusCode === 200) {
    try {
      await deps.removeHeld(key, signal);
    } catch (error) {
      // Queued: a later run queues it again, and the processor's idempotency drops the repeat.
      tally.failed.push({ key, reason: `queued, but not removed from hold (${(error as Error)?.name}); a later run queues it again as a duplicate` });
    }
    logger.info('held delivery re-verified and queued', { key, eventId: held.claimed.id, eventType: held.claimed.type, sessionId: held.claimed.sessionId });
    tally.requeued.push({ key, eventId: held.claimed.id, eventType: held.claimed.type });
  } else if (response.statusCode === 503) {
    tally.failed.push({ key, reason: `${body.error}: ${queueFailure ?? body.message}` });
  } else if (body.error === 'signature_mismatch' || body.error === 'missing_signature' || body.error === 'malformed_signature') {
    tally.stillUnverified += 1;
  } else {
    tally.refused.push({ key, reason: `${response.statusCode} ${body.error}: ${body.message}` });
  }
}

/** Runs a held delivery through the verifier's own decision, with the current secrets; `queueFailure` is the queue's error name, when queueing failed. */
async function replayToVerifier(
  held: HeldDelivery,
  secrets: string[],
  deps: ReverifyDependencies,
): Promise<{ response: WebhookResponse; queueFailure?: string }> {
  let queueFailure: string | undefined;
  const response = await handleWebhook(
    { headers: held.headers, body: held.body, isBase64Encoded: true },
    {
      secrets: { get: async () => secrets, refreshAfterMismatch: async () => undefined },
      enqueue: (verified) =>
        deps.enqueue(verified, deps.signal).catch((error: Error) => {
          queueFailure = error?.name;
          throw error;
        }),
      logger: deps.logger,
      metrics: UNCOUNTED,
      toleranceSeconds: deps.toleranceSeconds,
      maxBodyBytes: deps.maxBodyBytes,
      // Judged as on arrival: the signature was fresh then, whatever its age now.
      now: () => held.receivedAt,
    },
  );
  return { response, queueFailure };
}

function emptyReport(): ReverifyReport {
  return { secretConfigured: true, requeued: [], stillUnverified: 0, refused: [], expired: 0, unreadable: 0, failed: [], complete: true };
}
