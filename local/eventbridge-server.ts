/**
 * A minimal EventBridge endpoint for local development and tests: PutEvents over the AWS JSON 1.1
 * protocol, on 127.0.0.1 only. It keeps what was published (and appends it to a JSON-lines file
 * when given one), so a person or a test can see what rules would receive.
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { refuseForeignHost } from './services/loopback-host';
import { listenOnLoopback } from './services/ports';
import { rememberRecent } from './recent';

/** EventBridge's limit on an entry's DetailType, in characters. */
const MAX_DETAIL_TYPE_LENGTH = 128;

/** One published entry. */
export interface PublishedEvent {
  readonly eventBusName: string;
  readonly source: string;
  readonly detailType: string;
  readonly detail: unknown;
}

/** A running local EventBridge. */
export interface LocalEventBridge {
  readonly endpoint: string;
  /** The most recent 10,000 entries; the log file keeps them all. */
  readonly published: PublishedEvent[];
  /** Every entry published since the start, including those no longer in `published`. */
  readonly publishedTotal: number;
  close(): Promise<void>;
}

/** Starts it on 127.0.0.1; `onPublish` is told about each entry (the inspector's journal). */
export async function startEventBridge(logFile?: string, onPublish?: (event: PublishedEvent) => void): Promise<LocalEventBridge> {
  const published: PublishedEvent[] = [];
  let publishedTotal = 0;
  const server: Server = createServer((req, res) => {
    if (refuseForeignHost(req, res)) return;
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString('utf8')));
    req.on('end', () => {
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(body));
      };
      if (req.headers['x-amz-target'] !== 'AWSEvents.PutEvents') {
        return reply(400, { __type: 'UnknownOperationException', message: `operation ${String(req.headers['x-amz-target'])} is not supported locally` });
      }
      let input: { Entries?: Array<{ EventBusName?: string; Source?: string; DetailType?: string; Detail?: string }> };
      try {
        input = JSON.parse(text);
      } catch {
        return reply(400, { __type: 'SerializationException', message: 'body is not JSON' });
      }
      // As AWS: a DetailType over 128 characters fails the whole request's validation
      // (https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEventsRequestEntry.html).
      const tooLong = (input.Entries ?? []).findIndex((e) => (e.DetailType ?? '').length > MAX_DETAIL_TYPE_LENGTH);
      if (tooLong >= 0) {
        return reply(400, {
          __type: 'ValidationException',
          message: `1 validation error detected: Value at 'entries.${tooLong + 1}.member.detailType' failed to satisfy constraint: Member must have length less than or equal to ${MAX_DETAIL_TYPE_LENGTH}`,
        });
      }
      const entries = (input.Entries ?? []).map((e) => {
        const event: PublishedEvent = {
          eventBusName: e.EventBusName ?? 'default',
          source: e.Source ?? '',
          detailType: e.DetailType ?? '',
          detail: JSON.parse(e.Detail ?? '{}'),
        };
        rememberRecent(published, event);
        publishedTotal++;
        if (logFile) appendFileSync(logFile, `${JSON.stringify(event)}\n`, { mode: 0o600 });
        try {
          onPublish?.(event);
        } catch {
          // An observer's mistake is not EventBridge's.
        }
        return { EventId: randomUUID() };
      });
      reply(200, { FailedEntryCount: 0, Entries: entries });
    });
  });
  const listener = await listenOnLoopback(server);
  const { port } = listener;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    published,
    get publishedTotal() {
      return publishedTotal;
    },
    close: listener.close,
  };
}
