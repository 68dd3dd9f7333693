import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { VerifiedEvent } from './handle-webhook';

/**
 * Sends a verified event to the queue: the exact signed body, with the event's type, id and
 * session id as message attributes (so a queue or DLQ message can be triaged without parsing it).
 * Resolves only once SQS has accepted the message.
 */
export async function enqueueVerifiedEvent(client: SQSClient, queueUrl: string, { rawBody, event }: VerifiedEvent): Promise<void> {
  await client.send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: rawBody,
      MessageAttributes: {
        eventType: { DataType: 'String', StringValue: event.type },
        eventId: { DataType: 'String', StringValue: event.id },
        sessionId: { DataType: 'String', StringValue: event.sessionId },
      },
    }),
  );
}
