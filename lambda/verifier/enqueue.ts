import { SendMessageCommand, type MessageAttributeValue, type SQSClient } from '@aws-sdk/client-sqs';
import { BODY_ENCODING_ATTRIBUTE, encodeQueueBody } from '../shared/queue-body';
import { UNRECOGNIZED_ENVELOPE_ATTRIBUTE } from '../../contract/quarantine';
import type { VerifiedEvent } from './handle-webhook';

/**
 * Sends a verified event to the queue: the exact signed body, with the event's type, id and
 * session id as message attributes (so a queue or DLQ message can be triaged without parsing it).
 * An unrecognized envelope carries whichever of those it has in a usable form, and
 * `unrecognizedEnvelope` with the problem code. Resolves only once SQS has accepted the message;
 * rejects when `signal` aborts first.
 */
export async function enqueueVerifiedEvent(client: SQSClient, queueUrl: string, verified: VerifiedEvent, signal?: AbortSignal): Promise<void> {
  const ids = verified.event ?? verified.unrecognized.ids;
  const attributes: Record<string, MessageAttributeValue> = {};
  if (ids.type) attributes.eventType = text(ids.type);
  if (ids.id) attributes.eventId = text(ids.id);
  if (ids.sessionId) attributes.sessionId = text(ids.sessionId);
  if (verified.unrecognized) attributes[UNRECOGNIZED_ENVELOPE_ATTRIBUTE] = text(verified.unrecognized.problem);
  // A body with characters SQS cannot carry (U+FFFE, U+FFFF) travels base64-encoded (queue-body.ts).
  const { messageBody, encoding } = encodeQueueBody(verified.rawBody);
  if (encoding) attributes[BODY_ENCODING_ATTRIBUTE] = text(encoding);
  await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: messageBody, MessageAttributes: attributes }), { abortSignal: signal });
}

function text(value: string): MessageAttributeValue {
  return { DataType: 'String', StringValue: value };
}
