/**
 * Hostile media URLs through the real bundles: a credential hidden where a query-only redaction
 * misses it (a quote before the `?`, a token in the path, in `;` parameters, in user info) reaches
 * no log line, no S3 metadata, no dead-letter reason and no EventBridge detail. Black-box: only
 * what leaves the processor is read.
 */
import { describe, expect, it } from 'vitest';
import { ctx, deadLetterFor, event, getObject, listKeys, planMedia, post, publishedEntries, unique, waitFor } from './helpers';

async function functionLogs(): Promise<string[]> {
  return ((await (await fetch(`${ctx.controlUrl}/logs`)).json()) as { lines: string[] }).lines;
}

/** A fresh token per test, so a leak is found wherever it lands. */
const token = () => unique('TOKEN').toUpperCase();

function hostilePath(t: string): string {
  // The path as the media host sees it: a token segment, a quote, and a `;` parameter.
  return `/token/${t}a/${unique('selfie')}'x.jpg;sig=${t}b`;
}

describe('redaction of hostile media URLs, end to end', () => {
  it('a stored photo: no token in its S3 metadata, in the published detail or in any log line', async () => {
    const t = token();
    const path = hostilePath(t);
    // The query carries a token too, after the quote in the path.
    const mediaUrl = `${(await planMedia(path, [{ status: 200, size: 2000, contentType: 'image/jpeg' }])).split('?')[0]}?X-Amz-Signature=${t}c`;
    const e = event('media.user_photo', { mediaUrl, expires: Date.now() + 15 * 60_000 });
    expect((await post(JSON.stringify(e))).status).toBe(200);

    const [entry] = await waitFor('the publication', async () => {
      const entries = await publishedEntries(String(e.id));
      return entries.length ? entries : undefined;
    });
    const detail = JSON.stringify(entry);
    expect(detail).not.toContain(t);
    expect((entry.detail.event as { media: { url: string } }).media.url).toBe(`${ctx.mediaOrigin}/[redacted]`);

    const [key] = await listKeys(`media/${String(e.sessionId)}/`);
    const stored = await getObject(key);
    expect(stored?.body.length).toBe(2000);
    expect(JSON.stringify(stored?.metadata ?? {})).not.toContain(t);

    const lines = await functionLogs();
    expect(lines.some((l) => l.includes(String(e.id)))).toBe(true);
    for (const line of lines) expect(line).not.toContain(t);
  });

  it.each([
    ['a 404 for a URL with a token in its path and parameters', (t: string) => `${'http://'}${new URL(ctx.mediaOrigin).host}${hostilePath(t)}`, 404],
    ['a URL whose user info holds a token', (t: string) => `${ctx.mediaOrigin.replace('://', `://u:${t}@`)}/${unique('u')}.jpg`, undefined],
  ])('dead-lettered, %s: the reason and every log line carry no token', async (_name, url, status) => {
    const t = token();
    const mediaUrl = url(t);
    if (status) await planMedia(new URL(mediaUrl).pathname, [{ status }]);
    const e = event('media.document_photo', { mediaUrl, expires: Date.now() + 15 * 60_000 });
    expect((await post(JSON.stringify(e))).status).toBe(200);

    const dead = await deadLetterFor(String(e.id), 60_000);
    // The body is the delivery as FaceSign signed it, kept byte for byte; what we add to it is not.
    expect(dead.body).toBe(JSON.stringify(e));
    expect(dead.attributes.failureReason).toBeTruthy();
    expect(JSON.stringify(dead.attributes)).not.toContain(t);
    for (const line of await functionLogs()) expect(line).not.toContain(t);
    expect(await publishedEntries(String(e.id))).toEqual([]);
  });
});
