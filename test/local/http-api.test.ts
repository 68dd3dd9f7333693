import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { startHttpApi, type HttpApiOptions } from '../../local/http-api';
import { sendRaw } from '../support/raw-request';

let stop: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stop?.();
  stop = undefined;
});

/** The HTTP API door (payload 2.0), as these first tests were written for; the REST door's tests pass their own options. */
async function api(target: (e: APIGatewayProxyEventV2) => Promise<{ statusCode: number; body: string }>, maxConcurrency?: number) {
  const started = await startHttpApi((e) => target(e as APIGatewayProxyEventV2), { port: 0, maxConcurrency, frontDoor: 'http-api' });
  stop = started.stop;
  return started;
}

async function door(target: (e: APIGatewayProxyEvent) => Promise<{ statusCode: number; body: string }>, options: HttpApiOptions = {}) {
  const started = await startHttpApi((e) => target(e as APIGatewayProxyEvent), { port: 0, ...options });
  stop = started.stop;
  return started;
}

describe('local front door: the REST API door by default, as the construct', () => {
  it('turns a request into a payload 1.0 event: header names as sent, repeated ones in multiValueHeaders, the body base64', async () => {
    let seen: APIGatewayProxyEvent | undefined;
    const { port } = await door(async (e) => {
      seen = e;
      return { statusCode: 200, body: '{"received":true}' };
    });
    const res = await sendRaw(port, {
      path: '/webhooks/facesign',
      method: 'POST',
      headers: { Host: `127.0.0.1:${port}`, 'Content-Type': 'application/json', 'X-FaceSign-Signature': ['t=1,v1=ab', 't=2,v1=cd'] },
      body: Buffer.from('{"a": "é"}'),
    });
    expect(res.status).toBe(200);
    expect(seen).toMatchObject({
      httpMethod: 'POST',
      path: '/webhooks/facesign',
      resource: '/webhooks/facesign',
      isBase64Encoded: true,
      requestContext: { stage: 'live' },
    });
    expect(Buffer.from(seen!.body!, 'base64').toString('utf8')).toBe('{"a": "é"}');
    expect(seen!.multiValueHeaders['X-FaceSign-Signature']).toEqual(['t=1,v1=ab', 't=2,v1=cd']);
    expect(seen!.headers['X-FaceSign-Signature']).toBe('t=2,v1=cd');
    expect(seen!.requestContext.identity.sourceIp).toMatch(/127\.0\.0\.1/);
  });

  it('passes bytes that are not UTF-8 exactly', async () => {
    let seen: APIGatewayProxyEvent | undefined;
    const { url } = await door(async (e) => {
      seen = e;
      return { statusCode: 200, body: '' };
    });
    const bytes = Buffer.from([0x7b, 0xff, 0xfe, 0x00, 0x7d]);
    await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: bytes });
    expect(Buffer.from(seen!.body!, 'base64').equals(bytes)).toBe(true);
  });

  it('answers a route or method it does not have 403 Missing Authentication Token, as a REST API does', async () => {
    const { url } = await door(async () => ({ statusCode: 200, body: '' }));
    for (const res of [await fetch(url.replace('/webhooks/facesign', '/other'), { method: 'POST' }), await fetch(url, { method: 'GET' })]) {
      expect(res.status).toBe(403);
      expect(await res.json()).toEqual({ message: 'Missing Authentication Token' });
    }
  });

  it('answers a throttled request 503 with Retry-After (FaceSign retries), never 429, and lets the next one through once the bucket refills', async () => {
    let invoked = 0;
    const { url } = await door(
      async () => {
        invoked++;
        return { statusCode: 200, body: '{"received":true}' };
      },
      { throttle: { rateLimit: 4, burstLimit: 2 } },
    );
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push(await fetch(url, { method: 'POST', body: '{}' }));
    expect(statuses.map((r) => r.status)).toEqual([200, 200, 503]);
    expect(statuses[2].headers.get('retry-after')).toBe('60');
    expect(await statuses[2].json()).toEqual({ message: 'Too Many Requests', type: 'THROTTLED' });
    expect(invoked).toBe(2);
    await new Promise((r) => setTimeout(r, 300));
    expect((await fetch(url, { method: 'POST', body: '{}' })).status).toBe(200);
  });

  it("answers the HTTP API door's throttle 429, as API Gateway does there", async () => {
    const { url } = await door(async () => ({ statusCode: 200, body: '' }), { frontDoor: 'http-api', throttle: { rateLimit: 1, burstLimit: 1 } });
    expect((await fetch(url, { method: 'POST', body: '{}' })).status).toBe(200);
    const throttled = await fetch(url, { method: 'POST', body: '{}' });
    expect(throttled.status).toBe(429);
    expect(await throttled.json()).toEqual({ message: 'Too Many Requests' });
  });
});

describe('local HTTP API door', () => {
  it('turns a request into a payload 2.0 event: lower-case headers, raw text body, route key', async () => {
    let seen: APIGatewayProxyEventV2 | undefined;
    const { url } = await api(async (e) => {
      seen = e;
      return { statusCode: 200, body: '{"received":true}' };
    });
    const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-FaceSign-Signature': 't=1,v1=ab' }, body: '{"a": 1}' });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('{"received":true}');
    expect(seen).toMatchObject({
      version: '2.0',
      routeKey: 'POST /webhooks/facesign',
      rawPath: '/webhooks/facesign',
      body: '{"a": 1}',
      isBase64Encoded: false,
      headers: { 'content-type': 'application/json', 'x-facesign-signature': 't=1,v1=ab' },
      requestContext: { http: { method: 'POST', path: '/webhooks/facesign' }, stage: '$default' },
    });
  });

  it('base64-encodes a body with a binary content type, as API Gateway does', async () => {
    let seen: APIGatewayProxyEventV2 | undefined;
    const { url } = await api(async (e) => {
      seen = e;
      return { statusCode: 200, body: '' };
    });
    const bytes = Buffer.from([0, 255, 1, 254]);
    await fetch(url, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: bytes });
    expect(seen?.isBase64Encoded).toBe(true);
    expect(Buffer.from(seen?.body ?? '', 'base64').equals(bytes)).toBe(true);
  });

  it('answers 404 off the route and 500 when the function fails, as API Gateway does', async () => {
    const { url } = await api(async () => {
      throw new Error('crash');
    });
    expect((await fetch(url.replace('/webhooks/facesign', '/other'), { method: 'POST' })).status).toBe(404);
    expect((await fetch(url, { method: 'GET' })).status).toBe(404);
    const failed = await fetch(url, { method: 'POST', body: '{}' });
    expect(failed.status).toBe(500);
    expect(await failed.json()).toEqual({ message: 'Internal Server Error' });
  });

  it("answers 500, never 429, to a request beyond the verifier's reserved concurrency, and serves the next one", async () => {
    const release: Array<() => void> = [];
    let invoked = 0;
    const { url } = await api(async () => {
      invoked++;
      await new Promise<void>((resolve) => release.push(resolve));
      return { statusCode: 200, body: '{"received":true}' };
    }, 2);
    const first = [fetch(url, { method: 'POST', body: '{}' }), fetch(url, { method: 'POST', body: '{}' })];
    while (invoked < 2) await new Promise((r) => setTimeout(r, 5));
    const throttled = await fetch(url, { method: 'POST', body: '{}' });
    expect(throttled.status).toBe(500);
    expect(await throttled.json()).toEqual({ message: 'Internal Server Error' });
    expect(invoked).toBe(2);
    release.splice(0).forEach((r) => r());
    expect((await Promise.all(first)).map((r) => r.status)).toEqual([200, 200]);
    const after = fetch(url, { method: 'POST', body: '{}' });
    while (invoked < 3) await new Promise((r) => setTimeout(r, 5));
    release.splice(0).forEach((r) => r());
    expect((await after).status).toBe(200);
  });
});
