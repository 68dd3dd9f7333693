import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FACESIGN_EVENT_TYPES, isMediaEventType } from '../../contract/event';
import { mediaSha256 } from '../../local/media-content';
import {
  archiveKey,
  ctx,
  event,
  getObject,
  listKeys,
  mediaHits,
  planMedia,
  post,
  publishedCount,
  publishedEntries,
  receivedEventIds,
  unique,
  waitFor,
} from './helpers';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe(`the local pipeline (real bundles, ${ctx.dynamodbKind}, fauxqs)`, () => {
  it.each(FACESIGN_EVENT_TYPES)('%s: 200, then archived in S3 byte for byte', async (type) => {
    const mediaUrl = isMediaEventType(type)
      ? await planMedia(`/${unique('m')}.bin`, [{ status: 200, size: 2048, contentType: type === 'media.user_video' ? 'video/mp4' : 'image/jpeg' }])
      : undefined;
    const e = event(type, { mediaUrl });
    // Pretty-printed on purpose: the archive must hold the bytes sent, not a re-serialisation.
    const body = JSON.stringify(e, null, 2);
    expect(await post(body)).toEqual({ status: 200, json: { received: true } });
    const archived = await waitFor(`archive of ${type}`, () => getObject(archiveKey(e)));
    expect(archived.body.toString('utf8')).toBe(body);
    expect(archived.contentType).toBe('application/json');
  });

  it('stores a photo with the SHA-256 and content type the media host served', async () => {
    const path = `/${unique('photo')}.jpg`;
    const mediaUrl = await planMedia(path, [{ status: 200, seed: path, size: 350_000, contentType: 'image/jpeg' }]);
    const e = event('media.user_photo', { mediaUrl });
    expect((await post(JSON.stringify(e))).status).toBe(200);
    const media = e.media as { id: string };
    const stored = await waitFor('stored photo', () => getObject(`media/${e.sessionId}/media.user_photo/${media.id}.jpg`));
    expect(sha256(stored.body)).toBe(await mediaSha256(path, 350_000));
    expect(stored.contentType).toBe('image/jpeg');
    expect(stored.metadata?.['facesign-event-id']).toBe(e.id);
  });

  it('streams a 100 MB video into S3 intact', async () => {
    const size = 100 * 1024 * 1024;
    const path = `/${unique('video')}.mp4`;
    const mediaUrl = await planMedia(path, [{ status: 200, seed: path, size, contentType: 'video/mp4' }]);
    const e = event('media.user_video', { mediaUrl });
    expect((await post(JSON.stringify(e))).status).toBe(200);
    const media = e.media as { id: string };
    const stored = await waitFor('stored video', () => getObject(`media/${e.sessionId}/media.user_video/${media.id}.mp4`), 90_000);
    expect(stored.body.length).toBe(size);
    expect(sha256(stored.body)).toBe(await mediaSha256(path, size));
    expect(stored.contentType).toBe('video/mp4');
  });

  it('processes an event delivered twice in sequence once: one download, one archive object', async () => {
    const path = `/${unique('twice')}.jpg`;
    const mediaUrl = await planMedia(path, [{ status: 200, size: 1000, contentType: 'image/jpeg' }]);
    const e = event('media.user_photo', { mediaUrl });
    const body = JSON.stringify(e);
    expect((await post(body)).status).toBe(200);
    await waitFor('first archive', () => getObject(archiveKey(e)));
    expect((await post(body)).status).toBe(200);
    await waitFor('the second delivery to be consumed', async () => ((await receivedEventIds()).filter((id) => id === e.id).length >= 2 ? true : undefined));
    await new Promise((r) => setTimeout(r, 500));
    expect(await mediaHits(path)).toBe(1);
    expect(await listKeys(`events/${e.sessionId}/`)).toEqual([archiveKey(e)]);
    expect(await publishedCount(String(e.id))).toBe(1);
  });

  it('publishes every processed event to EventBridge with its type and S3 locations', async () => {
    const e = event('analysis.video');
    expect((await post(JSON.stringify(e))).status).toBe(200);
    await waitFor('the publication', async () => ((await publishedCount(String(e.id))) > 0 ? true : undefined));
    const [entry] = await publishedEntries(String(e.id));
    expect(entry).toMatchObject({
      source: 'facesign.webhooks',
      detailType: 'analysis.video',
      detail: { event: e, archive: { bucket: ctx.bucket, key: archiveKey(e) } },
    });
  });

  it('processes an event delivered 10 times concurrently once', async () => {
    const path = `/${unique('ten')}.jpg`;
    const mediaUrl = await planMedia(path, [{ status: 200, size: 5000, contentType: 'image/jpeg' }]);
    const e = event('media.document_photo', { mediaUrl });
    const body = JSON.stringify(e);
    const answers = await Promise.all(Array.from({ length: 10 }, () => post(body)));
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    await waitFor(
      'all ten deliveries to be handled',
      async () => {
        const received = (await receivedEventIds()).filter((id) => id === e.id).length;
        return received >= 10 && (await getObject(archiveKey(e))) ? true : undefined;
      },
      60_000,
    );
    // Concurrent duplicates back off and come back as duplicates; give them time to finish.
    await new Promise((r) => setTimeout(r, 4000));
    expect(await mediaHits(path)).toBe(1);
    expect(await listKeys(`events/${e.sessionId}/`)).toEqual([archiveKey(e)]);
    expect(await listKeys(`media/${e.sessionId}/`)).toHaveLength(1);
    expect(await publishedCount(String(e.id))).toBe(1);
  });
});
