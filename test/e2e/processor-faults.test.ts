/**
 * Processor faults injected into the local runtime (real bundles, real local services): a hung
 * S3 (connections accepted, never answered) and a second, different version of an event id.
 */
import { describe, expect, it } from 'vitest';
import {
  archiveKey,
  deadLetterFor,
  event,
  eventSourceStats,
  fault,
  getObject,
  listKeys,
  mediaHits,
  planMedia,
  post,
  publishedCount,
  receivedEventIds,
  unique,
  waitFor,
} from './helpers';

// The e2e runtime's processor timeout (global-setup.ts).
const PROCESSOR_TIMEOUT_MS = 60_000;

describe('a hung S3', () => {
  it('ends the invocation well before its timeout, fails the record with a short visibility, and the event is stored once S3 recovers', async () => {
    const e = event('session.status');
    const before = await eventSourceStats();
    await fault({ s3HungForProcessor: true });
    try {
      const posted = Date.now();
      expect((await post(JSON.stringify(e))).status).toBe(200);
      await waitFor(
        'the processor to fail the record itself',
        async () => {
          const now = await eventSourceStats();
          return now.failedRecords > before.failedRecords ? now : undefined;
        },
        PROCESSOR_TIMEOUT_MS + 30_000,
      );
      const failedAfterMs = Date.now() - posted;
      const after = await eventSourceStats();
      // Reported as a failed record (batchItemFailures), not an invocation that crashed or timed out.
      expect(after.failedInvocations).toBe(before.failedInvocations);
      expect(failedAfterMs).toBeLessThan(PROCESSOR_TIMEOUT_MS);
      expect(await getObject(archiveKey(e))).toBeUndefined();
    } finally {
      await fault({ s3HungForProcessor: false });
    }
    // The shortened visibility (1 s base in this runtime, not the 120 s queue visibility) brings it back.
    await waitFor('the event to be archived once S3 answers again', () => getObject(archiveKey(e)), 90_000);
    expect((await receivedEventIds()).filter((id) => id === e.id).length).toBeGreaterThanOrEqual(2);
    expect(await publishedCount(String(e.id))).toBe(1);
  });
});

describe('same id, different content', () => {
  it('a re-serialized retry is a plain duplicate; another version is archived under conflicts/ and not processed', async () => {
    const e = event('session.status');
    const first = JSON.stringify(e);
    expect((await post(first)).status).toBe(200);
    await waitFor('the first version archived', () => getObject(archiveKey(e)));

    // The same content re-serialized: keys in another order, other whitespace.
    const reserialized = JSON.stringify(Object.fromEntries(Object.entries(e).reverse()), null, 2);
    expect((await post(reserialized)).status).toBe(200);
    await waitFor('the re-serialized copy to be received and deleted', async () => {
      const ids = await receivedEventIds();
      return ids.filter((id) => id === e.id).length >= 2 ? true : undefined;
    });

    const changed = JSON.stringify({ ...e, createdAt: Number(e.createdAt) + 1, extra: 'a different version' });
    expect((await post(changed)).status).toBe(200);
    const prefix = `conflicts/${encodeURIComponent(String(e.sessionId))}/`;
    const keys = await waitFor('the conflicting version archived', async () => {
      const found = await listKeys(prefix);
      return found.length > 0 ? found : undefined;
    });
    // Only the changed version: the re-serialized one was a plain duplicate.
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(new RegExp(`^${prefix}${Number(e.createdAt) + 1}-${e.id}/[0-9a-f]{64}\\.json$`));
    expect((await getObject(keys[0]))?.body.toString()).toBe(changed);
    // The first version stays the processed one, published once.
    expect((await getObject(archiveKey(e)))?.body.toString()).toBe(first);
    expect(await publishedCount(String(e.id))).toBe(1);
  });
});

describe('a redrive after the media URL died', () => {
  it('completes without downloading when the file is already stored, and is dead-lettered as expired when it is not', async () => {
    const path = `/${unique('kept')}.jpg`;
    const mediaUrl = await planMedia(path, [{ status: 200, size: 5000, contentType: 'image/jpeg' }]);
    const sessionId = unique('ses');
    const mediaId = unique('m');
    const stored = event('media.user_photo', { sessionId, mediaId, mediaUrl });
    expect((await post(JSON.stringify(stored))).status).toBe(200);
    const key = `media/${sessionId}/media.user_photo/${mediaId}.jpg`;
    await waitFor('the file stored', () => getObject(key));
    expect(await mediaHits(path)).toBe(1);

    // The same media again, as a redrive of a delivery that failed after storing it, 20 minutes on.
    const createdAt = Date.now() - 20 * 60 * 1000;
    const redriven = event('media.user_photo', { sessionId, mediaId, mediaUrl, createdAt, expires: createdAt + 15 * 60 * 1000 });
    expect((await post(JSON.stringify(redriven))).status).toBe(200);
    await waitFor('the redriven event archived', () => getObject(archiveKey(redriven)));
    await waitFor('the redriven event published', async () => ((await publishedCount(String(redriven.id))) === 1 ? true : undefined));
    expect(await mediaHits(path)).toBe(1);

    // Without a stored file, a dead URL is tried once (the expiry is advisory); the host's 403 is
    // then a permanent media_url_expired.
    const deadPath = `/${unique('dead')}.jpg`;
    const deadUrl = await planMedia(deadPath, [{ status: 403 }]);
    const missing = event('media.user_photo', { mediaUrl: deadUrl, createdAt, expires: createdAt + 15 * 60 * 1000 });
    expect((await post(JSON.stringify(missing))).status).toBe(200);
    expect((await deadLetterFor(String(missing.id))).attributes.failureReason).toBe('media_url_expired');
    expect(await mediaHits(deadPath)).toBe(1);
    expect(await mediaHits(path)).toBe(1);
  });
});

describe('a different version while the first is still in progress', () => {
  it('is retried, not filed as a conflict, until the first has completed', async () => {
    const path = `/${unique('slow')}.jpg`;
    const mediaUrl = await planMedia(path, [{ status: 200, size: 20_000, contentType: 'image/jpeg', durationMs: 5000 }]);
    const first = event('media.user_photo', { mediaUrl });
    const before = await eventSourceStats();
    expect((await post(JSON.stringify(first))).status).toBe(200);
    await waitFor('the first version downloading', async () => ((await mediaHits(path)) >= 1 ? true : undefined));

    const changed = JSON.stringify({ ...first, createdAt: Number(first.createdAt) + 1 });
    expect((await post(changed)).status).toBe(200);
    const mediaKey = `media/${first.sessionId}/media.user_photo/${(first.media as { id: string }).id}.jpg`;
    const prefix = `conflicts/${encodeURIComponent(String(first.sessionId))}/`;
    const conflicts = await waitFor(
      'the other version filed as a conflict',
      async () => {
        const found = await listKeys(prefix);
        return found.length > 0 ? found : undefined;
      },
      60_000,
    );
    // Filed only once the first version had completed: its file was stored by then.
    expect(await getObject(mediaKey)).toBeDefined();
    expect(conflicts).toHaveLength(1);
    expect((await getObject(conflicts[0]))?.body.toString()).toBe(changed);
    expect((await eventSourceStats()).failedRecords).toBeGreaterThan(before.failedRecords);
  });
});
