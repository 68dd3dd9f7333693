/**
 * The local stand-in for Lambda's SQS event source mapping: long-polls the queue, hands batches
 * of up to `batchSize` records to the function with at most `maxConcurrency` batches in flight,
 * deletes the records the function did not report as failed, and leaves the rest to come back
 * after their visibility timeout. SQS itself (fauxqs) moves a message to the dead-letter queue
 * after `maxReceiveCount` receives, as the redrive policy says.
 */
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import { rememberRecent } from './recent';

/** How the event source runs. */
export interface SqsEventSourceOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly region: string;
  readonly batchSize: number;
  readonly maxConcurrency: number;
  readonly invoke: (event: SQSEvent) => Promise<SQSBatchResponse | null | undefined>;
  /** Told about every batch: how many records, how many failed, or the invocation error. */
  readonly onBatch?: (report: { records: number; failed: number; error?: Error }) => void;
}

/** What the event source has done so far. */
export interface SqsEventSourceStats {
  received: number;
  deleted: number;
  failedRecords: number;
  failedInvocations: number;
  /** Records in invocations running now. */
  inFlight: number;
  /** Event ids of the bodies received, in order, the most recent 10,000 (for inspection). */
  readonly receivedEventIds: string[];
}

/** Converts an SQS API message into the record Lambda hands to the function. */
export function toLambdaRecord(message: Message, queueArn: string, region: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  const messageAttributes: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    messageAttributes[name] = {
      dataType: value.DataType ?? 'String',
      stringValue: value.StringValue,
      binaryValue: value.BinaryValue ? Buffer.from(value.BinaryValue).toString('base64') : undefined,
      stringListValues: [],
      binaryListValues: [],
    };
  }
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? '000000000000',
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes,
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

/**
 * Starts polling. `stop()` stops receiving and waits for the batches in flight; stop the function
 * first to end them at once (their records are then not deleted, as after any failed invocation).
 * Nothing that goes wrong in a batch (the invocation, the delete, a listener) stops the polling.
 */
export function startSqsEventSource(options: SqsEventSourceOptions): { stats: SqsEventSourceStats; stop(): Promise<void> } {
  const stats: SqsEventSourceStats = { received: 0, deleted: 0, failedRecords: 0, failedInvocations: 0, inFlight: 0, receivedEventIds: [] };
  let stopped = false;
  const controller = new AbortController();

  const poll = async () => {
    while (!stopped) {
      let messages: Message[] = [];
      try {
        const out = await options.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: options.queueUrl,
            MaxNumberOfMessages: options.batchSize,
            WaitTimeSeconds: 1,
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
          { abortSignal: controller.signal },
        );
        messages = out.Messages ?? [];
      } catch {
        if (stopped) return;
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      if (messages.length === 0) continue;
      stats.received += messages.length;
      for (const m of messages) rememberRecent(stats.receivedEventIds, eventIdOf(m.Body));
      stats.inFlight += messages.length;
      try {
        await handleBatch(messages);
      } catch {
        // handleBatch reports its own failures; whatever else went wrong, the records come back
        // after their visibility timeout, and this poller carries on.
      } finally {
        stats.inFlight -= messages.length;
      }
    }
  };

  const report = (batch: { records: number; failed: number; error?: Error }) => {
    try {
      options.onBatch?.(batch);
    } catch {
      // A listener's mistake is not the event source's.
    }
  };

  const handleBatch = async (messages: Message[]) => {
    const records = messages.map((m) => toLambdaRecord(m, options.queueArn, options.region));
    let failedIds: Set<string>;
    try {
      const response = await options.invoke({ Records: records });
      const failures = response?.batchItemFailures ?? [];
      const known = new Set(records.map((r) => r.messageId));
      // Lambda treats a response naming an unknown or empty identifier as a failure of the whole batch.
      failedIds = failures.every((f) => known.has(f.itemIdentifier)) ? new Set(failures.map((f) => f.itemIdentifier)) : known;
    } catch (error) {
      stats.failedInvocations++;
      stats.failedRecords += records.length;
      report({ records: records.length, failed: records.length, error: error as Error });
      return;
    }
    stats.failedRecords += failedIds.size;
    const done = messages.filter((m) => !failedIds.has(m.MessageId ?? ''));
    if (done.length > 0) {
      try {
        const out = await options.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: options.queueUrl,
            Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
          }),
        );
        stats.deleted += out.Successful?.length ?? 0;
      } catch (error) {
        // Not deleted: the records come back after their visibility timeout and are skipped as duplicates.
        report({ records: records.length, failed: failedIds.size, error: error as Error });
        return;
      }
    }
    report({ records: records.length, failed: failedIds.size });
  };

  const loops = Array.from({ length: options.maxConcurrency }, () => poll());
  return {
    stats,
    stop: async () => {
      stopped = true;
      controller.abort();
      await Promise.allSettled(loops);
    },
  };
}

function eventIdOf(body: string | undefined): string {
  try {
    const id = (JSON.parse(body ?? '') as { id?: unknown }).id;
    return typeof id === 'string' ? id : '';
  } catch {
    return '';
  }
}
