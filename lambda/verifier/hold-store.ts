/**
 * Holds a refused delivery in FaceSign's form: its exact bytes and signature headers, encrypted
 * under the construct's key in `held/`, for `npm run reverify` once the secret is fixed. Capped in
 * rate across every verifier instance by a conditional counter per clock hour, so a forger who
 * makes requests look like FaceSign's cannot fill the bucket or the bill. Never throws: every
 * outcome is `held` or a drop reason, and the 401 does not depend on it.
 */
import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException, UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  HELD_CONTENT_TYPE_MAX,
  HELD_DELIVERY_VERSION,
  HELD_TIMESTAMP_HEADER_MAX,
  HOLD_COUNTER_KEY_PREFIX,
  HOLD_WINDOW_SECONDS,
  heldDeliveryKey,
  type HeldDelivery,
} from '../../contract/held-delivery';
import { getHeader, SIGNATURE_HEADER, TIMESTAMP_HEADER, type HeaderBag } from '../../contract/signature';
import { objectEncryption } from '../shared/object-encryption';
import type { FaceSignLookalike } from './wrong-secret';

/** Why a delivery that should have been held was not. The HoldsDropped metric's `Reason`. */
export type HoldDropReason = 'rate_limit' | 'counter_unavailable' | 'store_unavailable';

/** The outcome of one hold. */
export type HoldOutcome =
  { readonly held: true; readonly key: string } | { readonly held: false; readonly reason: HoldDropReason; readonly errorName?: string };

/** A refused delivery to hold. */
export interface HoldRequest {
  readonly bytes: Uint8Array;
  readonly headers: HeaderBag;
  readonly receivedAtMs: number;
  readonly lookalike: FaceSignLookalike;
}

/** Where and how holds are kept. */
export interface HoldStoreOptions {
  readonly s3: S3Client;
  readonly bucket: string;
  /** SSE-KMS under this key; unset means the bucket's default encryption. */
  readonly encryptionKeyArn?: string;
  readonly dynamodb: DynamoDBClient;
  readonly counterTable: string;
  /** Most holds per clock hour, across all instances. */
  readonly maxPerHour: number;
}

/** How long a counter item outlives its hour, for DynamoDB's TTL to remove it (TTL deletes within days, so it only tidies). */
const COUNTER_TTL_SLACK_SECONDS = 3600;

/** Holds deliveries; one per execution environment. */
export class DeliveryHoldStore {
  /** The hour this instance already found full: no more counter calls (or their cost) until the next one. */
  private fullWindow: number | undefined;

  constructor(private readonly options: HoldStoreOptions) {}

  /** Counts the hold against the hour's cap, then stores it. `signal` aborts both calls. */
  async hold(request: HoldRequest, signal?: AbortSignal): Promise<HoldOutcome> {
    const window = Math.floor(request.receivedAtMs / 1000 / HOLD_WINDOW_SECONDS);
    if (this.fullWindow === window) return { held: false, reason: 'rate_limit' };
    try {
      await this.options.dynamodb.send(
        new UpdateItemCommand({
          TableName: this.options.counterTable,
          Key: { id: { S: `${HOLD_COUNTER_KEY_PREFIX}${window}` } },
          UpdateExpression: 'ADD #count :one SET #expiration = if_not_exists(#expiration, :expiration)',
          // Atomic across instances: DynamoDB evaluates the condition and the update as one write.
          // https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/WorkingWithItems.html#WorkingWithItems.ConditionalUpdate
          ConditionExpression: 'attribute_not_exists(#count) OR #count < :max',
          ExpressionAttributeNames: { '#count': 'count', '#expiration': 'expiration' },
          ExpressionAttributeValues: {
            ':one': { N: '1' },
            ':max': { N: String(this.options.maxPerHour) },
            ':expiration': { N: String((window + 1) * HOLD_WINDOW_SECONDS + COUNTER_TTL_SLACK_SECONDS) },
          },
        }),
        { abortSignal: signal },
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException || (error as Error)?.name === 'ConditionalCheckFailedException') {
        this.fullWindow = window;
        return { held: false, reason: 'rate_limit' };
      }
      return { held: false, reason: 'counter_unavailable', errorName: errorName(error) };
    }
    const sha256 = createHash('sha256').update(request.bytes).digest('hex');
    const key = heldDeliveryKey(request.receivedAtMs, sha256);
    try {
      await this.options.s3.send(
        new PutObjectCommand({
          Bucket: this.options.bucket,
          Key: key,
          Body: JSON.stringify(heldDelivery(request)),
          ContentType: 'application/json',
          ...objectEncryption(this.options.encryptionKeyArn),
        }),
        { abortSignal: signal },
      );
    } catch (error) {
      return { held: false, reason: 'store_unavailable', errorName: errorName(error) };
    }
    return { held: true, key };
  }
}

/** The stored form of a request: the body's exact bytes, and the headers its signature may need. */
export function heldDelivery(request: HoldRequest): HeldDelivery {
  const timestamp = getHeader(request.headers, TIMESTAMP_HEADER);
  const contentType = getHeader(request.headers, 'content-type');
  return {
    version: HELD_DELIVERY_VERSION,
    receivedAt: request.receivedAtMs,
    headers: {
      'x-facesign-signature': getHeader(request.headers, SIGNATURE_HEADER) ?? '',
      ...(timestamp !== undefined && timestamp.length <= HELD_TIMESTAMP_HEADER_MAX ? { 'x-facesign-timestamp': timestamp } : {}),
      ...(contentType !== undefined ? { 'content-type': contentType.slice(0, HELD_CONTENT_TYPE_MAX) } : {}),
    },
    body: Buffer.from(request.bytes).toString('base64'),
    claimed: { id: request.lookalike.id, type: request.lookalike.type, sessionId: request.lookalike.sessionId },
  };
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : 'unknown error';
}
