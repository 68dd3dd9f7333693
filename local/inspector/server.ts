/**
 * The inspector's HTTP side, served by the local HTTP API on its own port (after its Host check):
 *
 *   GET  /                          the page (page/index.html, plain HTML, CSS and JS from this folder)
 *   GET  /__inspector/state         every delivery kept, the dead-letter queue, the sample types (JSON)
 *   GET  /__inspector/events        the same, live: server-sent events
 *   GET  /__inspector/media?delivery=N   the stored image of delivery N, from the local archive
 *   POST /__inspector/send          {"type": "..."}: a signed sample event to the webhook route
 *   POST /__inspector/resend        {"delivery": N}: delivery N's request again, byte for byte
 *   POST /__inspector/redrive       {"messageId": "..."}: one dead letter back to the queue
 *
 * A POST is refused (403) unless its Origin is this server's own loopback origin: the Host check
 * stops DNS rebinding, the Origin check stops another page's form or fetch from pressing buttons.
 * Neither the page nor its JSON holds the signing secret, a signature header, or a URL's query.
 * Every answer is same-origin only (Cross-Origin-Resource-Policy), so another page cannot embed a
 * stored photo with an <img> either.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { FACESIGN_EVENT_TYPES, isMediaEventType } from '../../contract/event';
import { signFaceSignPayload } from '../../contract/signature';
import { WEBHOOK_PATH } from '../../contract/webhook-path';
import { buildSampleEvent, sampleMediaUrl } from '../sample-events';
import { isOwnOrigin } from '../services/loopback-host';
import type { DeliveryJournal } from './journal';
import { redriveDeadLetter, type RedriveQueues } from './redrive';
import type { DeadLetterEntry } from '../runtime';

export { isOwnOrigin };

/** The path prefix of the inspector's own routes (the page itself is `/`). */
export const INSPECTOR_PREFIX = '/__inspector/';
/** The largest POST body the inspector reads, in bytes: its requests are a few fields of JSON. */
const MAX_POST_BYTES = 4096;
/** Bound on each call the inspector makes (its own webhook route, S3, SQS), in ms. */
const CALL_TIMEOUT_MS = 30_000;
/** A comment line on every open event stream this often, so that idle streams are seen to be alive. */
const HEARTBEAT_MS = 15_000;

/** A dead-letter message as the page shows it: the runtime's `/__local/status` entries. */
export type DeadLetterView = DeadLetterEntry;

/** What the inspector needs from the runtime. */
export interface InspectorOptions {
  readonly journal: DeliveryJournal;
  /** Signs the sample events; never sent to the page. */
  readonly signingSecret: string;
  /**
   * Origin of the sample media host, for the media sample events.
   * @default - none runs (`npm run dev --public-url`): the media sample buttons are disabled, and a
   * media sample is refused with 409, since its media URL would point nowhere
   */
  readonly sampleMediaOrigin?: string;
  /**
   * The webhook URL to give FaceSign, when deliveries come through a tunnel (`--public-url`): the
   * page shows it beside the local one.
   * @default - none: no tunnel
   */
  readonly publicWebhookUrl?: string;
  readonly s3: S3Client;
  readonly bucket: string;
  readonly queues: RedriveQueues;
  /** The dead-letter queue's messages, oldest first. */
  readonly listDeadLetters: () => Promise<readonly DeadLetterView[]>;
}

/** The inspector's routes. */
export interface Inspector {
  /** Serves the request when it is one of the inspector's; false otherwise. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  /** Ends the open event streams (a server cannot close while they are open). */
  stop(): void;
}

const PAGE_DIR = path.join(__dirname, 'page');
const STATIC: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  [`${INSPECTOR_PREFIX}inspector.mjs`]: { file: 'inspector.mjs', type: 'text/javascript; charset=utf-8' },
  [`${INSPECTOR_PREFIX}inspector.css`]: { file: 'inspector.css', type: 'text/css; charset=utf-8' },
  [`${INSPECTOR_PREFIX}favicon.svg`]: { file: 'favicon.svg', type: 'image/svg+xml' },
};
/** Only this server's own files run or load; nothing from elsewhere, no inline script, no framing. */
const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export function createInspector(options: InspectorOptions): Inspector {
  const { journal } = options;
  const streams = new Set<ServerResponse>();
  let deadLetters: readonly DeadLetterView[] = [];
  let refreshing: Promise<void> | undefined;
  let refreshAgain = false;

  const broadcast = (event: string, data: unknown) => {
    const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const stream of streams) stream.write(frame);
  };
  // One listing at a time; changes that arrive meanwhile cause one more.
  const refreshDeadLetters = (): Promise<void> => {
    if (refreshing) {
      refreshAgain = true;
      return refreshing;
    }
    refreshing = options
      .listDeadLetters()
      .then((list) => {
        deadLetters = list;
        broadcast('dead-letters', list);
      })
      .catch(() => undefined)
      .finally(() => {
        refreshing = undefined;
        if (refreshAgain) {
          refreshAgain = false;
          void refreshDeadLetters();
        }
      });
    return refreshing;
  };
  const unsubscribe = [journal.subscribe((delivery) => broadcast('delivery', delivery)), journal.subscribeDeadLetters(() => void refreshDeadLetters())];
  const heartbeat = setInterval(() => {
    for (const stream of streams) stream.write(': alive\n\n');
  }, HEARTBEAT_MS);
  heartbeat.unref();

  // The sample types the page cannot send here, each with the reason its button shows.
  const unavailableSamples: Record<string, string> = Object.fromEntries(
    FACESIGN_EVENT_TYPES.filter((type) => isMediaEventType(type) && !options.sampleMediaOrigin).map((type) => [type, noSampleMedia(type)]),
  );
  const snapshot = () => ({
    deliveries: journal.deliveries(),
    deadLetters,
    sampleTypes: FACESIGN_EVENT_TYPES,
    unavailableSamples,
    webhookPath: WEBHOOK_PATH,
    publicWebhookUrl: options.publicWebhookUrl ?? null,
  });

  const post = async (req: IncomingMessage, res: ServerResponse, route: string): Promise<void> => {
    const port = req.socket.localPort ?? -1;
    if (!isOwnOrigin(req.headers.origin, port)) {
      return json(res, 403, {
        message: `Origin "${String(req.headers.origin ?? '')}" refused: the inspector's buttons work only from its own page at http://127.0.0.1:${port}/`,
      });
    }
    const input = await readJsonBody(req);
    if (!input.ok) return json(res, input.status, { message: input.message });
    const webhookUrl = `http://127.0.0.1:${port}${WEBHOOK_PATH}`;
    const body = input.value;
    if (route === 'send') {
      const type = body.type;
      if (typeof type !== 'string' || type.length === 0 || type.length > 128) {
        return json(res, 400, { message: `"type" must be an event type of 1 to 128 characters; received ${JSON.stringify(type ?? null)}` });
      }
      if (isMediaEventType(type) && !options.sampleMediaOrigin) return json(res, 409, { message: noSampleMedia(type) });
      const mediaUrl = isMediaEventType(type) && options.sampleMediaOrigin ? sampleMediaUrl(options.sampleMediaOrigin, type) : undefined;
      const text = JSON.stringify(buildSampleEvent(type, { mediaUrl }));
      const { headers } = signFaceSignPayload(text, options.signingSecret);
      return json(res, 200, await deliver(webhookUrl, { 'content-type': 'application/json', ...headers }, Buffer.from(text)));
    }
    if (route === 'resend') {
      const id = body.delivery;
      const kept = typeof id === 'number' ? journal.keptRequest(id) : undefined;
      if (typeof id !== 'number' || !kept) {
        return json(res, 404, {
          message: `delivery ${JSON.stringify(id ?? null)} cannot be resent: it is not in the journal, or its body was too large to keep`,
        });
      }
      const cancel = journal.expectResend(kept.body, id);
      try {
        return json(res, 200, await deliver(webhookUrl, resendHeaders(kept.headers), kept.body));
      } catch (error) {
        cancel();
        throw error;
      }
    }
    if (route === 'redrive') {
      const messageId = body.messageId;
      if (typeof messageId !== 'string' || messageId.length === 0) {
        return json(res, 400, { message: `"messageId" must be a dead-letter message id; received ${JSON.stringify(messageId ?? null)}` });
      }
      const moved = await redriveDeadLetter(options.queues, messageId, AbortSignal.timeout(CALL_TIMEOUT_MS));
      if (!moved) return json(res, 404, { message: `message ${messageId} is not in the dead-letter queue (already redriven?)` });
      journal.redriven(moved.eventId, sha256Hex(moved.body));
      await refreshDeadLetters();
      return json(res, 200, { redriven: messageId, eventId: moved.eventId ?? null });
    }
    return json(res, 404, { message: 'Not Found' });
  };

  const thumbnail = async (url: URL, res: ServerResponse): Promise<void> => {
    const delivery = journal.get(Number(url.searchParams.get('delivery')));
    // Only what the journal recorded as a stored image: never an arbitrary key, never a URL.
    if (!delivery?.media?.thumbnail) return json(res, 404, { message: 'no stored image for this delivery' });
    const out = await options.s3.send(new GetObjectCommand({ Bucket: options.bucket, Key: delivery.media.key }), {
      abortSignal: AbortSignal.timeout(CALL_TIMEOUT_MS),
    });
    res.writeHead(200, {
      'content-type': delivery.media.contentType,
      'x-content-type-options': 'nosniff',
      'content-security-policy': "default-src 'none'; sandbox",
      // An <img> needs no CORS: without this, any web page open in the browser could embed a
      // stored photo (and learn from its size which deliveries hold one).
      'cross-origin-resource-policy': 'same-origin',
      'cache-control': 'private, max-age=3600',
    });
    (out.Body as Readable).pipe(res);
  };

  return {
    handle(req, res) {
      const url = new URL(req.url ?? '/', 'http://local');
      const file = STATIC[url.pathname];
      if (file && req.method === 'GET') {
        const text = readFileSync(path.join(PAGE_DIR, file.file));
        res.writeHead(200, { ...pageHeaders(), 'content-type': file.type, 'content-length': text.length });
        res.end(text);
        return true;
      }
      if (!url.pathname.startsWith(INSPECTOR_PREFIX)) return false;
      const route = url.pathname.slice(INSPECTOR_PREFIX.length);
      const failed = (error: Error) => {
        if (!res.headersSent) json(res, 502, { message: `the inspector could not do this: ${error.message}` });
        else res.destroy();
      };
      if (req.method === 'POST') {
        post(req, res, route).catch(failed);
      } else if (req.method === 'GET' && route === 'state') {
        json(res, 200, snapshot());
      } else if (req.method === 'GET' && route === 'events') {
        res.writeHead(200, { ...pageHeaders(), 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store' });
        res.write(`retry: 1000\nevent: snapshot\ndata: ${JSON.stringify(snapshot())}\n\n`);
        streams.add(res);
        req.on('close', () => streams.delete(res));
        void refreshDeadLetters();
      } else if (req.method === 'GET' && route === 'media') {
        thumbnail(url, res).catch(failed);
      } else {
        json(res, 404, { message: 'Not Found' });
      }
      return true;
    },
    stop() {
      clearInterval(heartbeat);
      for (const stop of unsubscribe) stop();
      for (const stream of streams) stream.end();
      streams.clear();
    },
  };
}

/** Why a media sample cannot be sent without the sample media host. */
function noSampleMedia(type: string): string {
  return `${type} needs the sample media host to download from, and none runs here (npm run dev starts it, except with --public-url, where media comes from FaceSign): npm run send-event -- ${type} --media-url <https URL on an allowed media host> sends one`;
}

/** POSTs to the webhook route and reports the answer; the journal records the delivery itself. */
async function deliver(url: string, headers: Record<string, string>, body: Buffer): Promise<{ status: number; answer: string }> {
  const response = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(CALL_TIMEOUT_MS) });
  return { status: response.status, answer: await response.text() };
}

/** The headers a delivery is resent with: what the sender chose, not what the connection set. */
function resendHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  const hopByHop = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive', 'origin', 'referer']);
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !hopByHop.has(name) && !name.startsWith('sec-')));
}

function pageHeaders(): Record<string, string> {
  return {
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'cross-origin-resource-policy': 'same-origin',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
  };
}

type JsonBody = { ok: true; value: Record<string, unknown> } | { ok: false; status: number; message: string };

async function readJsonBody(req: IncomingMessage): Promise<JsonBody> {
  const type = String(req.headers['content-type'] ?? '');
  if (!/^application\/json\b/i.test(type)) return { ok: false, status: 415, message: `Content-Type must be application/json; received "${type}"` };
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_POST_BYTES) return { ok: false, status: 413, message: `the request body is over ${MAX_POST_BYTES} bytes` };
    chunks.push(chunk as Buffer);
  }
  try {
    const value = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      return { ok: false, status: 400, message: 'the request body must be a JSON object' };
    return { ok: true, value: value as Record<string, unknown> };
  } catch {
    return { ok: false, status: 400, message: 'the request body is not JSON' };
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'cross-origin-resource-policy': 'same-origin',
  });
  res.end(text);
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(Buffer.from(text, 'utf8')).digest('hex');
}
