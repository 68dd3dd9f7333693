import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  computeSignature,
  getHeader,
  parseSignatureHeader,
  signFaceSignPayload,
  verifyFaceSignSignature,
} from '../../../lambda/shared/signature';

const SECRET = 'whsec_test_primary';
const OTHER = 'whsec_test_other';
const NOW_S = 1_761_595_700;
const NOW_MS = NOW_S * 1000;
const BODY = '{"id":"evt_1","type":"session.status","createdAt":1761595700000,"sessionId":"s_1"}';

function hex(secret: string, t: number | string, body: string | Buffer): string {
  return createHmac('sha256', secret).update(`${t}.`).update(body).digest('hex');
}

function verify(header: string | undefined, opts: { body?: string | Buffer; secrets?: string[]; nowMs?: number; timestampHeader?: string; tolerance?: number } = {}) {
  const headers: Record<string, string | undefined> = { 'X-FaceSign-Signature': header };
  if (opts.timestampHeader !== undefined) headers['X-FaceSign-Timestamp'] = opts.timestampHeader;
  return verifyFaceSignSignature(opts.body ?? BODY, headers, opts.secrets ?? [SECRET], {
    nowMs: opts.nowMs ?? NOW_MS,
    toleranceSeconds: opts.tolerance,
  });
}

describe('computeSignature', () => {
  it('is HMAC-SHA256(secret, "<t>.<rawBody>") in lower-case hex, as the FaceSign document specifies', () => {
    expect(computeSignature(BODY, SECRET, NOW_S)).toBe(hex(SECRET, NOW_S, BODY));
    expect(computeSignature(BODY, SECRET, NOW_S)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('signs bytes and the equal string identically, including multi-byte UTF-8', () => {
    const body = '{"name":"Zoë 🙂"}';
    expect(computeSignature(Buffer.from(body, 'utf8'), SECRET, 1)).toBe(computeSignature(body, SECRET, 1));
  });
});

describe('parseSignatureHeader', () => {
  it('reads t and every v1, ignoring other schemes and white space around elements', () => {
    const a = 'a'.repeat(64);
    const b = 'B'.repeat(64);
    const parsed = parseSignatureHeader(` t=123 , v0=zzz, v1=${a},v1=${b} `);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.header.timestamp).toBe(123);
    expect(parsed.header.signatures.map((s) => s.toString('hex'))).toEqual([a, b.toLowerCase()]);
  });

  it.each([
    ['', 'missing_signature'],
    ['   ', 'missing_signature'],
  ])('treats %j as a missing signature', (value, reason) => {
    expect(parseSignatureHeader(value)).toMatchObject({ ok: false, reason });
    expect(parseSignatureHeader(undefined)).toMatchObject({ ok: false, reason: 'missing_signature' });
  });

  it.each([
    ['v1 only', `v1=${'a'.repeat(64)}`, /no t element/],
    ['t only', 't=123', /no v1 element/],
    ['two t', `t=1,t=2,v1=${'a'.repeat(64)}`, /more than one t/],
    ['t not digits', `t=12a,v1=${'a'.repeat(64)}`, /t element/],
    ['t negative', `t=-5,v1=${'a'.repeat(64)}`, /t element/],
    ['short v1', `t=1,v1=${'a'.repeat(63)}`, /64 hexadecimal/],
    ['non-hex v1', `t=1,v1=${'g'.repeat(64)}`, /64 hexadecimal/],
    ['element without =', `t=1,v1`, /key=value/],
    ['empty element', `t=1,,v1=${'a'.repeat(64)}`, /key=value/],
    ['empty value', `t=1,v1=`, /key=value/],
    ['bare signature', 'a'.repeat(64), /key=value/],
    ['too many v1', `t=1${`,v1=${'a'.repeat(64)}`.repeat(17)}`, /more than 16/],
    ['too long', `t=1,v1=${'a'.repeat(9000)}`, /characters long/],
  ])('refuses %s as malformed', (_name, value, message) => {
    const parsed = parseSignatureHeader(value);
    expect(parsed).toMatchObject({ ok: false, reason: 'malformed_signature' });
    if (!parsed.ok) expect(parsed.message).toMatch(message);
  });
});

describe('verifyFaceSignSignature', () => {
  const good = `t=${NOW_S},v1=${hex(SECRET, NOW_S, BODY)}`;

  it('accepts a correct signature', () => {
    expect(verify(good)).toEqual({ ok: true, timestamp: NOW_S });
  });

  it('finds the header whatever its case', () => {
    for (const name of ['x-facesign-signature', 'X-FACESIGN-SIGNATURE', 'X-FaceSign-Signature']) {
      expect(verifyFaceSignSignature(BODY, { [name]: good }, [SECRET], { nowMs: NOW_MS }).ok).toBe(true);
    }
  });

  it('accepts the header when one of several v1 entries matches, in any position', () => {
    const wrong = hex(OTHER, NOW_S, BODY);
    expect(verify(`t=${NOW_S},v1=${wrong},v1=${hex(SECRET, NOW_S, BODY)}`).ok).toBe(true);
    expect(verify(`t=${NOW_S},v1=${hex(SECRET, NOW_S, BODY)},v1=${wrong}`).ok).toBe(true);
  });

  it('accepts any active secret during a rotation, and refuses once the old one is removed', () => {
    const signedWithOld = `t=${NOW_S},v1=${hex(OTHER, NOW_S, BODY)}`;
    expect(verify(signedWithOld, { secrets: [SECRET, OTHER] }).ok).toBe(true);
    expect(verify(signedWithOld, { secrets: [SECRET] })).toMatchObject({ ok: false, reason: 'signature_mismatch' });
  });

  it('refuses a wrong secret, a changed body and a changed timestamp as signature_mismatch', () => {
    expect(verify(`t=${NOW_S},v1=${hex(OTHER, NOW_S, BODY)}`)).toMatchObject({ ok: false, reason: 'signature_mismatch' });
    expect(verify(good, { body: BODY.replace('s_1', 's_2') })).toMatchObject({ ok: false, reason: 'signature_mismatch' });
    expect(verify(`t=${NOW_S + 1},v1=${hex(SECRET, NOW_S, BODY)}`)).toMatchObject({ ok: false, reason: 'signature_mismatch' });
  });

  it('verifies the exact bytes: re-serialised JSON with other white space fails', () => {
    const reserialised = JSON.stringify(JSON.parse(BODY), null, 2);
    expect(verify(good, { body: reserialised })).toMatchObject({ ok: false, reason: 'signature_mismatch' });
  });

  it('accepts a body given as bytes', () => {
    expect(verify(good, { body: Buffer.from(BODY) }).ok).toBe(true);
  });

  it('applies the tolerance on both sides of now, inclusive at the edge', () => {
    const at = (t: number) => `t=${t},v1=${hex(SECRET, t, BODY)}`;
    expect(verify(at(NOW_S - 300)).ok).toBe(true);
    expect(verify(at(NOW_S + 300)).ok).toBe(true);
    expect(verify(at(NOW_S - 301))).toMatchObject({ ok: false, reason: 'timestamp_out_of_tolerance' });
    expect(verify(at(NOW_S + 301))).toMatchObject({ ok: false, reason: 'timestamp_out_of_tolerance' });
    expect(verify(at(NOW_S - 1000), { tolerance: 1200 }).ok).toBe(true);
  });

  it('treats a millisecond timestamp as a time far in the future, not as a malformed header', () => {
    const t = NOW_MS;
    expect(verify(`t=${t},v1=${hex(SECRET, t, BODY)}`)).toMatchObject({ ok: false, reason: 'timestamp_out_of_tolerance' });
  });

  it('requires X-FaceSign-Timestamp, when sent, to equal t', () => {
    expect(verify(good, { timestampHeader: String(NOW_S) }).ok).toBe(true);
    expect(verify(good, { timestampHeader: String(NOW_S - 1) })).toMatchObject({ ok: false, reason: 'timestamp_mismatch' });
    expect(verify(good, { timestampHeader: 'yesterday' })).toMatchObject({ ok: false, reason: 'timestamp_mismatch' });
  });

  it('reports a missing and a malformed header by name', () => {
    expect(verify(undefined)).toMatchObject({ ok: false, reason: 'missing_signature' });
    expect(verify('sha256=abc')).toMatchObject({ ok: false, reason: 'malformed_signature' });
  });

  it('never puts the secret or the expected signature in its message', () => {
    const result = verify(`t=${NOW_S},v1=${'0'.repeat(64)}`);
    expect(result.ok).toBe(false);
    const text = JSON.stringify(result);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(hex(SECRET, NOW_S, BODY));
  });

  it('refuses to run without a secret or with a non-positive tolerance', () => {
    expect(() => verifyFaceSignSignature(BODY, {}, [])).toThrow(/at least one non-empty signing secret/);
    expect(() => verifyFaceSignSignature(BODY, {}, [''])).toThrow(/non-empty/);
    expect(() => verifyFaceSignSignature(BODY, {}, [SECRET], { toleranceSeconds: 0 })).toThrow(/got 0/);
  });
});

describe('signFaceSignPayload', () => {
  it('produces headers that verify, and that fail under another secret', () => {
    const signed = signFaceSignPayload(BODY, SECRET, NOW_S);
    expect(signed.headers['X-FaceSign-Timestamp']).toBe(String(NOW_S));
    expect(signed.headers['X-FaceSign-Signature']).toBe(`t=${NOW_S},v1=${hex(SECRET, NOW_S, BODY)}`);
    expect(verifyFaceSignSignature(BODY, signed.headers, [SECRET], { nowMs: NOW_MS }).ok).toBe(true);
    expect(verifyFaceSignSignature(BODY, signed.headers, [OTHER], { nowMs: NOW_MS }).ok).toBe(false);
  });

  it('defaults the timestamp to now', () => {
    const signed = signFaceSignPayload(BODY, SECRET);
    expect(Math.abs(signed.timestamp - Date.now() / 1000)).toBeLessThan(5);
    expect(verifyFaceSignSignature(BODY, signed.headers, [SECRET]).ok).toBe(true);
  });
});

describe('getHeader', () => {
  it('joins repeated values with commas, as HTTP does', () => {
    expect(getHeader({ 'X-A': ['1', '2'] }, 'x-a')).toBe('1,2');
    expect(getHeader({ 'x-a': undefined }, 'X-A')).toBeUndefined();
  });
});
