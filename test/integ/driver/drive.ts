/**
 * The integration test's driver: what the assertions invoke to act as FaceSign and to look at
 * what the deployed pipeline did. Plain functions over injected clients, so a unit test runs
 * them against local services; `index.ts` is the Lambda edge.
 *
 * State between invocations (the exact bodies posted, and what the stored objects looked like
 * after the first delivery) lives in the fixture bucket under `runs/<runId>/`, because each
 * invocation may land in a fresh execution environment.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, PutSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetQueueAttributesCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { buildSampleEvent } from '../../../local/sample-events';
import { signFaceSignPayload } from '../../../contract/signature';
import { parseSigningSecrets } from '../../../lambda/verifier/signing-secrets';
import { FIXTURE_CONTENT_TYPE, fixtureBody } from '../fixture';

/** Where the driver finds the deployed pipeline; the integ app passes these as environment variables. */
export interface DriverConfig {
  readonly runId: string;
  readonly webhookUrl: string;
  readonly signingSecretArn: string;
  readonly fixtureBucket: string;
  readonly archiveBucket: string;
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  /** The queue the test's `onEvent` rule delivers to. */
  readonly consumerQueueUrl: string;
  /** The queue subscribed to the alarm topic. */
  readonly alarmQueueUrl: string;
}

/** The AWS clients the driver uses (and, in the unit test, local stand-ins). */
export interface DriverClients {
  readonly s3: S3Client;
  readonly sqs: SQSClient;
  readonly secrets: SecretsManagerClient;
}

/** What the assertions ask for. */
export type DriverRequest =
  | { readonly action: 'deliver'; readonly round: 'first' | 'repeat' }
  | { readonly action: 'inspect'; readonly phase: 'first' | 'repeat' }
  | { readonly action: 'published' }
  | { readonly action: 'alarmNotified'; readonly alarmName: string }
  | { readonly action: 'deliverWithWrongSecret' }
  | { readonly action: 'fixSecret' }
  | { readonly action: 'recovered' };

/** Names of the two authentic events, used as keys in every answer. */
export type EventName = 'sessionStatus' | 'userPhoto';
const EVENT_NAMES: readonly EventName[] = ['sessionStatus', 'userPhoto'];

/** One POST's outcome. */
export interface PostResult {
  readonly status: number;
  /** The `error` field of the answer, when it had one. */
  readonly error?: string;
}

/** What `deliver` answers. */
export interface DeliverResult {
  readonly round: 'first' | 'repeat';
  readonly responses: Readonly<Record<EventName, PostResult>> & { readonly tampered?: PostResult };
  /** Host of the presigned media URL, which the stack must allow. */
  readonly mediaHost: string;
  /** The answers on one line, e.g. `session.status=200 media.user_photo=200 tampered=401:signature_mismatch`, for an exact-match assertion. */
  readonly summary: string;
}

/** One stored object, as the archive bucket reports it. */
export interface StoredObjectReport {
  readonly exists: boolean;
  readonly bytes?: number;
  readonly sha256?: string;
  /** The SHA-256 that it must have (the posted body, or the fixture). */
  readonly expectedSha256?: string;
  /** The stored bytes hash to {@link expectedSha256}. */
  readonly matchesExpected?: boolean;
  readonly contentType?: string;
  readonly serverSideEncryption?: string;
  readonly kmsKeyId?: string;
  readonly bucketKeyEnabled?: boolean;
  /** `repeat` phase only: LastModified and ETag are those seen after the first delivery. */
  readonly unchangedSinceFirstDelivery?: boolean;
}

/** What `inspect` answers. */
export interface InspectResult {
  readonly phase: 'first' | 'repeat';
  readonly archive: Readonly<Record<EventName, StoredObjectReport>>;
  readonly media: StoredObjectReport;
  /** Objects under the session's `events/` and `media/` prefixes. */
  readonly objectCounts: { readonly events: number; readonly media: number };
  /** Every message in the queue has been handled (none visible, in flight or delayed). */
  readonly queueDrained: boolean;
  readonly deadLetterQueue: { readonly visible: number; readonly inFlight: number };
}

/** What `published` answers: what the `onEvent` rule delivered, by event. */
export interface PublishedResult {
  readonly count: Readonly<Record<EventName, number>>;
  readonly detailType: Partial<Record<EventName, string>>;
  /** The media location and digest EventBridge carried for the photo. */
  readonly media?: { readonly key?: string; readonly bytes?: number; readonly sha256?: string; readonly contentType?: string };
  /** True when any published `detail.event.media.url` still carries a query string (the signed part). */
  readonly mediaUrlHasQuery: boolean;
  /** Messages that were not one of this run's events. */
  readonly other: number;
}

interface RunState {
  readonly bodies: Readonly<Record<EventName, string>>;
  /** The wrong-secret step: the secret the receiver does not have, and the body signed with it. */
  readonly wrongSecret?: { readonly secret: string; readonly body: string };
  readonly firstSeen?: Readonly<Record<string, { readonly lastModified: string; readonly etag: string }>>;
}

const POST_TIMEOUT_MS = 10_000;
/** FaceSign's media URLs live 15 minutes; the fixture's does too. */
const MEDIA_URL_SECONDS = 15 * 60;

/** The events of a run: ids derive from the run id, so a rerun of the same run is a repeat delivery. */
export function runIds(runId: string) {
  return {
    sessionId: `sess-integ-${runId}`,
    eventIds: { sessionStatus: `evt_integ_${runId}_status`, userPhoto: `evt_integ_${runId}_photo` } as Record<EventName, string>,
    mediaId: `m_integ_${runId}`,
    /** The event FaceSign sends while the receiver has the wrong secret: held, then recovered by reverify. */
    held: { eventId: `evt_integ_${runId}_held`, sessionId: `sess-integ-${runId}-held` },
    fixtureKey: `fixtures/${runId}/user-photo.jpg`,
    stateKey: `runs/${runId}/state.json`,
  };
}

/** The S3 keys docs/reference.md documents: `events/<sessionId>/<createdAt>-<eventId>.json`, `media/<sessionId>/<type>/<mediaId>.<ext>`. */
export function expectedKeys(bodies: Readonly<Record<EventName, string>>): { archive: Record<EventName, string>; media: string } {
  const status = JSON.parse(bodies.sessionStatus) as { id: string; sessionId: string; createdAt: number };
  const photo = JSON.parse(bodies.userPhoto) as { id: string; sessionId: string; createdAt: number; type: string; media: { id: string } };
  return {
    archive: {
      sessionStatus: `events/${status.sessionId}/${status.createdAt}-${status.id}.json`,
      userPhoto: `events/${photo.sessionId}/${photo.createdAt}-${photo.id}.json`,
    },
    media: `media/${photo.sessionId}/${photo.type}/${photo.media.id}.jpg`,
  };
}

/** Runs one request. */
export async function drive(
  request: DriverRequest,
  config: DriverConfig,
  clients: DriverClients,
  nowMs = Date.now(),
): Promise<DeliverResult | InspectResult | PublishedResult | AlarmNotifiedResult | WrongSecretResult | FixSecretResult | RecoveredResult> {
  switch (request.action) {
    case 'deliver':
      return request.round === 'first' ? deliverFirst(config, clients, nowMs) : deliverRepeat(config, clients);
    case 'inspect':
      return inspect(request.phase, config, clients);
    case 'published':
      return published(config, clients);
    case 'alarmNotified':
      return alarmNotified(request.alarmName, config, clients);
    case 'deliverWithWrongSecret':
      return deliverWithWrongSecret(config, clients, nowMs);
    case 'fixSecret':
      return fixSecret(config, clients);
    case 'recovered':
      return recovered(config, clients);
    default:
      throw new Error(`unknown driver request ${JSON.stringify(request)}`);
  }
}

/**
 * Uploads the fixture, presigns it for 15 minutes, signs and posts a `session.status` and a
 * `media.user_photo` event with the deployed secret, and a tampered copy of the first.
 */
export async function deliverFirst(config: DriverConfig, clients: DriverClients, nowMs: number): Promise<DeliverResult> {
  const ids = runIds(config.runId);
  const secret = await readSigningSecret(config, clients);
  await clients.s3.send(new PutObjectCommand({ Bucket: config.fixtureBucket, Key: ids.fixtureKey, Body: fixtureBody(), ContentType: FIXTURE_CONTENT_TYPE }));
  const mediaUrl = await getSignedUrl(clients.s3, new GetObjectCommand({ Bucket: config.fixtureBucket, Key: ids.fixtureKey }), {
    expiresIn: MEDIA_URL_SECONDS,
  });
  const bodies: Record<EventName, string> = {
    sessionStatus: JSON.stringify(buildSampleEvent('session.status', { id: ids.eventIds.sessionStatus, sessionId: ids.sessionId, createdAt: nowMs })),
    userPhoto: JSON.stringify(
      buildSampleEvent('media.user_photo', {
        id: ids.eventIds.userPhoto,
        sessionId: ids.sessionId,
        createdAt: nowMs,
        mediaId: ids.mediaId,
        mediaUrl,
        expires: nowMs + MEDIA_URL_SECONDS * 1000,
        contentType: FIXTURE_CONTENT_TYPE,
      }),
    ),
  };
  // Saved before posting: whatever happens next, inspect knows what was sent.
  await writeState(config, clients, { bodies });

  const sessionStatus = await post(config.webhookUrl, bodies.sessionStatus, secret);
  const userPhoto = await post(config.webhookUrl, bodies.userPhoto, secret);
  // Signed, then changed: what an attacker replaying a captured signature with another body sends.
  const signed = signFaceSignPayload(bodies.sessionStatus, secret);
  const tamperedBody = bodies.sessionStatus.replace(ids.sessionId, `${ids.sessionId}-tampered`);
  const tampered = await postRaw(config.webhookUrl, tamperedBody, signed.headers);
  const responses = { sessionStatus, userPhoto, tampered };
  return { round: 'first', responses, mediaHost: new URL(mediaUrl).host, summary: summarize(responses) };
}

/** Posts the same two bodies again, freshly signed, as FaceSign does when it retries. */
export async function deliverRepeat(config: DriverConfig, clients: DriverClients): Promise<DeliverResult> {
  const state = await readState(config, clients);
  const secret = await readSigningSecret(config, clients);
  const sessionStatus = await post(config.webhookUrl, state.bodies.sessionStatus, secret);
  const userPhoto = await post(config.webhookUrl, state.bodies.userPhoto, secret);
  const mediaUrl = (JSON.parse(state.bodies.userPhoto) as { media: { url: string } }).media.url;
  const responses = { sessionStatus, userPhoto };
  return { round: 'repeat', responses, mediaHost: new URL(mediaUrl).host, summary: summarize(responses) };
}

/**
 * Reads the archived payloads and the stored media back (size, SHA-256, encryption), the queue
 * and the DLQ. The `first` phase records each object's LastModified and ETag; the `repeat`
 * phase reports whether they are unchanged, i.e. the repeat delivery wrote nothing.
 */
export async function inspect(phase: 'first' | 'repeat', config: DriverConfig, clients: DriverClients): Promise<InspectResult> {
  const state = await readState(config, clients);
  const keys = expectedKeys(state.bodies);
  const ids = runIds(config.runId);
  const reports: Record<string, StoredObjectReport & { lastModified?: string; etag?: string }> = {};
  for (const name of EVENT_NAMES) {
    reports[name] = await readStored(config.archiveBucket, keys.archive[name], sha256(state.bodies[name]), clients);
  }
  reports.media = await readStored(config.archiveBucket, keys.media, fixtureDigest(), clients);

  let firstSeen = state.firstSeen;
  if (phase === 'first' && Object.values(reports).every((r) => r.exists)) {
    firstSeen = Object.fromEntries(Object.entries(reports).map(([k, r]) => [k, { lastModified: r.lastModified!, etag: r.etag! }]));
    await writeState(config, clients, { ...state, firstSeen });
  }
  const report = (name: string): StoredObjectReport => {
    const { lastModified, etag, ...rest } = reports[name];
    if (phase !== 'repeat') return rest;
    const seen = firstSeen?.[name];
    return { ...rest, unchangedSinceFirstDelivery: seen !== undefined && seen.lastModified === lastModified && seen.etag === etag };
  };

  const [events, media] = await Promise.all([
    countObjects(config.archiveBucket, `events/${ids.sessionId}/`, clients),
    countObjects(config.archiveBucket, `media/${ids.sessionId}/`, clients),
  ]);
  const queue = await queueDepth(config.queueUrl, clients);
  const dlq = await queueDepth(config.deadLetterQueueUrl, clients);
  return {
    phase,
    archive: { sessionStatus: report('sessionStatus'), userPhoto: report('userPhoto') },
    media: report('media'),
    objectCounts: { events, media },
    queueDrained: queue.visible === 0 && queue.inFlight === 0 && queue.delayed === 0,
    deadLetterQueue: { visible: dlq.visible, inFlight: dlq.inFlight },
  };
}

/**
 * Reads what the `onEvent` rule delivered to the consumer queue and counts distinct messages per
 * event id. Messages are hidden for 60 s while counting (not deleted), so a retry of this call
 * after a minute counts them again.
 */
export async function published(config: DriverConfig, clients: DriverClients, maxMs = 20_000): Promise<PublishedResult> {
  const ids = runIds(config.runId);
  const seen = new Map<string, { name?: EventName; body: Record<string, unknown> }>();
  for (const [messageId, body] of await consumerMessages(config, clients, maxMs)) {
    const id = (body.detail as { event?: { id?: string } } | undefined)?.event?.id ?? '';
    seen.set(messageId, { name: EVENT_NAMES.find((n) => ids.eventIds[n] === id), body });
  }
  const count: Record<EventName, number> = { sessionStatus: 0, userPhoto: 0 };
  const detailType: Partial<Record<EventName, string>> = {};
  let media: PublishedResult['media'];
  let mediaUrlHasQuery = false;
  let other = 0;
  for (const { name, body } of seen.values()) {
    if (!name) {
      other++;
      continue;
    }
    count[name]++;
    detailType[name] = String(body['detail-type']);
    const detail = body.detail as { media?: Record<string, unknown>; event?: { media?: { url?: string } } };
    if (name === 'userPhoto') {
      media = {
        key: detail.media?.key as string | undefined,
        bytes: detail.media?.bytes as number | undefined,
        sha256: detail.media?.sha256 as string | undefined,
        contentType: detail.media?.contentType as string | undefined,
      };
      const url = detail.event?.media?.url;
      if (typeof url === 'string' && url.includes('?')) mediaUrlHasQuery = true;
    }
  }
  return { count, detailType, media, mediaUrlHasQuery, other };
}

/** `session.status=200 media.user_photo=200 tampered=401:signature_mismatch` */
export function summarize(responses: DeliverResult['responses']): string {
  const one = (r: PostResult) => (r.error ? `${r.status}:${r.error}` : String(r.status));
  const parts = [`session.status=${one(responses.sessionStatus)}`, `media.user_photo=${one(responses.userPhoto)}`];
  if (responses.tampered) parts.push(`tampered=${one(responses.tampered)}`);
  return parts.join(' ');
}

/** What `alarmNotified` answers. */
export interface AlarmNotifiedResult {
  /** An SNS notification saying this alarm went to ALARM arrived. */
  readonly alarmNotified: boolean;
  /** Notifications read in all (alarms that start up send OK notifications too). */
  readonly notificationsRead: number;
}

/**
 * Looks for the SNS notification of one alarm entering ALARM in the queue subscribed to the alarm
 * topic. Done here rather than by a plain ReceiveMessage assertion because ten SNS envelopes
 * would overflow the 4 KB custom resource response. Messages are hidden for 30 s, not deleted.
 */
export async function alarmNotified(alarmName: string, config: DriverConfig, clients: DriverClients, maxMs = 20_000): Promise<AlarmNotifiedResult> {
  const deadline = Date.now() + maxMs;
  let read = 0;
  let emptyInARow = 0;
  while (emptyInARow < 2 && Date.now() < deadline) {
    const out = await clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: config.alarmQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 2, VisibilityTimeout: 30 }),
    );
    const messages = out.Messages ?? [];
    emptyInARow = messages.length === 0 ? emptyInARow + 1 : 0;
    for (const m of messages) {
      read++;
      try {
        const envelope = JSON.parse(m.Body ?? '{}') as { Type?: string; Message?: string };
        const alarm = JSON.parse(envelope.Message ?? '{}') as { AlarmName?: string; NewStateValue?: string };
        if (envelope.Type === 'Notification' && alarm.AlarmName === alarmName && alarm.NewStateValue === 'ALARM') {
          return { alarmNotified: true, notificationsRead: read };
        }
      } catch {
        // Not an SNS alarm notification: counted, not matched.
      }
    }
  }
  return { alarmNotified: false, notificationsRead: read };
}

/** What `deliverWithWrongSecret` answers. */
export interface WrongSecretResult {
  /** `held=401:signature_mismatch` when refused as FaceSign's document requires. */
  readonly summary: string;
  readonly eventId: string;
}

/**
 * Acts as FaceSign with a signing secret the receiver does not have (a wrong or stale one): signs a
 * `session.status` event in FaceSign's exact form with a fresh random secret and posts it. The
 * verifier must answer 401, count WrongSecretSuspected and hold it. The secret and the body are
 * kept in the run state for `fixSecret` and `recovered`.
 */
export async function deliverWithWrongSecret(config: DriverConfig, clients: DriverClients, nowMs: number): Promise<WrongSecretResult> {
  const ids = runIds(config.runId);
  const state = await readState(config, clients);
  const secret = `whsec_${randomBytes(24).toString('hex')}`;
  const body = JSON.stringify(buildSampleEvent('session.status', { id: ids.held.eventId, sessionId: ids.held.sessionId, createdAt: nowMs }));
  await writeState(config, clients, { ...state, wrongSecret: { secret, body } });
  const answer = await post(config.webhookUrl, body, secret);
  return { summary: `held=${answer.error ? `${answer.status}:${answer.error}` : answer.status}`, eventId: ids.held.eventId };
}

/** What `fixSecret` answers. */
export interface FixSecretResult {
  /** How many secrets are now active. */
  readonly activeSecrets: number;
}

/**
 * Fixes the receiver's secret as an operator would during a rotation: puts `{"secrets": [current,
 * the one FaceSign used]}`, so the later deliveries of this run still verify under the first.
 */
export async function fixSecret(config: DriverConfig, clients: DriverClients): Promise<FixSecretResult> {
  const state = await readState(config, clients);
  if (!state.wrongSecret) throw new Error('fixSecret needs deliverWithWrongSecret first');
  const out = await clients.secrets.send(new GetSecretValueCommand({ SecretId: config.signingSecretArn }));
  const current = parseSigningSecrets(out.SecretString ?? '');
  const secrets = [...current.filter((s) => s !== state.wrongSecret!.secret), state.wrongSecret.secret];
  await clients.secrets.send(new PutSecretValueCommand({ SecretId: config.signingSecretArn, SecretString: JSON.stringify({ secrets }) }));
  return { activeSecrets: secrets.length };
}

/** What `recovered` answers: the held event after reverify, in the archive and as published. */
export interface RecoveredResult {
  readonly archive: StoredObjectReport;
  /** Distinct messages the `onEvent` rule delivered for it. */
  readonly published: number;
}

/** Reads the re-verified event back: archived byte for byte, and published to the `onEvent` rule's queue. */
export async function recovered(config: DriverConfig, clients: DriverClients, maxMs = 20_000): Promise<RecoveredResult> {
  const ids = runIds(config.runId);
  const state = await readState(config, clients);
  if (!state.wrongSecret) throw new Error('recovered needs deliverWithWrongSecret first');
  const event = JSON.parse(state.wrongSecret.body) as { id: string; sessionId: string; createdAt: number };
  const {
    lastModified: _l,
    etag: _e,
    ...archive
  } = await readStored(config.archiveBucket, `events/${event.sessionId}/${event.createdAt}-${event.id}.json`, sha256(state.wrongSecret.body), clients);
  let deliveries = 0;
  for (const body of (await consumerMessages(config, clients, maxMs)).values()) {
    if ((body.detail as { event?: { id?: string } } | undefined)?.event?.id === ids.held.eventId) deliveries += 1;
  }
  return { archive, published: deliveries };
}

/**
 * The distinct messages (by message id) the `onEvent` rule delivered to the consumer queue, read
 * until two empty long polls or `maxMs`. Hidden for 60 s while counting, not deleted, so a retry
 * after a minute counts them again.
 */
async function consumerMessages(config: DriverConfig, clients: DriverClients, maxMs: number): Promise<Map<string, Record<string, unknown>>> {
  const seen = new Map<string, Record<string, unknown>>();
  const deadline = Date.now() + maxMs;
  let emptyInARow = 0;
  while (emptyInARow < 2 && Date.now() < deadline) {
    const out = await clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: config.consumerQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 2, VisibilityTimeout: 60 }),
    );
    const messages = out.Messages ?? [];
    emptyInARow = messages.length === 0 ? emptyInARow + 1 : 0;
    for (const m of messages) seen.set(m.MessageId ?? `unnamed-${seen.size}`, JSON.parse(m.Body ?? '{}') as Record<string, unknown>);
  }
  return seen;
}

async function readSigningSecret(config: DriverConfig, clients: DriverClients): Promise<string> {
  const out = await clients.secrets.send(new GetSecretValueCommand({ SecretId: config.signingSecretArn }));
  // The verifier's own reader: the same two forms (plain, or {"secrets": [...]}); the first is the newest.
  return parseSigningSecrets(out.SecretString ?? '')[0];
}

async function post(url: string, body: string, secret: string): Promise<PostResult> {
  return postRaw(url, body, signFaceSignPayload(body, secret).headers);
}

async function postRaw(url: string, body: string, headers: Readonly<Record<string, string>>): Promise<PostResult> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
    signal: AbortSignal.timeout(POST_TIMEOUT_MS),
  });
  const text = await response.text();
  let error: string | undefined;
  try {
    const parsed = JSON.parse(text) as { error?: unknown };
    if (typeof parsed.error === 'string') error = parsed.error;
  } catch {
    // Not JSON (API Gateway's own answers are not always): the status says enough.
  }
  return error === undefined ? { status: response.status } : { status: response.status, error };
}

async function readStored(
  bucket: string,
  key: string,
  expectedSha256: string,
  clients: DriverClients,
): Promise<StoredObjectReport & { lastModified?: string; etag?: string }> {
  let head;
  try {
    head = await clients.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  } catch (error) {
    if ((error as { name?: string }).name === 'NotFound' || (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) {
      return { exists: false, expectedSha256 };
    }
    throw error;
  }
  const object = await clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of object.Body as Readable) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  const digest = hash.digest('hex');
  return {
    exists: true,
    bytes,
    sha256: digest,
    expectedSha256,
    matchesExpected: digest === expectedSha256,
    contentType: head.ContentType,
    serverSideEncryption: head.ServerSideEncryption,
    ...(head.SSEKMSKeyId ? { kmsKeyId: head.SSEKMSKeyId } : {}),
    ...(head.BucketKeyEnabled !== undefined ? { bucketKeyEnabled: head.BucketKeyEnabled } : {}),
    lastModified: head.LastModified?.toISOString(),
    etag: head.ETag,
  };
}

async function countObjects(bucket: string, prefix: string, clients: DriverClients): Promise<number> {
  const out = await clients.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return out.KeyCount ?? 0;
}

async function queueDepth(queueUrl: string, clients: DriverClients): Promise<{ visible: number; inFlight: number; delayed: number }> {
  const out = await clients.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
    }),
  );
  const n = (name: string) => Number(out.Attributes?.[name as keyof typeof out.Attributes] ?? 0);
  return {
    visible: n('ApproximateNumberOfMessages'),
    inFlight: n('ApproximateNumberOfMessagesNotVisible'),
    delayed: n('ApproximateNumberOfMessagesDelayed'),
  };
}

async function readState(config: DriverConfig, clients: DriverClients): Promise<RunState> {
  const key = runIds(config.runId).stateKey;
  const out = await clients.s3.send(new GetObjectCommand({ Bucket: config.fixtureBucket, Key: key }));
  return JSON.parse(await out.Body!.transformToString('utf8')) as RunState;
}

async function writeState(config: DriverConfig, clients: DriverClients, state: RunState): Promise<void> {
  await clients.s3.send(
    new PutObjectCommand({ Bucket: config.fixtureBucket, Key: runIds(config.runId).stateKey, Body: JSON.stringify(state), ContentType: 'application/json' }),
  );
}

let fixtureDigestCache: string | undefined;
function fixtureDigest(): string {
  fixtureDigestCache ??= sha256(fixtureBody());
  return fixtureDigestCache;
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
