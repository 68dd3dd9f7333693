/**
 * The processor handler as unit tests drive it: its environment, a Lambda context, SQS events, and
 * the SQS and EventBridge mocks answering as AWS does when all is well. S3 and DynamoDB are
 * captured by s3-capture.ts and idempotency-table.ts, which each test file sets up itself.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, vi } from 'vitest';
import { deadlineIn } from '../../lambda/processor/deadline';
import type { RecordDependencies } from '../../lambda/processor/routing';
import { S3Client } from '@aws-sdk/client-s3';
import { ENV } from '../../contract/function-environment';
import { startMediaServer, type MediaServer } from './media-server';
import { silentLogger } from './observability';

export type ProcessorHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/** Stubs the processor's environment (extra variables override) and imports a fresh handler. */
export async function loadProcessorHandler(mediaHost: string, extra: Record<string, string> = {}): Promise<ProcessorHandler> {
  const env: Record<string, string> = {
    [ENV.bucketName]: 'archive-bucket',
    [ENV.idempotencyTableName]: 'idempotency',
    [ENV.queueUrl]: 'https://sqs/q',
    [ENV.deadLetterQueueUrl]: 'https://sqs/dlq',
    [ENV.allowedMediaHosts]: mediaHost,
    [ENV.mediaAllowHttpLoopback]: 'true',
    [ENV.eventBusName]: 'facesign-bus',
    AWS_REGION: 'eu-west-1',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    ...extra,
  };
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  vi.resetModules();
  return (await import('../../lambda/processor/index.js')).handler as ProcessorHandler;
}

/** A Lambda context with a minute left. */
export function processorContext(): Context {
  return {
    awsRequestId: `req-${Math.random()}`,
    functionName: 'processor',
    functionVersion: '1',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:processor',
    memoryLimitInMB: '1024',
    getRemainingTimeInMillis: () => 60_000,
  } as Context;
}

let nextMessage = 0;

/** One SQS record as Lambda's event source delivers it. */
export function sqsRecord(body: string, options: { receiveCount?: number; sentAt?: number; attributes?: Record<string, string> } = {}): SQSRecord {
  return {
    messageId: `msg-${nextMessage++}`,
    receiptHandle: 'rh',
    body,
    attributes: {
      ApproximateReceiveCount: String(options.receiveCount ?? 1),
      ...(options.sentAt !== undefined ? { SentTimestamp: String(options.sentAt) } : {}),
    } as SQSRecord['attributes'],
    messageAttributes: Object.fromEntries(Object.entries(options.attributes ?? {}).map(([k, v]) => [k, { dataType: 'String', stringValue: v }])),
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:q',
    awsRegion: 'eu-west-1',
  };
}

/** The SQS and EventBridge mocks, reset to answer as AWS does when all is well. */
export function resetQueueAndBusMocks(sqsMock: AwsClientStub<SQSClient>, busMock: AwsClientStub<EventBridgeClient>): void {
  sqsMock.reset();
  sqsMock.on(SendMessageCommand).resolves({ MessageId: 'dlq' });
  sqsMock.on(ChangeMessageVisibilityCommand).resolves({});
  busMock.reset();
  busMock.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
}

/**
 * What `processRecord` needs, for tests that call it directly: SQS at fixed URLs, the documented
 * retry settings, a silent logger, a minute's deadline, units that fail the test if called;
 * `overrides` replace any of it.
 */
export function recordDependencies(metrics: RecordDependencies['metrics'], overrides: Partial<RecordDependencies> = {}): RecordDependencies {
  return {
    metrics,
    processEventOnce: () => Promise.reject(new Error('processEventOnce was not expected to be called')),
    quarantineOnce: () => Promise.reject(new Error('quarantineOnce was not expected to be called')),
    store: { s3: new S3Client({ region: 'eu-west-1' }), bucket: 'b' },
    deadline: deadlineIn(60_000),
    now: Date.now,
    random: Math.random,
    sqs: new SQSClient({ region: 'eu-west-1' }),
    queueUrl: 'https://sqs/q',
    deadLetterQueueUrl: 'https://sqs/dlq',
    maxReceiveCount: 5,
    retryBaseDelaySeconds: 10,
    logger: silentLogger(),
    ...overrides,
  };
}

/** The processor handler, a loopback media host, and the mocks reset around every test. */
export interface ProcessorTestbed {
  readonly handler: ProcessorHandler;
  readonly media: MediaServer;
}

/**
 * Registers the hooks every handler-level processor test file needs: a media host and a fresh
 * handler before all, the SQS and EventBridge mocks reset before each, S3's call history cleared
 * after each. Read `handler` and `media` inside tests (they exist once `beforeAll` has run).
 */
export function processorTestbed(
  sqsMock: AwsClientStub<SQSClient>,
  busMock: AwsClientStub<EventBridgeClient>,
  s3Mock: { resetHistory(): void },
): ProcessorTestbed {
  let handler: ProcessorHandler | undefined;
  let media: MediaServer | undefined;
  beforeAll(async () => {
    media = await startMediaServer();
    handler = await loadProcessorHandler(media.host);
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await media?.close();
  });
  beforeEach(() => resetQueueAndBusMocks(sqsMock, busMock));
  afterEach(() => s3Mock.resetHistory());
  return {
    get handler() {
      if (!handler) throw new Error('the processor handler is loaded in beforeAll');
      return handler;
    },
    get media() {
      if (!media) throw new Error('the media host starts in beforeAll');
      return media;
    },
  };
}
