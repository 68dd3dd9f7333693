/**
 * The hold's rate cap across verifier instances, against a real DynamoDB implementation (dynalite
 * over HTTP) rather than a mock: several execution environments share one counter per clock hour,
 * so together they hold no more than maxPerHour, concurrently too, and a new hour starts afresh.
 */
import { CreateTableCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOLD_COUNTER_KEY_PREFIX } from '../../../contract/held-delivery';
import { DeliveryHoldStore, type HoldRequest } from '../../../lambda/verifier/hold-store';
import { startDynamoDB, type LocalDynamoDB } from '../../../local/services/dynamodb';

const s3 = mockClient(S3Client);
let dynamodb: LocalDynamoDB;
let client: DynamoDBClient;
const TABLE = 'idempotency';

beforeAll(async () => {
  dynamodb = await startDynamoDB('dynalite');
  client = new DynamoDBClient({ region: 'us-east-1', endpoint: dynamodb.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  await client.send(
    new CreateTableCommand({
      TableName: TABLE,
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  s3.on(PutObjectCommand).resolves({});
});

afterAll(async () => {
  s3.restore();
  await dynamodb?.stop();
});

/** One execution environment's store: its own instance (and its own memory of a full hour). */
const instance = (maxPerHour: number) =>
  new DeliveryHoldStore({ s3: new S3Client({ region: 'us-east-1' }), bucket: 'archive', dynamodb: client, counterTable: TABLE, maxPerHour });

const request = (receivedAtMs: number, n: number): HoldRequest => ({
  bytes: Buffer.from(`{"n":${n}}`),
  headers: { 'x-facesign-signature': `t=${Math.floor(receivedAtMs / 1000)},v1=${'a'.repeat(64)}` },
  receivedAtMs,
  lookalike: { id: `evt_${n}`, type: 'session.status', sessionId: 'ses', signedAt: Math.floor(receivedAtMs / 1000) },
});

describe('the hold rate cap across instances', () => {
  it('lets three instances together hold exactly maxPerHour in an hour, even all at once', async () => {
    const hour = 480_000; // an hour of its own in this table
    const startMs = hour * 3600_000;
    const instances = [instance(5), instance(5), instance(5)];
    const outcomes = await Promise.all(Array.from({ length: 12 }, (_, n) => instances[n % 3].hold(request(startMs + n, n))));
    expect(outcomes.filter((o) => o.held)).toHaveLength(5);
    expect(outcomes.filter((o) => !o.held).map((o) => !o.held && o.reason)).toEqual(Array(7).fill('rate_limit'));
    const counter = await client.send(new GetItemCommand({ TableName: TABLE, Key: { id: { S: `${HOLD_COUNTER_KEY_PREFIX}${hour}` } } }));
    expect(counter.Item?.count?.N).toBe('5');
    // Removed by DynamoDB's TTL an hour after its window ends.
    expect(counter.Item?.expiration?.N).toBe(String((hour + 2) * 3600));
  });

  it('starts afresh in the next hour', async () => {
    const hour = 480_010;
    const store = instance(1);
    expect((await store.hold(request(hour * 3600_000, 1))).held).toBe(true);
    expect(await store.hold(request(hour * 3600_000 + 1000, 2))).toEqual({ held: false, reason: 'rate_limit' });
    expect((await instance(1).hold(request((hour + 1) * 3600_000, 3))).held).toBe(true);
  });
});
