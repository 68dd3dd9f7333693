import { randomBytes } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { inject } from 'vitest';
import { buildSampleEvent, type SampleEventOptions } from '../../local/sample-events';
import { signFaceSignPayload } from '../../contract/signature';
import type { MediaAnswer } from './context';

export const ctx = inject('e2e');
const clientConfig = { region: 'us-east-1', endpoint: ctx.sqsS3Endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
export const s3 = new S3Client({ ...clientConfig, forcePathStyle: true });
const sqs = new SQSClient({ ...clientConfig, useQueueUrlAsEndpoint: false });

/** A unique id for this run, so tests never see each other's events. */
export const unique = (prefix: string) => `${prefix}_${randomBytes(6).toString('hex')}`;

/** An event of the type, with a unique id and session unless given. */
export function event(type: string, options: SampleEventOptions = {}): Record<string, unknown> {
  return buildSampleEvent(type, { id: unique('evt'), sessionId: unique('ses'), ...options });
}

/** POSTs a body signed with the runtime's secret (or as told) and returns the answer. */
export async function post(
  body: string | Buffer,
  options: { secret?: string; timestamp?: number; headers?: Record<string, string>; unsigned?: boolean } = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const signed = signFaceSignPayload(body, options.secret ?? ctx.signingSecret, options.timestamp);
  const headers = { 'content-type': 'application/json', ...(options.unsigned ? {} : signed.headers), ...options.headers };
  const response = await fetch(ctx.webhookUrl, { method: 'POST', headers, body });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : {} };
}

/** The archive key of an event. */
export function archiveKey(e: Record<string, unknown>): string {
  return `events/${encodeURIComponent(String(e.sessionId))}/${e.createdAt}-${encodeURIComponent(String(e.id))}.json`;
}

/** An object's bytes and content type, or undefined while it does not exist. */
export async function getObject(key: string): Promise<{ body: Buffer; contentType?: string; metadata?: Record<string, string> } | undefined> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: ctx.bucket, Key: key }));
    return { body: Buffer.from(await out.Body!.transformToByteArray()), contentType: out.ContentType, metadata: out.Metadata };
  } catch (error) {
    if ((error as Error).name === 'NoSuchKey') return undefined;
    throw error;
  }
}

/** Keys under a prefix. */
export async function listKeys(prefix: string): Promise<string[]> {
  const out = await s3.send(new ListObjectsV2Command({ Bucket: ctx.bucket, Prefix: prefix }));
  return (out.Contents ?? []).map((o) => o.Key!);
}

/** Polls until the function returns something other than undefined, or fails after the timeout. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Plans the media host's answers for a path (the last one repeats) and resets its hit count. */
export async function planMedia(path: string, answers: MediaAnswer[]): Promise<string> {
  await fetch(`${ctx.controlUrl}/media/plan`, { method: 'POST', body: JSON.stringify({ path, answers }) });
  return `${ctx.mediaOrigin}${path}?X-Amz-Signature=${randomBytes(8).toString('hex')}`;
}

/** How many requests the media host got for a path. */
export async function mediaHits(path: string): Promise<number> {
  const out = (await (await fetch(`${ctx.controlUrl}/media/hits?path=${encodeURIComponent(path)}`)).json()) as { hits: number };
  return out.hits;
}

/** Switches a fault on the runtime. */
export async function fault(faults: {
  secretsManagerFailing?: boolean;
  queueReachable?: boolean;
  s3HungForProcessor?: boolean;
  dynamodbPaused?: boolean;
}): Promise<void> {
  await fetch(`${ctx.controlUrl}/faults`, { method: 'POST', body: JSON.stringify(faults) });
}

/** Event ids the processor has received from the queue so far (the most recent 10,000). */
export async function receivedEventIds(): Promise<string[]> {
  return (await (await fetch(`${ctx.controlUrl}/received`)).json()) as string[];
}

/** How many times the processor published each event id to EventBridge (the most recent 10,000 entries). */
export async function publishedCounts(): Promise<Record<string, number>> {
  return (await (await fetch(`${ctx.controlUrl}/published`)).json()) as Record<string, number>;
}

/** What the processor published to EventBridge for an event id. */
export async function publishedEntries(eventId: string): Promise<Array<{ source: string; detailType: string; detail: Record<string, unknown> }>> {
  return (await (await fetch(`${ctx.controlUrl}/published?eventId=${encodeURIComponent(eventId)}`)).json()) as Array<{
    source: string;
    detailType: string;
    detail: Record<string, unknown>;
  }>;
}

/** What the local event source has done so far (records received, deleted, failed; invocations failed). */
export async function eventSourceStats(): Promise<{
  received: number;
  deleted: number;
  failedRecords: number;
  failedInvocations: number;
  receivedEventIds: string[];
}> {
  const status = (await (await fetch(ctx.statusUrl)).json()) as { eventSource: Awaited<ReturnType<typeof eventSourceStats>> };
  return status.eventSource;
}

/** How many times the processor published an event id to EventBridge. */
export async function publishedCount(eventId: string): Promise<number> {
  return (await publishedCounts())[eventId] ?? 0;
}

/** A function's execution environments: PIDs, busy, and the event ids each one is running. */
export async function workers(fn: 'verifier' | 'processor'): Promise<Array<{ pid: number; busy: boolean; eventIds: string[] }>> {
  return (await (await fetch(`${ctx.controlUrl}/workers?function=${fn}`)).json()) as Array<{ pid: number; busy: boolean; eventIds: string[] }>;
}

/** The dead-letter message for an event id, with its attributes, once it is there. Left in place. */
export async function deadLetterFor(eventId: string, timeoutMs = 30_000): Promise<{ body: string; attributes: Record<string, string> }> {
  return waitFor(
    `a dead-letter message for ${eventId}`,
    async () => {
      const out = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: ctx.deadLetterQueueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 0, MessageAttributeNames: ['All'] }),
      );
      for (const m of out.Messages ?? []) {
        const attributes = Object.fromEntries(Object.entries(m.MessageAttributes ?? {}).map(([k, v]) => [k, v.StringValue ?? '']));
        if (attributes.eventId === eventId) return { body: m.Body ?? '', attributes };
      }
      return undefined;
    },
    timeoutMs,
  );
}
