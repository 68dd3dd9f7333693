import { describe, expect, it } from 'vitest';
import { signFaceSignPayload } from '../../contract/signature';
import { archiveKey, ctx, event, getObject, listKeys, post, waitFor } from './helpers';

/** Bodies whose bytes need care on the way through: archived byte for byte all the same. */
describe('the local pipeline keeps unusual authentic bodies byte for byte (real bundles, fauxqs)', () => {
  const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

  it('a body behind a UTF-8 BOM, signed over the text as req.text() reads it (no BOM): 200, archived as signed, without the BOM', async () => {
    const e = event('session.status');
    const text = JSON.stringify(e);
    const bytes = Buffer.concat([BOM, Buffer.from(text)]);
    const { headers } = signFaceSignPayload(text, ctx.signingSecret);
    expect(await post(bytes, { unsigned: true, headers })).toEqual({ status: 200, json: { received: true } });
    const archived = await waitFor('the archive', () => getObject(archiveKey(e)));
    expect(archived.body.equals(Buffer.from(text))).toBe(true);
  });

  it('a body signed over a leading BOM too: 401, as the reference verifier refuses it (req.text() drops the BOM before its HMAC)', async () => {
    const e = event('session.status');
    const bytes = Buffer.concat([BOM, Buffer.from(JSON.stringify(e))]);
    expect(await post(bytes)).toMatchObject({ status: 401, json: { error: 'signature_mismatch' } });
  });

  it('a captured delivery replayed with a BOM prepended, same header: a duplicate, one quarantine copy', async () => {
    // An authentic envelope the schema does not recognise (createdAt not a number) goes to quarantine/.
    const e: Record<string, unknown> = { ...event('session.status'), createdAt: 'yesterday' };
    const text = JSON.stringify(e);
    const { headers } = signFaceSignPayload(text, ctx.signingSecret);
    expect((await post(text, { unsigned: true, headers })).status).toBe(200);
    expect((await post(Buffer.concat([BOM, Buffer.from(text)]), { unsigned: true, headers })).status).toBe(200);
    const copies = async () => {
      const found: string[] = [];
      for (const key of await listKeys('quarantine/')) if ((await getObject(key))?.body.toString().includes(String(e.id))) found.push(key);
      return found;
    };
    const first = await waitFor('the quarantine copy', async () => ((await copies()).length ? await copies() : undefined));
    // Both deliveries are processed (or skipped as a duplicate) within seconds; a second copy would be there by now.
    await new Promise((r) => setTimeout(r, 3000));
    expect(await copies()).toEqual(first);
    expect(first).toHaveLength(1);
    expect((await getObject(first[0]))?.body.toString()).toContain(text);
  });

  it('a body with raw U+FFFE and U+FFFF (which SQS cannot carry): 200, archived byte for byte', async () => {
    const e = { ...event('session.status'), note: 'a\uFFFEb\uFFFFc' };
    const body = JSON.stringify(e);
    expect(await post(body)).toEqual({ status: 200, json: { received: true } });
    const archived = await waitFor('the archive', () => getObject(archiveKey(e)));
    expect(archived.body.equals(Buffer.from(body, 'utf8'))).toBe(true);
  });
});
