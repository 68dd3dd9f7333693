/**
 * No signed URL leaves the pipeline: what the local EventBridge endpoint received from the real
 * processor bundle, and every line either function printed, hold no URL with a query string.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { containsUrlQuery } from '../../contract/redact-url';
import { archiveKey, ctx, event, getObject, planMedia, post, publishedEntries, unique, waitFor } from './helpers';

interface Published {
  source: string;
  detailType: string;
  detail: {
    event?: { id: string; media?: { url: string } };
    archive: { bucket: string; key: string };
    media?: { bucket: string; key: string; contentType: string; bytes: number; sha256: string };
  };
}

async function published(eventId: string): Promise<Published | undefined> {
  const [first] = (await publishedEntries(eventId)) as unknown as Published[];
  return first;
}

async function functionLogs(): Promise<string[]> {
  return ((await (await fetch(`${ctx.controlUrl}/logs`)).json()) as { lines: string[] }).lines;
}

describe('data protection, end to end', () => {
  it('publishes the stored copy of a photo and the event without its signed query; no log line carries a query', async () => {
    const path = `/${unique('selfie')}.jpg`;
    const mediaUrl = await planMedia(path, [{ status: 200, size: 3000, contentType: 'image/jpeg' }]);
    const signature = new URL(mediaUrl).searchParams.get('X-Amz-Signature')!;
    const e = event('media.user_photo', { mediaUrl, expires: Date.now() + 15 * 60_000 });
    expect((await post(JSON.stringify(e))).status).toBe(200);

    const entry = await waitFor('the publication', () => published(String(e.id)), 60_000);
    const media = e.media as { id: string };
    const stored = await getObject(`media/${e.sessionId}/media.user_photo/${media.id}.jpg`);
    expect(stored).toBeDefined();
    expect(entry.detail.media).toEqual({
      bucket: ctx.bucket,
      key: `media/${e.sessionId}/media.user_photo/${media.id}.jpg`,
      contentType: 'image/jpeg',
      bytes: 3000,
      sha256: createHash('sha256').update(stored!.body).digest('hex'),
    });
    expect(entry.detail.archive).toEqual({ bucket: ctx.bucket, key: archiveKey(e) });
    expect(entry.detail.event?.media?.url).toBe(`${ctx.mediaOrigin}/[redacted]`);
    expect(containsUrlQuery(JSON.stringify(entry))).toBe(false);
    expect(JSON.stringify(entry)).not.toContain(signature);

    // The archive keeps the payload byte for byte (it is what FaceSign signed), under the bucket's key.
    expect((await getObject(archiveKey(e)))?.body.toString()).toBe(JSON.stringify(e));

    const lines = await functionLogs();
    expect(lines.some((l) => l.includes(String(e.id)))).toBe(true);
    for (const line of lines) {
      expect(containsUrlQuery(line), line).toBe(false);
      expect(line).not.toContain(signature);
    }
  });

  it('logs no query for a media URL that fails, and publishes nothing for it', async () => {
    const path = `/${unique('gone')}.jpg`;
    const mediaUrl = await planMedia(path, [{ status: 404 }]);
    const signature = new URL(mediaUrl).searchParams.get('X-Amz-Signature')!;
    const e = event('media.document_photo', { mediaUrl, expires: Date.now() + 15 * 60_000 });
    expect((await post(JSON.stringify(e))).status).toBe(200);
    await waitFor(
      'the dead-letter log line',
      async () => ((await functionLogs()).some((l) => l.includes(String(e.id)) && l.includes('media_not_available')) ? true : undefined),
      60_000,
    );
    for (const line of await functionLogs()) {
      expect(containsUrlQuery(line), line).toBe(false);
      expect(line).not.toContain(signature);
    }
    expect(await published(String(e.id))).toBeUndefined();
  });
});
