/**
 * Moves one message from the dead-letter queue back to the main queue. In AWS the operations doc
 * redrives with SQS's message move task, which moves every message of the queue and allows one
 * task per queue at a time (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_StartMessageMoveTask.html);
 * the inspector's button moves one, so it does what a move does by hand: the same body and
 * message attributes sent to the main queue as a new message, then deleted from the dead-letter
 * queue. (AWS does not say in that reference whether a moved message keeps its attributes; we
 * assume it does, and keep them: `bodyEncoding` among them is needed to decode the body.)
 * SQS has no "receive this message id", so the dead-letter queue is read until the message shows
 * up; every other message read on the way is made visible again at once with a visibility timeout
 * of 0, the minimum (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ChangeMessageVisibility.html).
 */
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { decodeQueueBody } from '../../lambda/shared/queue-body';

/** How long a read dead-letter message stays hidden while the redrive handles it, in seconds. */
const HIDE_SECONDS = 30;
/** How many reads of up to 10 messages before giving up (the local DLQ holds far fewer). */
const MAX_READS = 50;

/** Where the redrive reads and writes. */
export interface RedriveQueues {
  readonly sqs: SQSClient;
  readonly deadLetterQueueUrl: string;
  readonly queueUrl: string;
}

/** The message moved: its decoded body (as signed) and event id. */
export interface Redriven {
  readonly body: string;
  readonly eventId?: string;
}

/**
 * Moves the dead-letter message `messageId` to the main queue; undefined when it is not in the
 * dead-letter queue (already redriven, or never there). `signal` bounds every SQS call.
 */
export async function redriveDeadLetter(queues: RedriveQueues, messageId: string, signal: AbortSignal): Promise<Redriven | undefined> {
  const { sqs, deadLetterQueueUrl } = queues;
  const seen = new Set<string>();
  const others: Message[] = [];
  try {
    for (let read = 0; read < MAX_READS; read++) {
      const out = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: deadLetterQueueUrl,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: HIDE_SECONDS,
          WaitTimeSeconds: 0,
          MessageAttributeNames: ['All'],
        }),
        { abortSignal: signal },
      );
      const messages = out.Messages ?? [];
      const fresh = messages.filter((m) => !seen.has(m.MessageId ?? ''));
      const target = messages.find((m) => m.MessageId === messageId);
      for (const m of messages) if (m !== target) others.push(m);
      if (target) return await move(target, queues, signal);
      if (fresh.length === 0) return undefined;
      for (const m of fresh) seen.add(m.MessageId ?? '');
    }
    return undefined;
  } finally {
    // The others were only looked at: visible again now, not after HIDE_SECONDS.
    await Promise.all(
      others.map((m) =>
        sqs
          .send(new ChangeMessageVisibilityCommand({ QueueUrl: deadLetterQueueUrl, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0 }), {
            abortSignal: signal,
          })
          .catch(() => undefined),
      ),
    );
  }
}

async function move(message: Message, { sqs, deadLetterQueueUrl, queueUrl }: RedriveQueues, signal: AbortSignal): Promise<Redriven> {
  await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: message.Body ?? '', MessageAttributes: message.MessageAttributes }), {
    abortSignal: signal,
  });
  // Sent first, deleted second: a failure in between leaves a copy in both queues, never in none
  // (the processor's idempotency skips the second).
  await sqs.send(new DeleteMessageCommand({ QueueUrl: deadLetterQueueUrl, ReceiptHandle: message.ReceiptHandle }), { abortSignal: signal });
  const attributes = Object.fromEntries(Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [name, { stringValue: value.StringValue }]));
  const body = decodeQueueBody(message.Body ?? '', attributes);
  return { body, eventId: message.MessageAttributes?.eventId?.StringValue };
}
