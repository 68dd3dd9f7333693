/**
 * The inspector's record of every delivery the local runtime answered, and of what became of it:
 * the answer and its signature verdict, then the queue, each processing attempt, the archive key,
 * the stored media, what was published, or the dead-letter reason. Pure: the runtime feeds it
 * what it sees (answers, batches, log lines, published events, dead letters) and it tells its
 * listeners which delivery changed. Nothing it holds is the signing secret, and no URL it shows
 * keeps its query string (FaceSign's media URLs are bearer credentials there).
 */
import { createHash } from 'node:crypto';
import { stripUrlQueries } from '../../contract/redact-url';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { decodeQueueBody } from '../../lambda/shared/queue-body';
import type { WebhookExchange } from '../http-api';

/** How many deliveries the journal keeps; older ones are dropped. */
export const JOURNAL_LIMIT = 500;
/** The longest request body kept for a resend, in bytes (the verifier's default `maxBodyBytes`); a longer one cannot be resent. */
export const RESEND_MAX_BYTES = 256 * 1024;
/** The most request-body bytes kept for resends in all; the oldest are dropped first. */
export const RESEND_BUDGET_BYTES = 16 * 1024 * 1024;
/** A body larger than this is not copied for display (FaceSign's events are a few hundred bytes). */
export const EVENT_DISPLAY_MAX_BYTES = 64 * 1024;
/** Identifiers longer than this are cut for display. */
const MAX_ID_LENGTH = 200;

/** Whether the HMAC was checked, and what it said. */
export type SignatureVerdict = 'verified' | 'timestamp refused' | 'rejected' | 'not checked';

/** Where a delivery is now. */
export type DeliveryState =
  | 'refused'
  | 'failed'
  | 'queued'
  | 'processing'
  | 'retrying'
  | 'processed'
  | 'duplicate'
  | 'quarantined'
  | 'conflicting'
  | 'completed'
  | 'dead-lettered'
  | 'redriven';

/** One thing that happened to a delivery. */
export interface DeliveryStep {
  readonly at: string;
  readonly step: DeliveryState | 'archived' | 'media stored' | 'published';
  readonly text: string;
}

/** A stored media file, as the page shows it. */
export interface StoredMediaView {
  readonly key: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly contentType: string;
  /** Whether the runtime serves it as a thumbnail (an image type a browser shows safely). */
  readonly thumbnail: boolean;
}

/** One request to the webhook route and what became of it. */
export interface Delivery {
  /** The journal's own number, from 1. */
  readonly id: number;
  readonly receivedAt: string;
  readonly eventId?: string;
  readonly eventType?: string;
  readonly sessionId?: string;
  readonly bytes: number;
  readonly bodySha256: string;
  readonly answer: { readonly status: number; readonly error?: string; readonly message?: string; readonly durationMs: number };
  readonly signature: SignatureVerdict;
  /** The delivery this one resent. */
  readonly resendOf?: number;
  /** Whether the inspector can send it again (its body was kept). */
  resendable: boolean;
  state: DeliveryState;
  attempt?: number;
  archiveKey?: string;
  media?: StoredMediaView;
  published?: { readonly detailType: string; readonly detail: unknown };
  deadLetter?: { readonly reason: string; readonly detail?: string };
  retry?: { readonly reason: string; readonly inSeconds?: number };
  /** The event, URLs without their query strings; absent when the body is not a JSON object or is over {@link EVENT_DISPLAY_MAX_BYTES}. */
  event?: unknown;
  readonly steps: DeliveryStep[];
}

/** A processor record as the journal needs it: the body as signed (already decoded from the queue). */
export interface ObservedRecord {
  readonly messageId: string;
  readonly body: string;
  readonly attempt: number;
}

/** A published EventBridge entry. */
export interface ObservedPublish {
  readonly detailType: string;
  readonly detail: unknown;
}

/** A message that reached the dead-letter queue. */
export interface ObservedDeadLetter {
  readonly messageId: string;
  readonly failureReason: string;
  readonly eventId?: string;
}

/** The request a delivery can be resent with: never shown on the page. */
export interface KeptRequest {
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

/** Image types a browser shows as an <img> without running anything (no SVG). */
const THUMBNAIL_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);

/** Whether a stored media file of this content type is served as a thumbnail. */
export function isThumbnailType(contentType: string): boolean {
  return THUMBNAIL_TYPES.has(contentType.split(';')[0].trim().toLowerCase());
}

/**
 * The signature verdict an answer implies. The verifier checks the HMAC before anything else
 * except the secret: every 200, 400 and 413 with its own error, and a 503 `queue_unavailable`,
 * come after a match; a 401 for the timestamp comes after a match too; the other 401s mean no
 * `v1` matched. API Gateway's own answers (413 over 10 MiB, 500 when throttled) and a secret
 * that could not be read mean it was not checked.
 */
export function signatureVerdict(status: number, error: string | undefined): SignatureVerdict {
  if (status === 401) return error === 'invalid_timestamp' || error === 'timestamp_out_of_tolerance' ? 'timestamp refused' : 'rejected';
  if (status >= 200 && status < 300) return 'verified';
  if (status === 400 || (status === 413 && error === 'payload_too_large') || (status === 503 && error === 'queue_unavailable')) return 'verified';
  return 'not checked';
}

/** The states in which a delivery's message can reach the dead-letter queue. */
const MAY_BE_DEAD_LETTERED: ReadonlySet<DeliveryState> = new Set<DeliveryState>(['processing', 'retrying', 'completed', 'dead-lettered']);

/** Something that happened to a message, applied to its delivery; true when it changed the delivery. */
type MessageAction = (delivery: Delivery) => boolean;

/** A listener told about every delivery that was added or changed. */
export type JournalListener = (delivery: Delivery) => void;

export class DeliveryJournal {
  private readonly list: Delivery[] = [];
  private readonly kept = new Map<number, KeptRequest>();
  /** The delivery each queue message belongs to. */
  private readonly byMessage = new Map<string, Delivery>();
  /**
   * Messages the processor received before their delivery's answer was recorded (the verifier
   * queues, then answers: the event source can be faster), with what happened to them meanwhile.
   */
  private readonly pending = new Map<string, { readonly bodySha256: string; readonly eventId?: string; readonly actions: MessageAction[] }>();
  private readonly listeners = new Set<JournalListener>();
  private readonly deadLetterListeners = new Set<() => void>();
  /** Bodies (by SHA-256) the inspector is resending, with the delivery each resends. */
  private readonly resends = new Map<string, number>();
  private next = 1;
  private keptBytes = 0;

  constructor(
    private readonly limit = JOURNAL_LIMIT,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Every delivery kept, oldest first. */
  deliveries(): readonly Delivery[] {
    return this.list;
  }

  get(id: number): Delivery | undefined {
    return this.list.find((d) => d.id === id);
  }

  /** The request a delivery was made with, for a resend; undefined when it was not kept. */
  keptRequest(id: number): KeptRequest | undefined {
    return this.kept.get(id);
  }

  /** Registers a listener; returns what removes it. */
  subscribe(listener: JournalListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A request the webhook route answered. */
  answered(exchange: WebhookExchange): Delivery {
    const bodySha256 = sha256(exchange.body);
    const resendOf = this.resends.get(bodySha256);
    this.resends.delete(bodySha256);
    const answer = parseAnswer(exchange.status, exchange.responseBody, exchange.durationMs);
    const parsed = parseEvent(exchange.body);
    const delivery: Delivery = {
      id: this.next++,
      receivedAt: exchange.receivedAt.toISOString(),
      ...parsed.identity,
      bytes: exchange.bytes,
      bodySha256,
      answer,
      signature: signatureVerdict(exchange.status, answer.error),
      ...(resendOf !== undefined ? { resendOf } : {}),
      // A body over API Gateway's limit was not kept whole: it cannot be resent.
      resendable: exchange.body.length === exchange.bytes && exchange.bytes <= RESEND_MAX_BYTES,
      state: exchange.status === 200 ? 'queued' : exchange.status >= 500 ? 'failed' : 'refused',
      ...(parsed.event !== undefined ? { event: parsed.event } : {}),
      steps: [],
    };
    const reason = answer.error ? ` ${answer.error}` : '';
    this.step(
      delivery,
      delivery.state,
      exchange.status === 200 ? 'answered 200; in the queue' : `answered ${exchange.status}${reason}; not queued`,
      exchange.receivedAt,
    );
    if (delivery.resendable) this.keep(delivery, { headers: { ...exchange.headers }, body: Buffer.from(exchange.body) });
    this.list.push(delivery);
    while (this.list.length > this.limit) {
      const dropped = this.list.shift()!;
      this.forget(dropped.id);
      for (const [messageId, d] of this.byMessage) if (d === dropped) this.byMessage.delete(messageId);
    }
    this.tell(delivery);
    if (exchange.status === 200) this.bindPending(delivery);
    return delivery;
  }

  /** The processor was handed these records. */
  recordsReceived(records: readonly ObservedRecord[]): void {
    for (const record of records) {
      const at = this.now();
      const processing: MessageAction = (delivery) => {
        delivery.state = 'processing';
        delivery.attempt = record.attempt;
        delivery.retry = undefined;
        this.step(delivery, 'processing', `processing, attempt ${record.attempt}`, at);
        return true;
      };
      if (!this.byMessage.has(record.messageId) && !this.pending.has(record.messageId) && !this.bind(record)) {
        this.pending.set(record.messageId, { bodySha256: sha256(Buffer.from(record.body, 'utf8')), eventId: eventIdOf(record.body), actions: [] });
        while (this.pending.size > this.limit) this.pending.delete(this.pending.keys().next().value!);
      }
      this.onMessage(record.messageId, processing);
    }
  }

  /** The processor's answer for these records: which ones it reported failed, or the invocation's error. */
  recordsFinished(messageIds: readonly string[], failed: ReadonlySet<string>, error?: Error): void {
    for (const messageId of messageIds) {
      const at = this.now();
      this.onMessage(messageId, (delivery) => this.finished(delivery, messageId, failed, error, at));
    }
  }

  private finished(delivery: Delivery, messageId: string, failed: ReadonlySet<string>, error: Error | undefined, at: Date): boolean {
    if (delivery.state !== 'processing') return false;
    if (error || failed.has(messageId)) {
      delivery.state = 'retrying';
      delivery.retry ??= { reason: error ? `invocation failed: ${stripUrlQueries(error.message)}` : 'reported failed' };
      this.step(delivery, 'retrying', `attempt ${delivery.attempt ?? 1} failed (${delivery.retry.reason}); SQS hands it out again`, at);
    } else if (delivery.published) {
      delivery.state = 'processed';
      this.step(delivery, 'processed', 'processed; deleted from the queue', at);
    } else {
      delivery.state = 'completed';
      this.step(delivery, 'completed', 'finished without publishing; deleted from the queue', at);
    }
    return true;
  }

  /** A JSON log line of the processor: the reasons for a retry, a dead letter, a duplicate. */
  processorLog(line: string): void {
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    const messageId = typeof entry.messageId === 'string' ? entry.messageId : undefined;
    if (messageId) {
      const at = this.now();
      this.onMessage(messageId, (delivery) => this.logged(delivery, entry, at));
    }
  }

  private logged(delivery: Delivery, entry: Record<string, unknown>, at: Date): boolean {
    const message = String(entry.message ?? '');
    const reason = typeof entry.reason === 'string' ? entry.reason : undefined;
    const detail = typeof entry.detail === 'string' ? stripUrlQueries(entry.detail) : undefined;
    if (message.startsWith('transient failure') && reason) {
      const inSeconds = typeof entry.retryInSeconds === 'number' ? entry.retryInSeconds : undefined;
      delivery.retry = { reason, ...(inSeconds !== undefined ? { inSeconds } : {}) };
      this.step(
        delivery,
        'retrying',
        `transient failure ${reason}${detail ? `: ${detail}` : ''}${inSeconds !== undefined ? `; retry in ${inSeconds} s` : ''}`,
        at,
      );
    } else if (message.startsWith('event sent to the dead-letter queue') && reason) {
      this.deadLetter(delivery, reason, detail, at);
    } else if (message.startsWith('duplicate delivery skipped')) {
      delivery.state = 'duplicate';
      this.step(delivery, 'duplicate', 'duplicate: this event id was already processed; skipped', at);
    } else if (message.startsWith('authentic event with an unrecognized envelope quarantined')) {
      delivery.state = 'quarantined';
      if (typeof entry.key === 'string') delivery.archiveKey = entry.key;
      this.step(delivery, 'quarantined', `quarantined${typeof entry.key === 'string' ? ` as ${entry.key}` : ''}`, at);
    } else if (reason === 'conflicting_duplicate') {
      delivery.state = 'conflicting';
      this.step(delivery, 'conflicting', `another version of a processed event id; kept as ${String(entry.conflictKey ?? '?')}`, at);
    } else {
      return false;
    }
    return true;
  }

  /** An entry the processor published to EventBridge: archived, media stored, published. */
  published(entry: ObservedPublish): void {
    const detail = entry.detail as { event?: { id?: unknown }; archive?: { key?: unknown }; media?: Record<string, unknown> } | null;
    const eventId = typeof detail?.event?.id === 'string' ? detail.event.id : undefined;
    if (eventId === undefined) return;
    // The message being processed now with this event id (the newest first), bound or not yet.
    const bound = [...this.byMessage].reverse().find(([, d]) => d.eventId === eventId && d.state === 'processing');
    const messageId = bound?.[0] ?? [...this.pending].reverse().find(([, p]) => p.eventId === eventId)?.[0];
    if (messageId === undefined) return;
    const at = this.now();
    this.onMessage(messageId, (delivery) => this.publishedFor(delivery, entry, at));
  }

  private publishedFor(delivery: Delivery, entry: ObservedPublish, at: Date): boolean {
    const detail = entry.detail as { archive?: { key?: unknown }; media?: Record<string, unknown> } | null;
    if (typeof detail?.archive?.key === 'string') {
      delivery.archiveKey = detail.archive.key;
      this.step(delivery, 'archived', `archived as ${detail.archive.key}`, at);
    }
    const media = detail?.media;
    if (media && typeof media.key === 'string') {
      const contentType = String(media.contentType ?? '');
      delivery.media = {
        key: media.key,
        bytes: Number(media.bytes ?? 0),
        sha256: String(media.sha256 ?? ''),
        contentType,
        thumbnail: isThumbnailType(contentType),
      };
      this.step(delivery, 'media stored', `media stored as ${media.key}: ${delivery.media.bytes} bytes, SHA-256 ${delivery.media.sha256}`, at);
    }
    delivery.published = { detailType: entry.detailType, detail: stripUrlQueries(entry.detail) };
    this.step(delivery, 'published', `published to EventBridge as ${entry.detailType}`, at);
    return true;
  }

  /** A message that reached the dead-letter queue (the runtime checks every second). */
  deadLettered(entry: ObservedDeadLetter): void {
    this.tellDeadLetters();
    const delivery = [...this.byMessage.values()]
      .reverse()
      .find((d) => d.eventId !== undefined && d.eventId === entry.eventId && MAY_BE_DEAD_LETTERED.has(d.state));
    if (!delivery || delivery.state === 'dead-lettered') return;
    this.deadLetter(delivery, entry.failureReason);
    this.tell(delivery);
  }

  /** Registers a listener told whenever the dead-letter queue changed; returns what removes it. */
  subscribeDeadLetters(listener: () => void): () => void {
    this.deadLetterListeners.add(listener);
    return () => this.deadLetterListeners.delete(listener);
  }

  /** A dead-lettered message of this event was moved back to the queue by the inspector. */
  redriven(eventId: string | undefined, bodySha256: string): void {
    const delivery = [...this.list]
      .reverse()
      .find((d) => d.state === 'dead-lettered' && d.bodySha256 === bodySha256 && (eventId === undefined || d.eventId === eventId));
    if (!delivery) return;
    for (const [messageId, d] of this.byMessage) if (d === delivery) this.byMessage.delete(messageId);
    delivery.state = 'redriven';
    delivery.deadLetter = undefined;
    this.step(delivery, 'redriven', 'redriven: back in the queue');
    this.tell(delivery);
    this.tellDeadLetters();
    // The processor may have received the moved message before the redrive returned.
    this.bindPending(delivery);
  }

  /** The next request with this body is a resend of delivery `of`; returns what cancels that (the resend failed). */
  expectResend(body: Buffer, of: number): () => void {
    const hash = sha256(body);
    this.resends.set(hash, of);
    return () => this.resends.delete(hash);
  }

  private keep(delivery: Delivery, request: KeptRequest): void {
    this.kept.set(delivery.id, request);
    this.keptBytes += request.body.length;
    for (const [id] of this.kept) {
      if (this.keptBytes <= RESEND_BUDGET_BYTES) break;
      this.forget(id);
      const old = this.get(id);
      if (old) old.resendable = false;
    }
  }

  private forget(id: number): void {
    this.keptBytes -= this.kept.get(id)?.body.length ?? 0;
    this.kept.delete(id);
  }

  /** The delivery a record belongs to when first seen: the oldest waiting one with the same body (queued first, then redriven). */
  private bind(record: ObservedRecord): Delivery | undefined {
    const hash = sha256(Buffer.from(record.body, 'utf8'));
    const bound = new Set(this.byMessage.values());
    const waiting = (state: DeliveryState) => this.list.find((d) => d.state === state && d.bodySha256 === hash && !bound.has(d));
    const delivery = waiting('queued') ?? waiting('redriven');
    if (delivery) this.byMessage.set(record.messageId, delivery);
    return delivery;
  }

  private deadLetter(delivery: Delivery, reason: string, detail?: string, at = this.now()): void {
    delivery.state = 'dead-lettered';
    delivery.deadLetter = { reason, ...(detail ? { detail } : {}) };
    this.step(delivery, 'dead-lettered', `dead-lettered: ${reason}${detail ? `: ${detail}` : ''}`, at);
  }

  /** Applies `action` to the message's delivery now, or once its answer is recorded; tells the listeners when it changed something. */
  private onMessage(messageId: string, action: MessageAction): void {
    const delivery = this.byMessage.get(messageId);
    if (delivery) {
      if (action(delivery)) this.tell(delivery);
      return;
    }
    this.pending.get(messageId)?.actions.push(action);
  }

  /** Binds the oldest message that arrived before this delivery's answer, with the same body, and replays what happened to it. */
  private bindPending(delivery: Delivery): void {
    const found = [...this.pending].find(([, p]) => p.bodySha256 === delivery.bodySha256);
    if (!found) return;
    const [messageId, { actions }] = found;
    this.pending.delete(messageId);
    this.byMessage.set(messageId, delivery);
    let changed = false;
    for (const action of actions) changed = action(delivery) || changed;
    if (changed) this.tell(delivery);
  }

  private step(delivery: Delivery, step: DeliveryStep['step'], text: string, at = this.now()): void {
    delivery.steps.push({ at: at.toISOString(), step, text });
  }

  private tellDeadLetters(): void {
    for (const listener of this.deadLetterListeners) {
      try {
        listener();
      } catch {
        // As for tell().
      }
    }
  }

  private tell(delivery: Delivery): void {
    for (const listener of this.listeners) {
      try {
        listener(delivery);
      } catch {
        // A listener's mistake (a closed page) is not the journal's.
      }
    }
  }
}

/** The `id` of a JSON body, when it has a string one. */
function eventIdOf(body: string): string | undefined {
  try {
    const id = (JSON.parse(body) as { id?: unknown }).id;
    return typeof id === 'string' ? id.slice(0, MAX_ID_LENGTH) : undefined;
  } catch {
    return undefined;
  }
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The status, and the verifier's `error` and `message` when its answer is JSON with them. */
function parseAnswer(status: number, body: Buffer, durationMs: number): Delivery['answer'] {
  let error: string | undefined;
  let message: string | undefined;
  try {
    const parsed = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    if (typeof parsed.error === 'string') error = parsed.error;
    if (typeof parsed.message === 'string') message = stripUrlQueries(parsed.message);
  } catch {
    // Not JSON: the status says it all.
  }
  return { status, ...(error ? { error } : {}), ...(message ? { message } : {}), durationMs: Math.round(durationMs) };
}

/** The event's identity and a displayable copy (URL queries removed), when the body is a JSON object. */
function parseEvent(body: Buffer): { identity: Pick<Delivery, 'eventId' | 'eventType' | 'sessionId'>; event?: unknown } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return { identity: {} };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { identity: {} };
  const fields = parsed as Record<string, unknown>;
  const text = (value: unknown) => (typeof value === 'string' && value.length > 0 ? value.slice(0, MAX_ID_LENGTH) : undefined);
  const identity: Record<string, string> = {};
  const [eventId, eventType, sessionId] = [text(fields.id), text(fields.type), text(fields.sessionId)];
  if (eventId) identity.eventId = eventId;
  if (eventType) identity.eventType = eventType;
  if (sessionId) identity.sessionId = sessionId;
  return { identity, ...(body.length <= EVENT_DISPLAY_MAX_BYTES ? { event: stripUrlQueries(parsed) } : {}) };
}

/**
 * Runs one processor invocation (`invoke`) and tells the journal which records it was handed and
 * what it answered for each; the invocation's result or error is passed on unchanged.
 */
export async function observeBatch(
  journal: DeliveryJournal,
  event: SQSEvent,
  invoke: () => Promise<SQSBatchResponse | null | undefined>,
): Promise<SQSBatchResponse | null | undefined> {
  const ids = event.Records.map((r) => r.messageId);
  try {
    journal.recordsReceived(
      event.Records.map((r) => ({
        messageId: r.messageId,
        body: decodeQueueBody(r.body, r.messageAttributes),
        attempt: Number(r.attributes.ApproximateReceiveCount) || 1,
      })),
    );
  } catch {
    // A body the journal cannot read is still the processor's to handle.
  }
  let response: SQSBatchResponse | null | undefined;
  try {
    response = await invoke();
  } catch (error) {
    journal.recordsFinished(ids, new Set(), error as Error);
    throw error;
  }
  journal.recordsFinished(ids, new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier)));
  return response;
}
