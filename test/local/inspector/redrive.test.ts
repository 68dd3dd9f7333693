import { CreateQueueCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redriveDeadLetter, type RedriveQueues } from '../../../local/inspector/redrive';
import { startSqsS3, type LocalSqsS3 } from '../../../local/services/sqs-s3';

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
afterAll(async () => {
  sqs?.destroy();
  await service?.stop();
});

let n = 0;
async function queues(): Promise<RedriveQueues> {
  n++;
  const create = async (name: string) => (await sqs.send(new CreateQueueCommand({ QueueName: `${name}-${n}` }))).QueueUrl!;
  return { sqs, queueUrl: await create('main'), deadLetterQueueUrl: await create('dlq') };
}

const text = (value: string) => ({ DataType: 'String', StringValue: value });

async function deadLetter(q: RedriveQueues, body: string, attributes: Record<string, string>): Promise<string> {
  const out = await q.sqs.send(
    new SendMessageCommand({
      QueueUrl: q.deadLetterQueueUrl,
      MessageBody: body,
      MessageAttributes: Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, text(v)])),
    }),
  );
  return out.MessageId!;
}

/** Every message now receivable, at once (made invisible for a minute so each is read once). */
async function receiveAll(url: string): Promise<Message[]> {
  const all: Message[] = [];
  for (;;) {
    const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 60, MessageAttributeNames: ['All'] }));
    if (!out.Messages?.length) return all;
    all.push(...out.Messages);
  }
}

describe('redriveDeadLetter', () => {
  it('moves one message with its body and attributes, and leaves the others visible at once', async () => {
    const q = await queues();
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push(await deadLetter(q, `{"id":"evt_${i}"}`, { eventId: `evt_${i}`, failureReason: 'media_not_available' }));
    const encoded = Buffer.from('{"id":"evt_odd","note":"\uFFFE"}', 'utf8').toString('base64');
    const odd = await deadLetter(q, encoded, { eventId: 'evt_odd', bodyEncoding: 'base64' });

    const moved = await redriveDeadLetter(q, ids[7], AbortSignal.timeout(10_000));
    expect(moved).toEqual({ body: '{"id":"evt_7"}', eventId: 'evt_7' });
    // The base64 body comes back decoded, its encoding attribute moved with it.
    expect(await redriveDeadLetter(q, odd, AbortSignal.timeout(10_000))).toEqual({ body: '{"id":"evt_odd","note":"\uFFFE"}', eventId: 'evt_odd' });

    const main = await receiveAll(q.queueUrl);
    expect(main.map((m) => m.Body)).toEqual(['{"id":"evt_7"}', encoded]);
    expect(main[0].MessageAttributes?.failureReason?.StringValue).toBe('media_not_available');
    expect(main[1].MessageAttributes?.bodyEncoding?.StringValue).toBe('base64');
    const left = await receiveAll(q.deadLetterQueueUrl);
    expect(left.map((m) => m.MessageId).sort()).toEqual(ids.filter((id) => id !== ids[7]).sort());
  });

  it('answers undefined for a message that is not in the dead-letter queue, and moves nothing', async () => {
    const q = await queues();
    const id = await deadLetter(q, '{"id":"evt_a"}', {});
    expect(await redriveDeadLetter(q, 'no-such-message', AbortSignal.timeout(10_000))).toBeUndefined();
    expect(await receiveAll(q.queueUrl)).toEqual([]);
    expect((await receiveAll(q.deadLetterQueueUrl)).map((m) => m.MessageId)).toEqual([id]);
  });

  it('gives up when its time is up', async () => {
    const q = await queues();
    await deadLetter(q, '{"id":"evt_a"}', {});
    await expect(redriveDeadLetter(q, 'x', AbortSignal.abort(new Error('out of time')))).rejects.toThrow();
  });
});
