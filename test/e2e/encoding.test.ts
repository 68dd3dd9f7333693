import { describe, expect, it } from 'vitest';
import { signFaceSignPayload } from '../../contract/signature';
import { archiveKey, ctx, event, getObject, post, waitFor } from './helpers';

/** Bodies whose bytes need care on the way through: archived byte for byte all the same. */
describe('the local pipeline keeps unusual authentic bodies byte for byte (real bundles, fauxqs)', () => {
  const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

  it('a body behind a UTF-8 BOM, signed over the bytes with the BOM: 200, archived with the BOM', async () => {
    const e = event('session.status');
    const bytes = Buffer.concat([BOM, Buffer.from(JSON.stringify(e))]);
    expect(await post(bytes)).toEqual({ status: 200, json: { received: true } });
    const archived = await waitFor('the archive', () => getObject(archiveKey(e)));
    expect(archived.body.equals(bytes)).toBe(true);
  });

  it('a body behind a UTF-8 BOM, signed over the text as req.text() reads it (no BOM): 200, archived with the BOM', async () => {
    const e = event('session.status');
    const text = JSON.stringify(e);
    const bytes = Buffer.concat([BOM, Buffer.from(text)]);
    const { headers } = signFaceSignPayload(text, ctx.signingSecret);
    expect(await post(bytes, { unsigned: true, headers })).toEqual({ status: 200, json: { received: true } });
    const archived = await waitFor('the archive', () => getObject(archiveKey(e)));
    expect(archived.body.equals(bytes)).toBe(true);
  });

  it('a body with raw U+FFFE and U+FFFF (which SQS cannot carry): 200, archived byte for byte', async () => {
    const e = { ...event('session.status'), note: 'a\uFFFEb\uFFFFc' };
    const body = JSON.stringify(e);
    expect(await post(body)).toEqual({ status: 200, json: { received: true } });
    const archived = await waitFor('the archive', () => getObject(archiveKey(e)));
    expect(archived.body.equals(Buffer.from(body, 'utf8'))).toBe(true);
  });
});
