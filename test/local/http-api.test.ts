import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { startHttpApi } from '../../local/http-api';

let stop: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stop?.();
  stop = undefined;
});

async function api(target: (e: APIGatewayProxyEventV2) => Promise<{ statusCode: number; body: string }>, maxConcurrency?: number) {
  const started = await startHttpApi(target, { port: 0, maxConcurrency });
  stop = started.stop;
  return started;
}

describe('local HTTP API', () => {
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
