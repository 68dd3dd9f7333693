/**
 * At the door, over HTTP against the local runtime with the real bundles: authentic deliveries
 * that FaceSign's own reference verifier accepts, or whose envelope our schema does not know, are
 * answered 200 and kept (archived normally, or byte for byte under quarantine/); tampered ones
 * are still 401.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { computeSignature } from '../../contract/signature';
import { archiveKey, ctx, event, getObject, listKeys, post, publishedCount, receivedEventIds, unique, waitFor } from './helpers';

const now = () => Math.floor(Date.now() / 1000);
const sha = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** Posts the body with exactly these headers (no signature added). */
function postWith(body: string, headers: Record<string, string>) {
  return post(body, { unsigned: true, headers });
}

async function quarantined(body: string): Promise<{ key: string; body: Buffer; metadata?: Record<string, string> }> {
  return waitFor(`the quarantined copy of ${body.slice(0, 60)}`, async () => {
    const key = (await listKeys('quarantine/')).find((k) => k.endsWith(`/${sha(body)}.json`));
    const object = key ? await getObject(key) : undefined;
    return key && object ? { key, ...object } : undefined;
  });
}

describe('authentic deliveries with header drift or an old signature are accepted and processed', () => {
  const cases: Array<[string, (body: string) => Record<string, string>]> = [
    ['a trailing comma', (b) => ({ 'X-FaceSign-Signature': `t=${now()},v1=${computeSignature(b, ctx.signingSecret, now())},` })],
    ['a flag element without =', (b) => ({ 'X-FaceSign-Signature': `t=${now()},retry,v1=${computeSignature(b, ctx.signingSecret, now())}` })],
    ['a stray t before the signed one', (b) => ({ 'X-FaceSign-Signature': `t=${now() - 30},t=${now()},v1=${computeSignature(b, ctx.signingSecret, now())}` })],
    [
      'X-FaceSign-Timestamp one second off',
      (b) => ({ 'X-FaceSign-Signature': `t=${now()},v1=${computeSignature(b, ctx.signingSecret, now())}`, 'X-FaceSign-Timestamp': String(now() - 1) }),
    ],
    [
      'X-FaceSign-Timestamp in milliseconds',
      (b) => ({ 'X-FaceSign-Signature': `t=${now()},v1=${computeSignature(b, ctx.signingSecret, now())}`, 'X-FaceSign-Timestamp': String(now() * 1000) }),
    ],
    ['a signature made 10 minutes earlier', (b) => ({ 'X-FaceSign-Signature': `t=${now() - 600},v1=${computeSignature(b, ctx.signingSecret, now() - 600)}` })],
    [
      'a signature made 6 hours earlier',
      (b) => ({ 'X-FaceSign-Signature': `t=${now() - 6 * 3600},v1=${computeSignature(b, ctx.signingSecret, now() - 6 * 3600)}` }),
    ],
    [
      'a signature made 3 days earlier',
      (b) => ({ 'X-FaceSign-Signature': `t=${now() - 3 * 86400},v1=${computeSignature(b, ctx.signingSecret, now() - 3 * 86400)}` }),
    ],
  ];

  it.each(cases)('%s: 200, archived byte for byte and published', async (_name, headers) => {
    const e = event('session.status');
    const body = JSON.stringify(e);
    const answer = await postWith(body, { 'content-type': 'application/json', ...headers(body) });
    expect(answer).toEqual({ status: 200, json: { received: true } });
    const archived = await waitFor('the archive', () => getObject(archiveKey(e)));
    expect(archived.body.toString('utf8')).toBe(body);
    await waitFor('the publication', async () => ((await publishedCount(String(e.id))) === 1 ? true : undefined));
  });
});

describe('authentic envelopes the schema does not recognise are answered 200 and quarantined byte for byte', () => {
  const at = Date.now();
  const cases: Array<[string, () => Record<string, unknown>, string]> = [
    ['no sessionId', () => ({ id: unique('evt_q'), type: 'session.status', createdAt: at }), 'invalid_session_id'],
    ['createdAt as an ISO string', () => ({ ...event('session.status'), createdAt: new Date(at).toISOString() }), 'invalid_created_at'],
    ['a numeric id', () => ({ ...event('analysis.video'), id: Math.floor(Math.random() * 1e9) }), 'invalid_id'],
    ['a missing id', () => ({ type: 'settings.langs', createdAt: at, sessionId: unique('ses'), nonce: unique('n') }), 'invalid_id'],
    ['an empty sessionId', () => ({ ...event('session.status'), sessionId: '' }), 'invalid_session_id'],
    ['a media event without media', () => ({ ...event('media.user_photo'), media: undefined }), 'missing_media'],
    [
      'a media without expires',
      () => {
        const e = event('media.user_video', { mediaUrl: 'https://media.facesign.ai/v.mp4?sig=1' });
        const { expires: _expires, ...media } = e.media as Record<string, unknown>;
        return { ...e, media };
      },
      'invalid_media_expires',
    ],
  ];

  it.each(cases)('%s', async (_name, build, problem) => {
    // Odd but valid formatting: the archive must keep it exactly.
    const body = JSON.stringify(build(), null, 3).replace('{', '{ ');
    const answer = await post(body);
    expect(answer).toEqual({ status: 200, json: { received: true } });
    const object = await quarantined(body);
    expect(object.key).toMatch(/^quarantine\/\d{4}\/\d{2}\/\d{2}\/[0-9a-f]{64}\.json$/);
    expect(object.body.equals(Buffer.from(body, 'utf8'))).toBe(true);
    expect(object.metadata?.['facesign-quarantine-reason']).toBe(problem);
  });

  it('a quarantined event with a string id is neither archived under events/ nor published', async () => {
    const e: Record<string, unknown> = { ...event('session.status'), createdAt: '2025-10-27T19:50:51.878Z' };
    const body = JSON.stringify(e);
    expect((await post(body)).status).toBe(200);
    await quarantined(body);
    await waitFor('the processor to receive it', async () => ((await receivedEventIds()).includes(String(e.id)) ? true : undefined));
    expect(await listKeys(`events/${encodeURIComponent(String(e.sessionId))}/`)).toEqual([]);
    expect(await publishedCount(String(e.id))).toBe(0);
  });
});

describe('tampered deliveries are still refused', () => {
  it('a changed body, a changed t and an 8-day-old signature are 401 and never queued', async () => {
    const e = event('session.status');
    const body = JSON.stringify(e);
    const t = now();
    const v1 = computeSignature(body, ctx.signingSecret, t);
    const answers = [
      await postWith(body.replace('session.status', 'settings.langs'), { 'X-FaceSign-Signature': `t=${t},v1=${v1},` }),
      await postWith(body, { 'X-FaceSign-Signature': `t=${t + 1},flag,v1=${v1}` }),
      await postWith(body, { 'X-FaceSign-Signature': `t=${t - 8 * 86400},v1=${computeSignature(body, ctx.signingSecret, t - 8 * 86400)}` }),
    ];
    expect(answers.map((a) => [a.status, a.json.error])).toEqual([
      [401, 'signature_mismatch'],
      [401, 'signature_mismatch'],
      [401, 'timestamp_out_of_tolerance'],
    ]);
    const sentinel = event('session.status');
    expect((await post(JSON.stringify(sentinel))).status).toBe(200);
    await waitFor('the sentinel archive', () => getObject(archiveKey(sentinel)));
    expect(await receivedEventIds()).not.toContain(e.id);
  });
});
