/**
 * The tunnel opt-in (--public-url): which URLs it takes, which Hosts and paths the local HTTP API
 * then serves, and that what a tunnel forwards verifies as the bytes FaceSign signed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { signFaceSignPayload, verifyFaceSignSignature } from '../../contract/signature';
import { WEBHOOK_PATH } from '../../contract/webhook-path';
import { startHttpApi } from '../../local/http-api';
import { DeliveryJournal } from '../../local/inspector/journal';
import { createInspector } from '../../local/inspector/server';
import { admitRequest, isPublicHost, parsePublicUrl, PublicUrlError } from '../../local/public-url';
import { startLocalRuntime } from '../../local/runtime';
import { sendRaw } from '../support/raw-request';

const TUNNEL = 'abc123.ngrok-free.app';
const PUBLIC_URL = new URL(`https://${TUNNEL}`);

describe('parsePublicUrl', () => {
  it.each([
    ['https://abc123.ngrok-free.app', 'abc123.ngrok-free.app'],
    ['https://abc123.ngrok-free.app/', 'abc123.ngrok-free.app'],
    ['  https://Seven-Words.trycloudflare.com  ', 'seven-words.trycloudflare.com'],
    ['https://hooks.example.com:443', 'hooks.example.com'],
    ['https://hooks.example.com:8443', 'hooks.example.com:8443'],
  ])('takes %s (host %s)', (value, host) => {
    expect(parsePublicUrl(value).host).toBe(host);
  });

  it.each([
    ['http://abc123.ngrok-free.app', /must be an https URL \(FaceSign posts webhooks to https endpoints only/],
    ['abc123.ngrok-free.app', /must be the tunnel's https URL, such as https:\/\/abc123\.ngrok-free\.app; got "abc123\.ngrok-free\.app"/],
    ['', /must be the tunnel's https URL/],
    ['ftp://abc123.ngrok-free.app', /must be an https URL/],
    [
      `https://abc123.ngrok-free.app${WEBHOOK_PATH}`,
      /must be a bare origin, https:\/\/<host>, with no path, query or fragment \(the webhook path \/webhooks\/facesign is added to it\)/,
    ],
    ['https://abc123.ngrok-free.app/?x=1', /must be a bare origin/],
    ['https://abc123.ngrok-free.app?', /must be a bare origin/],
    ['https://abc123.ngrok-free.app#top', /must be a bare origin/],
    ['https://user:pass@abc123.ngrok-free.app', /must not contain credentials/],
    ['https://localhost:3000', /not a name of this machine/],
    ['https://127.0.0.1', /not a name of this machine/],
    ['https://app.localhost', /not a name of this machine/],
    ['https://[::1]', /not a name of this machine/],
  ])('refuses %j', (value, message) => {
    expect(() => parsePublicUrl(value)).toThrow(PublicUrlError);
    expect(() => parsePublicUrl(value)).toThrow(message);
  });

  it('never echoes credentials it refuses', () => {
    expect(() => parsePublicUrl('https://user:hunter2@abc123.ngrok-free.app')).toThrow(/^(?!.*hunter2)/s);
  });
});

describe('isPublicHost', () => {
  it.each([
    [TUNNEL, true],
    ['ABC123.NGROK-FREE.APP', true],
    [`${TUNNEL}:443`, true],
    [`${TUNNEL}:80`, false],
    [`${TUNNEL}:3000`, false],
    [`${TUNNEL}.`, false],
    [`${TUNNEL}.attacker.example`, false],
    [`x${TUNNEL}`, false],
    [`evil@${TUNNEL}`, false],
    [`${TUNNEL}/x`, false],
    ['127.0.0.1:3000', false],
    ['', false],
    [undefined, false],
  ])('%s -> %s', (host, expected) => {
    expect(isPublicHost(host, PUBLIC_URL)).toBe(expected);
  });

  it('with a port in the public URL, only that port', () => {
    const url = parsePublicUrl('https://hooks.example.com:8443');
    expect(isPublicHost('hooks.example.com:8443', url)).toBe(true);
    expect(isPublicHost('hooks.example.com', url)).toBe(false);
    expect(isPublicHost('hooks.example.com:443', url)).toBe(false);
  });
});

describe('admitRequest', () => {
  const forwarded = { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https', 'x-forwarded-host': TUNNEL };
  it.each([
    // [case, host, path, extra headers, opted in, admitted, message]
    ['loopback, any path', '127.0.0.1:3000', '/__local/status', {}, false, true, undefined],
    ['loopback, opted in, any path', 'localhost:3000', '/', {}, true, true, undefined],
    [
      'a foreign Host names the opt-in',
      'abc123.ngrok-free.app',
      WEBHOOK_PATH,
      {},
      false,
      false,
      /Host "abc123\.ngrok-free\.app" refused: .*npm run dev -- --public-url https:\/\/<tunnel host>/,
    ],
    ['the tunnel Host on the webhook route', TUNNEL, WEBHOOK_PATH, forwarded, true, true, undefined],
    ['the tunnel Host with no forwarding headers', TUNNEL, WEBHOOK_PATH, {}, true, true, undefined],
    [
      'the tunnel Host on the status page',
      TUNNEL,
      '/__local/status',
      forwarded,
      true,
      false,
      /\/__local\/status is served on 127\.0\.0\.1:3000 or localhost:3000 only; through the public URL's host/,
    ],
    ['the tunnel Host on the root (the inspector)', TUNNEL, '/', {}, true, false, /only \/webhooks\/facesign is/],
    [
      'another Host while opted in',
      'other.ngrok-free.app',
      WEBHOOK_PATH,
      {},
      true,
      false,
      /Host "other\.ngrok-free\.app" refused: .*abc123\.ngrok-free\.app \(--public-url\) on \/webhooks\/facesign only/,
    ],
    [
      'a rewritten (loopback) Host, forwarded, on the status page',
      '127.0.0.1:3000',
      '/__local/status',
      forwarded,
      true,
      false,
      /through a proxy or tunnel \(x-forwarded-for\)/,
    ],
    [
      'a rewritten Host, Forwarded header, on the status page',
      'localhost:3000',
      '/__local/status',
      { forwarded: 'for=203.0.113.7' },
      false,
      false,
      /\(forwarded\)/,
    ],
    ['a rewritten Host, forwarded, on the webhook route, opted in', '127.0.0.1:3000', WEBHOOK_PATH, forwarded, true, true, undefined],
    [
      'a rewritten Host, forwarded, on the webhook route, without the opt-in',
      '127.0.0.1:3000',
      WEBHOOK_PATH,
      forwarded,
      false,
      false,
      /served only with the opt-in: npm run dev -- --public-url/,
    ],
    ['a loopback Host on another port', '127.0.0.1:3001', WEBHOOK_PATH, {}, true, false, /refused/],
    [
      'a web page on another origin posting to the webhook route',
      '127.0.0.1:3000',
      WEBHOOK_PATH,
      { origin: 'https://evil.example' },
      false,
      false,
      /^Origin "https:\/\/evil\.example" refused: a web page on another origin cannot post to this local webhook route/,
    ],
    ['a sandboxed page (Origin null) posting to the webhook route, opted in', 'localhost:3000', WEBHOOK_PATH, { origin: 'null' }, true, false, /Origin "null"/],
    [
      'a page on another loopback port posting to the webhook route',
      '127.0.0.1:3000',
      WEBHOOK_PATH,
      { origin: 'http://127.0.0.1:8080' },
      false,
      false,
      /refused/,
    ],
    ['the inspector page itself posting to the webhook route', '127.0.0.1:3000', WEBHOOK_PATH, { origin: 'http://localhost:3000' }, false, true, undefined],
  ] as const)('%s', (_case, host, path, headers, optedIn, admitted, message) => {
    const verdict = admitRequest({ headers: { host, ...headers }, path, localPort: 3000, publicUrl: optedIn ? PUBLIC_URL : undefined });
    expect(verdict.admitted).toBe(admitted);
    if (message) expect(!verdict.admitted && verdict.message).toMatch(message);
  });
});

describe('the local HTTP API with --public-url', () => {
  let stop: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await stop?.();
    stop = undefined;
  });

  async function api(publicUrl?: URL) {
    const seen: APIGatewayProxyEventV2[] = [];
    const secret = 'whsec_tunnel_test';
    const started = await startHttpApi(
      async (event) => {
        seen.push(event as APIGatewayProxyEventV2);
        // What the verifier does: the HMAC over the body bytes, whatever else the headers say.
        const body = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64') : Buffer.from(event.body ?? '', 'utf8');
        const verdict = verifyFaceSignSignature(body, event.headers, [secret]);
        return verdict.ok ? { statusCode: 200, body: '{"received":true}' } : { statusCode: 401, body: JSON.stringify({ error: verdict.reason }) };
      },
      // The HTTP API door's payload 2.0 (lower-case headers, text body) keeps these checks short; the door itself: http-api.test.ts.
      { port: 0, frontDoor: 'http-api', publicUrl, extraRoutes: { '/__local/status': (_req, res) => res.end('{"published":["event contents"]}') } },
    );
    stop = started.stop;
    return { ...started, seen, secret };
  }

  it('serves what a tunnel sends (its Host, X-Forwarded-*, the body bytes unchanged) and verifies it as signed', async () => {
    const { port, seen, secret } = await api(PUBLIC_URL);
    // Bytes a JSON re-serialization would change: spacing, escapes, non-ASCII.
    const body = Buffer.from('{"id":"evt_tunnel", "type":"session.status","name":"Zoë \\u00e9","n":1.50}');
    const signed = signFaceSignPayload(body, secret);
    const answer = await sendRaw(port, {
      path: WEBHOOK_PATH,
      method: 'POST',
      headers: {
        host: TUNNEL,
        'content-type': 'application/json',
        'x-forwarded-for': '203.0.113.7',
        'x-forwarded-proto': 'https',
        'x-forwarded-host': TUNNEL,
        ...signed.headers,
      },
      body,
    });
    expect(answer).toEqual({ status: 200, body: '{"received":true}' });
    expect(seen).toHaveLength(1);
    expect(Buffer.from(seen[0].body!, 'utf8').equals(body)).toBe(true);
    expect(seen[0].headers).toMatchObject({ host: TUNNEL, 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https' });

    // The same request with one byte changed is not authentic, tunnel or not.
    const tampered = Buffer.from(body.toString('utf8').replace('1.50', '1.5'));
    const refused = await sendRaw(port, {
      path: WEBHOOK_PATH,
      method: 'POST',
      headers: { host: TUNNEL, 'content-type': 'application/json', ...signed.headers },
      body: tampered,
    });
    expect(refused.status).toBe(401);
  });

  it('through the tunnel Host, /__local/status and every other path are refused; on loopback they are served', async () => {
    const { port, seen } = await api(PUBLIC_URL);
    for (const path of ['/__local/status', '/', '/index.html', '/webhooks/facesign/../__local/status']) {
      const refused = await sendRaw(port, { path, headers: { host: TUNNEL, 'x-forwarded-for': '203.0.113.7' } });
      expect(refused.status, path).toBe(403);
      expect(refused.body, path).not.toContain('event contents');
    }
    // A tunnel told to rewrite Host to the local one still adds X-Forwarded-For.
    const rewritten = await sendRaw(port, { path: '/__local/status', headers: { host: `127.0.0.1:${port}`, 'x-forwarded-for': '203.0.113.7' } });
    expect(rewritten.status).toBe(403);
    expect(rewritten.body).not.toContain('event contents');
    expect((await sendRaw(port, { path: '/__local/status', headers: { host: `127.0.0.1:${port}` } })).body).toContain('event contents');
    expect(seen).toHaveLength(0);
  });

  it('without the opt-in, the tunnel Host gets the 403 it always got, and the message names --public-url', async () => {
    const { port, seen, secret } = await api();
    const body = Buffer.from('{"id":"evt_x","type":"session.status"}');
    const answer = await sendRaw(port, {
      path: WEBHOOK_PATH,
      method: 'POST',
      headers: { host: TUNNEL, 'x-forwarded-for': '203.0.113.7', ...signFaceSignPayload(body, secret).headers },
      body,
    });
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body).message).toMatch(/^Host "abc123\.ngrok-free\.app" refused: .*npm run dev -- --public-url https:\/\/<tunnel host>$/);
    expect(seen).toHaveLength(0);
  });
});

describe('the inspector with --public-url', () => {
  let cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.reverse()) await step();
    cleanup = [];
  });

  /** The HTTP API as the runtime mounts the inspector, with S3, SQS and the dead-letter listing counted. */
  async function apiWithInspector() {
    const secret = 'whsec_tunnel_inspector_test';
    const calls = { s3: 0, sqs: 0, deadLetters: 0 };
    const stub = (client: 's3' | 'sqs') => {
      calls[client]++;
      throw new Error(`${client} is not here`);
    };
    const seen: APIGatewayProxyEventV2[] = [];
    const journal = new DeliveryJournal();
    const inspector = createInspector({
      journal,
      signingSecret: secret,
      s3: { send: async () => stub('s3') } as never,
      bucket: 'b',
      queues: { sqs: { send: async () => stub('sqs') } as never, queueUrl: 'q', deadLetterQueueUrl: 'dlq' },
      listDeadLetters: async () => {
        calls.deadLetters++;
        return [{ messageId: 'dlq-1', failureReason: 'media_not_available', eventId: 'evt_dead' }];
      },
    });
    const api = await startHttpApi(
      async (event) => {
        seen.push(event as APIGatewayProxyEventV2);
        const body = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64') : Buffer.from(event.body ?? '', 'utf8');
        const verdict = verifyFaceSignSignature(body, event.headers, [secret]);
        return verdict.ok ? { statusCode: 200, body: '{"received":true}' } : { statusCode: 401, body: JSON.stringify({ error: verdict.reason }) };
      },
      {
        port: 0,
        publicUrl: PUBLIC_URL,
        localPages: inspector.handle,
        onAnswer: (exchange) => journal.answered(exchange),
        extraRoutes: { '/__local/status': (_req, res) => res.end('{"published":["event contents"]}') },
      },
    );
    cleanup.push(
      () => api.stop(),
      () => inspector.stop(),
    );
    return { port: api.port, secret, calls, seen, journal };
  }

  it('through the tunnel Host or with forwarding headers, the page, every /__inspector/ route (GET and POST), thumbnails and /__local/* answer 403 and do nothing', async () => {
    const { port, secret, calls, seen, journal } = await apiWithInspector();
    const loopback = `127.0.0.1:${port}`;
    const origin = `http://${loopback}`;
    // A real delivery through the tunnel, with a photo stored: the journal has something to show and a thumbnail to serve.
    const event = { id: 'evt_secret_contents', type: 'media.user_photo', createdAt: 1, sessionId: 'ses_private' };
    const body = Buffer.from(JSON.stringify(event));
    const delivered = await sendRaw(port, {
      path: WEBHOOK_PATH,
      method: 'POST',
      headers: { host: TUNNEL, 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.7', ...signFaceSignPayload(body, secret).headers },
      body,
    });
    expect(delivered.status).toBe(200);
    journal.recordsReceived([{ messageId: 'm1', body: body.toString('utf8'), attempt: 1 }]);
    journal.published({
      detailType: 'media.user_photo',
      detail: {
        event: { id: event.id },
        archive: { key: 'events/s/1.json' },
        media: { key: 'media/s/p.jpg', bytes: 1, sha256: 'a', contentType: 'image/jpeg' },
      },
    });
    expect(journal.deliveries()[0].media?.thumbnail).toBe(true);
    const before = { ...calls };
    const deliveredCount = seen.length;

    const requests: Array<{ path: string; method?: string; body?: Buffer }> = [
      { path: '/' },
      { path: '/index.html' },
      { path: '/__inspector/state' },
      { path: '/__inspector/events' },
      { path: '/__inspector/inspector.mjs' },
      { path: '/__inspector/inspector.css' },
      { path: '/__inspector/favicon.svg' },
      { path: '/__inspector/media?delivery=1' },
      { path: '/__inspector/nothing' },
      { path: '/__local/status' },
      { path: '/__inspector/send', method: 'POST', body: Buffer.from('{"type":"session.status"}') },
      { path: '/__inspector/resend', method: 'POST', body: Buffer.from('{"delivery":1}') },
      { path: '/__inspector/redrive', method: 'POST', body: Buffer.from('{"messageId":"dlq-1"}') },
      { path: '/__inspector/state', method: 'POST', body: Buffer.from('{}') },
    ];
    const ways: Array<[string, Record<string, string>]> = [
      ['the tunnel Host', { host: TUNNEL }],
      ['the tunnel Host, forwarded', { host: TUNNEL, 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https', 'x-forwarded-host': TUNNEL }],
      ['the tunnel Host with port 443', { host: `${TUNNEL}:443` }],
      ['a rewritten Host, X-Forwarded-For', { host: loopback, 'x-forwarded-for': '203.0.113.7' }],
      ['a rewritten Host, Forwarded', { host: loopback, forwarded: 'for=203.0.113.7;proto=https' }],
      ['a rewritten Host, CF-Connecting-IP', { host: `localhost:${port}`, 'cf-connecting-ip': '203.0.113.7' }],
      ['a rewritten Host, X-Forwarded-Host only', { host: loopback, 'x-forwarded-host': TUNNEL }],
    ];
    for (const [way, headers] of ways) {
      for (const r of requests) {
        // With this page's own Origin and a JSON body: everything the inspector's own check asks for.
        const answer = await sendRaw(port, {
          path: r.path,
          method: r.method,
          headers: { ...headers, origin, 'content-type': 'application/json' },
          body: r.body,
        });
        expect(answer.status, `${way}: ${r.method ?? 'GET'} ${r.path}`).toBe(403);
        expect(JSON.parse(answer.body).message, `${way}: ${r.path}`).toMatch(
          /is served on 127\.0\.0\.1:\d+ or localhost:\d+ only; through .*, only \/webhooks\/facesign is$/,
        );
        expect(answer.body).not.toMatch(/evt_secret_contents|ses_private|event contents|dlq-1|<html/);
      }
    }
    // Nothing reached the inspector: no sample sent or resent, no S3 read, no SQS call, no listing.
    expect(seen).toHaveLength(deliveredCount);
    expect(journal.deliveries()).toHaveLength(1);
    expect(calls).toEqual(before);

    // The same routes on loopback are live (so the 403s above are the tunnel's doing).
    const page = await sendRaw(port, { path: '/', headers: { host: loopback } });
    expect(page.status).toBe(200);
    expect(page.body).toContain('<html');
    const state = await sendRaw(port, { path: '/__inspector/state', headers: { host: loopback } });
    expect(state.status).toBe(200);
    expect(state.body).toContain('evt_secret_contents');
    expect((await sendRaw(port, { path: '/__inspector/media?delivery=1', headers: { host: loopback } })).status).toBe(502);
    expect(calls.s3).toBe(before.s3 + 1);
    const sent = await sendRaw(port, {
      path: '/__inspector/send',
      method: 'POST',
      headers: { host: loopback, origin, 'content-type': 'application/json' },
      body: Buffer.from('{"type":"session.status"}'),
    });
    expect(JSON.parse(sent.body)).toEqual({ status: 200, answer: '{"received":true}' });
    expect(seen).toHaveLength(deliveredCount + 1);
  });
});

describe('startLocalRuntime with publicUrl', () => {
  it('refuses a bad URL, or no signingSecret (a generated one never matches FaceSign)', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'facesign-public-'));
    try {
      await expect(startLocalRuntime({ port: 0, dataDir, publicUrl: `https://${TUNNEL}` })).rejects.toThrow(
        /^publicUrl needs signingSecret: FaceSign signs with the secret its dashboard shows/,
      );
      await expect(startLocalRuntime({ port: 0, dataDir, publicUrl: `http://${TUNNEL}`, signingSecret: 'whsec_x' })).rejects.toThrow(PublicUrlError);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
