/**
 * What a forged header can cost: one HMAC of the body per active secret, however many t and v1 it
 * carries (each t would hash the whole body again). Counted on node:crypto's createHmac itself.
 */
import * as crypto from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { verifyFaceSignSignature } from '../../contract/signature';

vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return { ...actual, createHmac: vi.fn(actual.createHmac) };
});

const NOW_S = 1_761_595_700;
const body = Buffer.from([0xff, 0xfe, 0xfd, ...Buffer.from('not UTF-8 and long '.repeat(1000))]);

function forgedHeader(ts: number, v1s: number): string {
  return [...Array.from({ length: ts }, (_, i) => `t=${NOW_S - i}`), ...Array.from({ length: v1s }, (_, i) => `v1=${String(i).padStart(64, '0')}`)].join(',');
}

describe('the HMACs a forged request costs', () => {
  it.each([
    [1, 1, 1],
    [8, 16, 1],
    [50, 100, 1],
    [50, 100, 2],
  ])('%i t and %i v1 under %i secret(s): one HMAC per secret, no U+FFFD re-hash', (ts, v1s, secretCount) => {
    const secrets = ['whsec_a', 'whsec_b'].slice(0, secretCount);
    const createHmac = vi.mocked(crypto.createHmac);
    createHmac.mockClear();
    const result = verifyFaceSignSignature(body, { 'x-facesign-signature': forgedHeader(ts, v1s) }, secrets, { nowMs: NOW_S * 1000 });
    expect(result).toMatchObject({ ok: false, reason: 'signature_mismatch' });
    expect(createHmac).toHaveBeenCalledTimes(secretCount);
  });
});
