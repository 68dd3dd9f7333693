/**
 * The invocation's deadline: every wait of the processor is derived from the time the invocation
 * has left (`context.getRemainingTimeInMillis()`), less a reserve for failing its records
 * properly (shortening their visibility, or dead-lettering them). When it passes, the signal
 * aborts every AWS call and the media transfer still running, and each unfinished record is
 * failed as `invocation_deadline`, so a hung S3, DynamoDB, EventBridge or media host ends the
 * invocation well before its Lambda timeout, with its records back in the queue in seconds
 * instead of after the visibility timeout.
 */
import { FAILURE_RESERVE_SECONDS } from '../../contract/time-budget';
import { TransientFailure } from './failures';

/**
 * Kept back from the remaining time for the failure path (FAILURE_RESERVE_SECONDS, in the settings
 * table because processorTimeout's bounds follow from it).
 */
export const FAILURE_RESERVE_MS = FAILURE_RESERVE_SECONDS * 1000;

/** A point in time after which the invocation stops waiting. */
export interface Deadline {
  /** Epoch ms. */
  readonly at: number;
  /** Aborted (with a {@link TransientFailure} `invocation_deadline` as reason) when the deadline passes. */
  readonly signal: AbortSignal;
  /** Milliseconds left, never negative. */
  remainingMs(): number;
  /** Stops the timer (call when the invocation ends). */
  dispose(): void;
}

/** A deadline `ms` from now. */
export function deadlineIn(ms: number, now: () => number = Date.now): Deadline {
  const at = now() + Math.max(0, ms);
  const controller = new AbortController();
  const failure = new TransientFailure(
    'invocation_deadline',
    `the invocation ran out of time (deadline ${ms} ms after it started, ${FAILURE_RESERVE_MS} ms kept to fail records)`,
  );
  const timer = setTimeout(() => controller.abort(failure), Math.max(0, ms));
  timer.unref?.();
  return {
    at,
    signal: controller.signal,
    remainingMs: () => Math.max(0, at - now()),
    dispose: () => clearTimeout(timer),
  };
}

/** The deadline of an invocation: its remaining time less {@link FAILURE_RESERVE_MS} (at least a tenth of it). */
export function invocationDeadline(context: { getRemainingTimeInMillis(): number }, now: () => number = Date.now): Deadline {
  const remaining = context.getRemainingTimeInMillis();
  return deadlineIn(Math.max(remaining - FAILURE_RESERVE_MS, Math.floor(remaining / 10)), now);
}

/**
 * Settles with `work`, or rejects with the signal's reason as soon as the signal aborts: a
 * safety net for waits that cannot take a signal themselves (the Powertools persistence layer).
 */
export function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      work.catch(() => undefined);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
