import { describe, expect, it } from 'vitest';
import { signFaceSignPayload } from '../../contract/signature';
import { archiveKey, ctx, deadLetterFor, event, fault, getObject, mediaHits, planMedia, post, receivedEventIds, unique, waitFor } from './helpers';

describe('the verifier contract over HTTP: bad input is refused and nothing is queued', () => {
  const now = () => Math.floor(Date.now() / 1000);
  const cases: Array<[string, number, string, () => Promise<{ status: number; json: Record<string, unknown> }>, string]> = [];
  const ids: string[] = [];
  const add = (name: string, status: number, error: string, send: (body: string, id: string) => Promise<{ status: number; json: Record<string, unknown> }>) => {
    const id = unique('evt_bad');
    ids.push(id);
    const body = JSON.stringify(event('session.status', { id }));
    cases.push([name, status, error, () => send(body, id), id]);
  };
  add('no signature header', 401, 'missing_signature', (body) => post(body, { unsigned: true }));
  add('a malformed signature header', 401, 'malformed_signature', (body) => post(body, { unsigned: true, headers: { 'X-FaceSign-Signature': 'sha256=abc' } }));
  add('a signature made with another secret', 401, 'signature_mismatch', (body) => post(body, { secret: 'whsec_not_ours' }));
  add('a body changed after signing', 401, 'signature_mismatch', (body) => {
    const signed = signFaceSignPayload(body, ctx.signingSecret);
    return post(body.replace('session.status', 'session.statuz'), { unsigned: true, headers: signed.headers });
  });
  add('a timestamp 8 days old (beyond the idempotency window)', 401, 'timestamp_out_of_tolerance', (body) => post(body, { timestamp: now() - 8 * 86400 }));
  add('a timestamp 2 hours ahead (beyond the 1-hour future limit)', 401, 'timestamp_out_of_tolerance', (body) => post(body, { timestamp: now() + 7200 }));
  add('a signed body that is not JSON', 400, 'invalid_json', () => post('{"id": "evt", oops'));
  add('a signed body that is JSON but not an object', 400, 'not_an_object', (_b, id) => post(JSON.stringify([id])));
  add('a body over 256 KiB', 413, 'payload_too_large', (_b, id) => post(JSON.stringify({ ...event('session.status', { id }), pad: 'x'.repeat(270_000) })));

  it.each(cases.map(([name, status, error, send]) => [name, status, error, send] as const))('%s: %i %s', async (_name, status, error, send) => {
    const answer = await send();
    expect(answer.status).toBe(status);
    expect(answer.json.error).toBe(error);
    expect(typeof answer.json.message).toBe('string');
  });

  it('queued none of them: a valid event sent after them is processed, and they never reached the queue', async () => {
    const sentinel = event('session.status');
    expect((await post(JSON.stringify(sentinel))).status).toBe(200);
    await waitFor('the sentinel archive', () => getObject(archiveKey(sentinel)));
    const received = await receivedEventIds();
    expect(received).toContain(sentinel.id);
    expect(received.filter((id) => ids.includes(id))).toEqual([]);
  });
});

describe('our own failures are 5xx, so FaceSign retries', () => {
  it('503 queue_unavailable while SQS cannot be reached, and 200 once it can', async () => {
    const e = event('session.status');
    await fault({ queueReachable: false });
    try {
      const answer = await post(JSON.stringify(e));
      expect(answer.status).toBe(503);
      expect(answer.json.error).toBe('queue_unavailable');
    } finally {
      await fault({ queueReachable: true });
    }
    expect((await post(JSON.stringify(e))).status).toBe(200);
    await waitFor('the retried delivery to be archived', () => getObject(archiveKey(e)));
  });

  it('503 secret_unavailable while Secrets Manager fails, and 200 once it recovers', async () => {
    const e = event('session.status');
    await fault({ secretsManagerFailing: true });
    try {
      // The verifier caches the secret for 1 s in this runtime.
      await new Promise((r) => setTimeout(r, 1200));
      const answer = await post(JSON.stringify(e));
      expect(answer.status).toBe(503);
      expect(answer.json.error).toBe('secret_unavailable');
    } finally {
      await fault({ secretsManagerFailing: false });
    }
    expect((await post(JSON.stringify(e))).status).toBe(200);
  });
});

describe('media failures', () => {
  it('a 404 from the media host sends the event to the DLQ with the reason, without retrying', async () => {
    const path = `/${unique('gone')}.jpg`;
    const mediaUrl = await planMedia(path, [{ status: 404 }]);
    const e = event('media.user_photo', { mediaUrl });
    const body = JSON.stringify(e);
    expect((await post(body)).status).toBe(200);
    const dead = await deadLetterFor(String(e.id));
    expect(dead.body).toBe(body);
    expect(dead.attributes).toMatchObject({ failureReason: 'media_not_available', eventType: 'media.user_photo', sessionId: e.sessionId, attempts: '1' });
    await new Promise((r) => setTimeout(r, 2500));
    expect(await mediaHits(path)).toBe(1);
  });

  it("a URL past its expiry is tried once (the expiry is advisory); the host's 403 sends it to the DLQ as media_url_expired", async () => {
    const path = `/${unique('late')}.jpg`;
    const mediaUrl = await planMedia(path, [{ status: 403 }]);
    const createdAt = Date.now() - 20 * 60 * 1000;
    const e = event('media.document_photo', { mediaUrl, createdAt, expires: createdAt + 15 * 60 * 1000 });
    expect((await post(JSON.stringify(e))).status).toBe(200);
    const dead = await deadLetterFor(String(e.id));
    expect(dead.attributes.failureReason).toBe('media_url_expired');
    expect(await mediaHits(path)).toBe(1);
  });

  it('a host answering 503 twice then 200 gets the file stored, well within the URL life', async () => {
    const path = `/${unique('flaky')}.jpg`;
    const mediaUrl = await planMedia(path, [{ status: 503 }, { status: 503 }, { status: 200, size: 4096, contentType: 'image/jpeg' }]);
    const e = event('media.user_photo', { mediaUrl });
    const started = Date.now();
    expect((await post(JSON.stringify(e))).status).toBe(200);
    const media = e.media as { id: string };
    const stored = await waitFor('the file after two 503s', () => getObject(`media/${e.sessionId}/media.user_photo/${media.id}.jpg`), 60_000);
    expect(stored.body.length).toBe(4096);
    expect(await mediaHits(path)).toBe(3);
    expect(Date.now() - started).toBeLessThan(15 * 60 * 1000);
  });
});
