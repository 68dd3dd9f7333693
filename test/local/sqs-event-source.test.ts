import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSqsS3, type LocalSqsS3 } from '../../local/services/sqs-s3';
import { startSqsEventSource } from '../../local/sqs-event-source';

// The local event source against real local SQS (fauxqs over HTTP): Lambda's SQS semantics.
let service: LocalSqsS3;
let sqs: SQSClient;
beforeAll(async () => {
  service = await startSqsS3();
  sqs = new SQSClient({
    region: 'us-east-1',
    endpoint: service.endpoint,
    credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
    useQueueUrlAsEndpoint: false,
  });
});
afterAll(() => service.stop());

async function queuePair(name: string, maxReceiveCount: number) {
  const dlq = (await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }))).QueueUrl!;
  const dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
  const queue = (
    await sqs.send(
      new CreateQueueCommand({
        QueueName: name,
        Attributes: { VisibilityTimeout: '1', RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: String(maxReceiveCount) }) },
      }),
    )
  ).QueueUrl!;
  const queueArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queue, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
  return { queue, queueArn, dlq };
}

async function dlqBodies(dlq: string): Promise<string[]> {
  const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlq, MaxNumberOfMessages: 10, VisibilityTimeout: 0 }));
  return (out.Messages ?? []).map((m) => m.Body ?? '').sort();
}

const until = async (check: () => Promise<boolean> | boolean, ms = 15_000) => {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
};

describe('local SQS event source', () => {
  it('hands batches of at most batchSize, deletes what succeeded, redelivers failures, and redrives after maxReceiveCount', async () => {
    const { queue, queueArn, dlq } = await queuePair('semantics', 2);
    for (let i = 0; i < 7; i++) {
      await sqs.send(
        new SendMessageCommand({ QueueUrl: queue, MessageBody: `m${i}`, MessageAttributes: { eventId: { DataType: 'String', StringValue: `e${i}` } } }),
      );
    }
    const seen: Array<{ size: number; bodies: string[]; counts: string[] }> = [];
    const source = startSqsEventSource({
      sqs,
      queueUrl: queue,
      queueArn,
      region: 'us-east-1',
      batchSize: 3,
      maxConcurrency: 1,
      invoke: async (event: SQSEvent) => {
        seen.push({
          size: event.Records.length,
          bodies: event.Records.map((r) => r.body),
          counts: event.Records.map((r) => r.attributes.ApproximateReceiveCount),
        });
        expect(event.Records[0]).toMatchObject({ eventSource: 'aws:sqs', eventSourceARN: queueArn, messageAttributes: { eventId: { dataType: 'String' } } });
        return { batchItemFailures: event.Records.filter((r) => r.body === 'm2').map((r) => ({ itemIdentifier: r.messageId })) };
      },
    });
    try {
      await until(async () => (await dlqBodies(dlq)).includes('m2'));
    } finally {
      await source.stop();
    }
    expect(Math.max(...seen.map((b) => b.size))).toBeLessThanOrEqual(3);
    const deliveries = (body: string) => seen.flatMap((b) => b.bodies).filter((x) => x === body).length;
    for (const body of ['m0', 'm1', 'm3', 'm4', 'm5', 'm6']) expect(deliveries(body), body).toBe(1);
    expect(deliveries('m2')).toBe(2);
    expect(
      seen
        .flatMap((b) => b.bodies.map((x, i) => [x, b.counts[i]]))
        .filter(([x]) => x === 'm2')
        .map(([, c]) => c),
    ).toEqual(['1', '2']);
    expect(source.stats).toMatchObject({ received: 8, deleted: 6, failedRecords: 2 });
  });

  it('fails the whole batch when the function crashes or names an unknown record', async () => {
    const { queue, queueArn } = await queuePair('whole-batch', 5);
    await sqs.send(new SendMessageCommand({ QueueUrl: queue, MessageBody: 'a' }));
    await sqs.send(new SendMessageCommand({ QueueUrl: queue, MessageBody: 'b' }));
    let calls = 0;
    const source = startSqsEventSource({
      sqs,
      queueUrl: queue,
      queueArn,
      region: 'us-east-1',
      batchSize: 10,
      maxConcurrency: 1,
      invoke: async () => {
        calls++;
        if (calls === 1) throw new Error('crash');
        if (calls === 2) return { batchItemFailures: [{ itemIdentifier: 'not-a-message-id' }] };
        return { batchItemFailures: [] };
      },
    });
    try {
      await until(() => source.stats.deleted >= 2);
    } finally {
      await source.stop();
    }
    expect(source.stats.failedInvocations).toBe(1);
    expect(source.stats.deleted).toBe(2);
    expect(calls).toBeGreaterThanOrEqual(3);
  });

  it('keeps polling when a delete fails or a listener throws: the record comes back and is deleted later', async () => {
    const { queue, queueArn } = await queuePair('delete-fails', 5);
    await sqs.send(new SendMessageCommand({ QueueUrl: queue, MessageBody: 'x' }));
    let deleteFailures = 0;
    // The real local SQS, except that the first delete fails as a dropped connection would.
    const flaky = {
      send: (command: unknown, options?: unknown) => {
        if (command instanceof DeleteMessageBatchCommand && deleteFailures++ === 0) return Promise.reject(new Error('socket hang up'));
        return sqs.send(command as never, options as never);
      },
    } as unknown as SQSClient;
    const reports: Array<{ error?: Error }> = [];
    let deliveries = 0;
    const source = startSqsEventSource({
      sqs: flaky,
      queueUrl: queue,
      queueArn,
      region: 'us-east-1',
      batchSize: 10,
      maxConcurrency: 1,
      invoke: async () => {
        deliveries++;
        return { batchItemFailures: [] };
      },
      onBatch: (report) => {
        reports.push(report);
        throw new Error('a listener that throws');
      },
    });
    try {
      await until(() => source.stats.deleted >= 1);
    } finally {
      await source.stop();
    }
    expect(deliveries).toBe(2);
    expect(reports[0].error?.message).toBe('socket hang up');
    expect(source.stats.inFlight).toBe(0);
  });
});
