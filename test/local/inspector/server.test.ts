import { request } from 'node:http';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { signFaceSignPayload, verifyFaceSignSignature } from '../../../contract/signature';
import { startHttpApi } from '../../../local/http-api';
import { DeliveryJournal } from '../../../local/inspector/journal';
import { createInspector, isOwnOrigin, type Inspector } from '../../../local/inspector/server';

const SECRET = 'whsec_inspector_unit_test_secret';
const unused = { region: 'us-east-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } };

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

/** The real HTTP API with the inspector mounted, in front of a verifier stand-in that checks the HMAC. */
async function start({ sampleMediaOrigin }: { sampleMediaOrigin?: string } = { sampleMediaOrigin: 'http://127.0.0.1:1' }) {
  const journal = new DeliveryJournal();
  const seen: APIGatewayProxyEventV2[] = [];
  const inspector: Inspector = createInspector({
    journal,
    signingSecret: SECRET,
    sampleMediaOrigin,
    s3: new S3Client(unused),
    bucket: 'b',
    queues: { sqs: new SQSClient(unused), queueUrl: 'q', deadLetterQueueUrl: 'dlq' },
    listDeadLetters: async () => [{ messageId: 'dlq-1', failureReason: 'media_not_available', eventId: 'evt_x' }],
  });
  const api = await startHttpApi(
    async (event) => {
      seen.push(event as APIGatewayProxyEventV2);
      const body = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
      const result = verifyFaceSignSignature(body, event.headers, [SECRET]);
      return result.ok
        ? { statusCode: 200, body: '{"received":true}' }
        : { statusCode: 401, body: JSON.stringify({ error: result.reason, message: result.message }) };
    },
    // The HTTP API door's payload 2.0 (lower-case headers, text body) keeps these checks short; the door itself: http-api.test.ts.
    { port: 0, frontDoor: 'http-api', localPages: inspector.handle, onAnswer: (exchange) => journal.answered(exchange) },
  );
  cleanup.push(
    () => api.stop(),
    () => inspector.stop(),
  );
  const base = `http://127.0.0.1:${api.port}`;
  const post = (route: string, body: unknown, headers: Record<string, string> = { origin: base }) =>
    fetch(`${base}/__inspector/${route}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { journal, seen, base, port: api.port, webhookUrl: api.url, post };
}

describe('isOwnOrigin', () => {
  it.each([
    ['http://127.0.0.1:3000', true],
    ['http://localhost:3000', true],
    ['http://[::1]:3000', true],
    ['http://127.0.0.1:3001', false],
    ['https://127.0.0.1:3000', false],
    ['http://evil.example:3000', false],
    ['http://127.0.0.1.evil.example:3000', false],
    ['http://127.0.0.1:3000/path', false],
    ['null', false],
    ['', false],
    [undefined, false],
  ])('%s: %s', (origin, own) => {
    expect(isOwnOrigin(origin, 3000)).toBe(own);
  });
});

describe('inspector routes', () => {
  it('refuses a state-changing request from another origin, or with none, and does nothing', async () => {
    const { post, journal, seen, port } = await start();
    const origins: Array<Record<string, string>> = [{ origin: 'http://evil.example' }, { origin: `http://127.0.0.1:${port + 1}` }, { origin: 'null' }, {}];
    for (const headers of origins) {
      for (const [route, body] of [
        ['send', { type: 'session.status' }],
        ['resend', { delivery: 1 }],
        ['redrive', { messageId: 'dlq-1' }],
      ] as const) {
        const res = await post(route, body, headers);
        expect(res.status).toBe(403);
        expect(((await res.json()) as { message: string }).message).toMatch(/^Origin ".*" refused: the inspector's buttons work only from its own page/);
      }
    }
    expect(journal.deliveries()).toHaveLength(0);
    expect(seen).toHaveLength(0);
  });

  it('refuses a foreign Host before any inspector route (DNS rebinding)', async () => {
    const { port } = await start();
    for (const path of ['/', '/__inspector/state', '/__inspector/events']) {
      const status = await new Promise<number>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path, headers: { host: `rebound.example:${port}` } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
      expect(status).toBe(403);
    }
  });

  it('answers a bad request with a specific error', async () => {
    const { post, base } = await start();
    expect(await (await post('send', { type: '' })).json()).toEqual({ message: '"type" must be an event type of 1 to 128 characters; received ""' });
    expect((await post('resend', { delivery: 99 })).status).toBe(404);
    expect((await post('redrive', {})).status).toBe(400);
    expect((await post('nothing', {})).status).toBe(404);
    const wrongType = await fetch(`${base}/__inspector/send`, { method: 'POST', headers: { origin: base, 'content-type': 'text/plain' }, body: '{}' });
    expect(wrongType.status).toBe(415);
    const notJson = await fetch(`${base}/__inspector/send`, { method: 'POST', headers: { origin: base, 'content-type': 'application/json' }, body: '{' });
    expect(await notJson.json()).toEqual({ message: 'the request body is not JSON' });
  });

  it('sends a signed sample event through the webhook route; the page data holds no secret, signature or URL query', async () => {
    const { post, base, journal, seen } = await start();
    const res = await post('send', { type: 'media.user_photo' });
    expect(await res.json()).toEqual({ status: 200, answer: '{"received":true}' });
    expect(seen[0].headers['x-facesign-signature']).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(journal.deliveries()[0]).toMatchObject({ eventType: 'media.user_photo', signature: 'verified', state: 'queued' });
    expect(JSON.parse(seen[0].body ?? '').media.url).toMatch(/^http:\/\/127\.0\.0\.1:1\/sample\.jpg\?X-Signature=local$/);

    const state = await (await fetch(`${base}/__inspector/state`)).text();
    expect(state).toContain('"media.user_photo"');
    expect(state).not.toContain(SECRET);
    expect(state).not.toContain(seen[0].headers['x-facesign-signature']);
    expect(state).not.toContain('X-Signature');
    expect(JSON.parse(state).deadLetters).toEqual([]);
  });

  it('without a sample media host (npm run dev --public-url), refuses a media sample with 409 and says why; the page data marks those types', async () => {
    const { post, base, journal, seen } = await start({});
    const res = await post('send', { type: 'media.user_photo' });
    expect(res.status).toBe(409);
    expect(((await res.json()) as { message: string }).message).toMatch(
      /^media\.user_photo needs the sample media host to download from, and none runs here \(npm run dev starts it, except with --public-url/,
    );
    expect(seen).toHaveLength(0);
    expect(journal.deliveries()).toHaveLength(0);
    // The other samples still go.
    expect(await (await post('send', { type: 'session.status' })).json()).toEqual({ status: 200, answer: '{"received":true}' });
    const state = (await (await fetch(`${base}/__inspector/state`)).json()) as { sampleTypes: string[]; unavailableSamples: Record<string, string> };
    const media = state.sampleTypes.filter((type) => type.startsWith('media.'));
    expect(media.length).toBeGreaterThan(0);
    expect(Object.keys(state.unavailableSamples).sort()).toEqual(media.sort());
    // With the sample host, nothing is unavailable.
    const withHost = await start();
    expect(((await (await fetch(`${withHost.base}/__inspector/state`)).json()) as { unavailableSamples: object }).unavailableSamples).toEqual({});
  });

  it('resends a delivery byte for byte with its signature, and records it as a resend', async () => {
    const { post, webhookUrl, journal, seen } = await start();
    const body = JSON.stringify({ id: 'evt_r', type: 'session.status', createdAt: 1, sessionId: 's' });
    const { headers } = signFaceSignPayload(body, 'not-the-secret');
    await fetch(webhookUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    expect(journal.deliveries()[0]).toMatchObject({ state: 'refused', signature: 'rejected', answer: { status: 401, error: 'signature_mismatch' } });

    expect(await (await post('resend', { delivery: 1 })).json()).toMatchObject({ status: 401 });
    expect(seen[1].body).toBe(seen[0].body);
    expect(seen[1].headers['x-facesign-signature']).toBe(seen[0].headers['x-facesign-signature']);
    expect(seen[1].headers.origin).toBeUndefined();
    expect(journal.deliveries()[1]).toMatchObject({ id: 2, resendOf: 1, answer: { status: 401 } });
  });

  it("records API Gateway's own 413 (over 10 MiB) as never checked, with its size, and not resendable", async () => {
    const { webhookUrl, journal, seen } = await start();
    const body = Buffer.alloc(10 * 1024 * 1024 + 1, 0x61);
    expect((await fetch(webhookUrl, { method: 'POST', body })).status).toBe(413);
    expect(seen).toHaveLength(0);
    expect(journal.deliveries()[0]).toMatchObject({
      state: 'refused',
      signature: 'not checked',
      bytes: body.length,
      resendable: false,
      answer: { status: 413 },
    });
  });

  it('answers 502 with the reason when SQS or S3 cannot be reached (redrive, thumbnail)', async () => {
    const { post, base, journal, webhookUrl } = await start();
    const redrive = await post('redrive', { messageId: 'dlq-1' });
    expect(redrive.status).toBe(502);
    expect(((await redrive.json()) as { message: string }).message).toMatch(/^the inspector could not do this: /);

    const body = JSON.stringify({ id: 'evt_p', type: 'media.user_photo', createdAt: 1, sessionId: 's' });
    await fetch(webhookUrl, { method: 'POST', headers: signFaceSignPayload(body, SECRET).headers, body });
    journal.recordsReceived([{ messageId: 'm1', body, attempt: 1 }]);
    journal.published({
      detailType: 'media.user_photo',
      detail: {
        event: { id: 'evt_p' },
        archive: { key: 'events/s/1-evt_p.json' },
        media: { key: 'media/s/p.jpg', bytes: 1, sha256: 'a', contentType: 'image/jpeg' },
      },
    });
    expect(journal.deliveries()[0].media?.thumbnail).toBe(true);
    const thumbnail = await fetch(`${base}/__inspector/media?delivery=1`);
    expect(thumbnail.status).toBe(502);
  });

  it('serves the page under a strict Content-Security-Policy, and a thumbnail only for a stored image', async () => {
    const { base } = await start();
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('content-security-policy')).toContain("connect-src 'self'");
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    // Another origin cannot embed what the inspector serves (the browser test embeds a stored photo).
    expect(page.headers.get('cross-origin-resource-policy')).toBe('same-origin');
    expect((await fetch(`${base}/__inspector/state`)).headers.get('cross-origin-resource-policy')).toBe('same-origin');
    const html = await page.text();
    expect(html).toContain('<script type="module" src="/__inspector/inspector.mjs"></script>');
    expect(html).not.toMatch(/https?:\/\/(?!127\.0\.0\.1)/);
    expect((await fetch(`${base}/__inspector/inspector.mjs`)).headers.get('content-type')).toMatch(/^text\/javascript/);
    expect((await fetch(`${base}/__inspector/media?delivery=1`)).status).toBe(404);
    expect((await fetch(`${base}/__inspector/media?key=media/anything.jpg`)).status).toBe(404);
  });

  it('streams a snapshot, then each delivery as it changes', async () => {
    const { base, webhookUrl } = await start();
    const controller = new AbortController();
    cleanup.push(() => controller.abort());
    const stream = await fetch(`${base}/__inspector/events`, { signal: controller.signal });
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    const until = async (pattern: RegExp) => {
      while (!pattern.test(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${pattern}`);
        text += value;
      }
    };
    await until(/event: snapshot\ndata: .*\n\n/);
    await until(/event: dead-letters\ndata: .*"dlq-1".*\n\n/);
    const body = JSON.stringify({ id: 'evt_live', type: 'session.status', createdAt: 1, sessionId: 's' });
    await fetch(webhookUrl, { method: 'POST', headers: signFaceSignPayload(body, SECRET).headers, body });
    await until(/event: delivery\ndata: .*"evt_live".*\n\n/);
  });
});
