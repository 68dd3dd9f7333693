/**
 * Media that the processor used to lose, through the local runtime (verifier, SQS, processor
 * bundle, fauxqs S3, the EventBridge stand-in) over HTTP.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { event, getObject, listKeys, planMedia, post, publishedEntries, unique, waitFor } from './helpers';

const sha = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** A media event of any type, its URL on the test media host. */
async function mediaEvent(type: string, answer: { size: number; contentType: string }, media: Record<string, unknown> = {}) {
  const path = `/${unique('lp')}.bin`;
  const mediaUrl = await planMedia(path, [{ status: 200, ...answer }]);
  const e = event('media.user_photo', { mediaUrl, createdAt: Date.now() });
  return { ...e, type, media: { ...(e.media as object), ...media } } as unknown as Record<string, unknown> & {
    id: string;
    sessionId: string;
    media: { id: string };
  };
}

describe('media the processor used to lose', () => {
  it('an undocumented media type (media.document_video) has its file stored', async () => {
    const e = await mediaEvent('media.document_video', { size: 3000, contentType: 'video/mp4' }, { contentType: 'video/mp4' });
    expect((await post(JSON.stringify(e))).status).toBe(200);
    const stored = await waitFor('the file', () => getObject(`media/${e.sessionId}/media.document_video/${e.media.id}.mp4`));
    expect(stored.body.length).toBe(3000);
    expect(stored.contentType).toBe('video/mp4');
  });

  it('a quarantined media event (createdAt as an ISO string) has its file stored under media/, in its session', async () => {
    const e = { ...(await mediaEvent('media.user_photo', { size: 2500, contentType: 'image/jpeg' })), createdAt: new Date().toISOString() };
    const body = JSON.stringify(e);
    expect((await post(body)).status).toBe(200);
    const stored = await waitFor('the quarantined media', () => getObject(`media/${e.sessionId}/quarantine/${sha(body)}.jpg`));
    expect(stored.body.length).toBe(2500);
    expect(stored.contentType).toBe('image/jpeg');
    const bodyKey = await waitFor('the quarantined body', async () => (await listKeys('quarantine/')).find((k) => k.endsWith(`/${sha(body)}.json`)));
    expect((await getObject(bodyKey))?.body.toString('utf8')).toBe(body);
    // Nothing but bodies under quarantine/: the file is biometric and kept under the media rules.
    expect((await listKeys('quarantine/')).filter((k) => k.includes(sha(body)))).toEqual([bodyKey]);
  });

  it('a quarantined media event without a session id has its file stored dated under media/_unknown-session/', async () => {
    const e = { ...(await mediaEvent('media.user_photo', { size: 700, contentType: 'image/png' }, { contentType: 'image/png' })), sessionId: '' };
    const body = JSON.stringify(e);
    expect((await post(body)).status).toBe(200);
    const key = await waitFor('the quarantined media', async () =>
      (await listKeys('media/_unknown-session/quarantine/')).find((k) => k.endsWith(`/${sha(body)}.png`)),
    );
    expect(key).toMatch(/^media\/_unknown-session\/quarantine\/\d{4}\/\d{2}\/\d{2}\/[0-9a-f]{64}\.png$/);
    expect((await getObject(key))?.body.length).toBe(700);
  });

  it('an expiry given in seconds is read as seconds: the file is stored', async () => {
    const e = await mediaEvent('media.user_photo', { size: 1200, contentType: 'image/jpeg' }, { expires: Math.floor(Date.now() / 1000) + 900 });
    expect((await post(JSON.stringify(e))).status).toBe(200);
    const stored = await waitFor('the file', () => getObject(`media/${e.sessionId}/media.user_photo/${e.media.id}.jpg`));
    expect(stored.body.length).toBe(1200);
  });

  it('a content type with CR/LF never reaches S3: the file is stored as application/octet-stream', async () => {
    const e = await mediaEvent('media.user_photo', { size: 900, contentType: '' }, { contentType: 'image/jpeg\r\nX-Injected: 1' });
    expect((await post(JSON.stringify(e))).status).toBe(200);
    const key = await waitFor('the file', async () => (await listKeys(`media/${e.sessionId}/`))[0]);
    const stored = await getObject(key);
    expect(stored?.body.length).toBe(900);
    expect(stored?.contentType).toBe('application/octet-stream');
  });

  it('a 256-character event type is published with a DetailType EventBridge accepts, and the full type in the detail', async () => {
    const type = `custom.${'t'.repeat(249)}`;
    const e = event(type);
    expect((await post(JSON.stringify(e))).status).toBe(200);
    const [entry] = await waitFor('the publication', async () => {
      const entries = await publishedEntries(String(e.id));
      return entries.length > 0 ? entries : undefined;
    });
    expect(entry.detailType.length).toBeLessThanOrEqual(128);
    expect(entry.detailType).toBe(`${type.slice(0, 110)}~${sha(type).slice(0, 16)}`);
    expect((entry.detail.event as { type: string }).type).toBe(type);
  });
});
