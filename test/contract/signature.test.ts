import { createHmac } from 'node:crypto';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { referenceVerifier } from '../support/reference-verifier';
import { computeSignature, getHeader, parseSignatureHeader, signFaceSignPayload, verifyFaceSignSignature } from '../../contract/signature';

const SECRET = 'whsec_test_primary';
const OTHER = 'whsec_test_other';
const NOW_S = 1_761_595_700;
const NOW_MS = NOW_S * 1000;
const BODY = '{"id":"evt_1","type":"session.status","createdAt":1761595700000,"sessionId":"s_1"}';

function hex(secret: string, t: number | string, body: string | Buffer): string {
  return createHmac('sha256', secret).update(`${t}.`).update(body).digest('hex');
}

function verify(
  header: string | undefined,
  opts: { body?: string | Buffer; secrets?: string[]; nowMs?: number; timestampHeader?: string; tolerance?: number } = {},
) {
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
  it('reads every v1 and one t, ignoring other schemes and white space around elements', () => {
    const a = 'a'.repeat(64);
    const b = 'B'.repeat(64);
    const parsed = parseSignatureHeader(` t=123 , v0=zzz, v1=${a},v1=${b} `);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.header.timestamp).toBe('123');
    expect(parsed.header.signatures.map((s) => s.toString('hex'))).toEqual([a, b.toLowerCase()]);
  });

  it.each([
    ['the last t, as Object.fromEntries keeps it', 't=1,t=2,v1=V,t=3', '3'],
    ['the value as sent, white space included, when the key is exactly t', 't=1,t= 2 ,v1=V', ' 2 '],
    ['a lenient t only when the reference reads none', ' t=1 ,T=2,v1=V', '2'],
    ['a lenient t when the last exact t is empty', 't=1,v1=V,t=', '1'],
    ['a lenient t when the last exact t has no =', 't=1,v1=V,t', '1'],
    ['a value cut at a second =', 't=1=2,v1=V', '1'],
  ])('takes one t whatever the count: %s', (_name, header, expected) => {
    const parsed = parseSignatureHeader(header.replace('V', 'a'.repeat(64)));
    expect(parsed).toMatchObject({ ok: true, header: { timestamp: expected } });
  });

  it('takes any number of t and v1 elements, as the reference does (which reads the last of each)', () => {
    const v1s = Array.from({ length: 100 }, (_, i) => `v1=${i.toString(16).padStart(64, '0')}`);
    const ts = Array.from({ length: 50 }, (_, i) => `t=${i}`);
    const parsed = parseSignatureHeader([...ts, ...v1s].join(','));
    expect(parsed.ok && parsed.header.timestamp).toBe('49');
    expect(parsed.ok && parsed.header.signatures.length).toBe(100);
  });

  it('decodes v1 as Buffer.from(v1, "hex") does: trailing junk and an odd last digit are dropped', () => {
    const a = 'a'.repeat(64);
    const parsed = parseSignatureHeader(`t=1,v1=${a}zz,v1=${a}f,v1=${'c'.repeat(10)}`);
    expect(parsed.ok && parsed.header.signatures.map((s) => s.toString('hex'))).toEqual([a, a]);
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
    ['an empty t', `t=,v1=${'a'.repeat(64)}`, /no t element/],
    ['short v1', `t=1,v1=${'a'.repeat(63)}`, /no v1 element/],
    ['non-hex v1', `t=1,v1=${'g'.repeat(64)}`, /no v1 element/],
    ['bare signature', 'a'.repeat(64), /no t element/],
    ['longer than API Gateway lets through', `t=1,v1=${'a'.repeat(10_300)}`, /10307 characters long; at most 10240/],
  ])('refuses %s as malformed, saying what is missing', (_name, value, message) => {
    const parsed = parseSignatureHeader(value);
    expect(parsed).toMatchObject({ ok: false, reason: 'malformed_signature' });
    if (!parsed.ok) expect(parsed.message).toMatch(message);
  });
});

describe('verifyFaceSignSignature', () => {
  const sig = hex(SECRET, NOW_S, BODY);
  const good = `t=${NOW_S},v1=${sig}`;

  it('accepts a correct signature, with its age and no anomaly', () => {
    expect(verify(good)).toEqual({ ok: true, timestamp: NOW_S, ageSeconds: 0, anomalies: [] });
  });

  it('finds the header whatever its case', () => {
    for (const name of ['x-facesign-signature', 'X-FACESIGN-SIGNATURE', 'X-FaceSign-Signature']) {
      expect(verifyFaceSignSignature(BODY, { [name]: good }, [SECRET], { nowMs: NOW_MS }).ok).toBe(true);
    }
  });

  describe('header drift that the reference verifier accepts is accepted', () => {
    it.each([
      ['a trailing comma', `${good},`],
      ['a flag element without =', `t=${NOW_S},fresh,v1=${sig}`],
      ['a stray t before the signed one', `t=${NOW_S - 50},t=${NOW_S},v1=${sig}`],
      ['upper-case hex', `t=${NOW_S},v1=${sig.toUpperCase()}`],
      ['trailing junk after the 64 hex digits', `t=${NOW_S},v1=${sig}zz`],
      ['an odd 65th hex digit', `t=${NOW_S},v1=${sig}f`],
      ['a value cut at a second =', `t=${NOW_S},v1=${sig}=pad`],
      ['another scheme', `t=${NOW_S},v0=abc,v1=${sig}`],
    ])('%s', (_name, header) => {
      expect(referenceVerifier(BODY, header, SECRET)).toBe(true);
      expect(verify(header)).toMatchObject({ ok: true, timestamp: NOW_S });
    });
  });

  describe('drift the reference refuses is accepted too, wherever the HMAC decides', () => {
    it.each([
      ['an empty element', `t=${NOW_S},,v1=${sig}`],
      ['white space around elements', ` t=${NOW_S} , v1=${sig} `],
      ['an empty trailing t', `t=${NOW_S},v1=${sig},t=`],
      ['upper-case keys', `T=${NOW_S},V1=${sig}`],
      ['a second v1 that is not hex', `t=${NOW_S},v1=nothex,v1=${sig}`],
    ])('%s', (_name, header) => {
      expect(verify(header)).toMatchObject({ ok: true, timestamp: NOW_S });
    });
  });

  it('refuses a stray t after the signed one, as the reference does: it reads the last t', () => {
    const header = `t=${NOW_S},v1=${sig},t=${NOW_S + 7}`;
    expect(referenceVerifier(BODY, header, SECRET)).toBe(false);
    expect(verify(header)).toMatchObject({ ok: false, reason: 'signature_mismatch' });
  });

  it('accepts the header when one of several v1 entries matches, in any position', () => {
    const wrong = hex(OTHER, NOW_S, BODY);
    expect(verify(`t=${NOW_S},v1=${wrong},v1=${sig}`).ok).toBe(true);
    expect(verify(`t=${NOW_S},v1=${sig},v1=${wrong}`).ok).toBe(true);
  });

  it('accepts any active secret during a rotation, and refuses once the old one is removed', () => {
    const signedWithOld = `t=${NOW_S},v1=${hex(OTHER, NOW_S, BODY)}`;
    expect(verify(signedWithOld, { secrets: [SECRET, OTHER] }).ok).toBe(true);
    expect(verify(signedWithOld, { secrets: [SECRET] })).toMatchObject({ ok: false, reason: 'signature_mismatch' });
  });

  it('refuses a wrong secret, a changed body and a changed timestamp as signature_mismatch', () => {
    expect(verify(`t=${NOW_S},v1=${hex(OTHER, NOW_S, BODY)}`)).toMatchObject({ ok: false, reason: 'signature_mismatch' });
    expect(verify(good, { body: BODY.replace('s_1', 's_2') })).toMatchObject({ ok: false, reason: 'signature_mismatch' });
    expect(verify(`t=${NOW_S + 1},v1=${sig}`)).toMatchObject({ ok: false, reason: 'signature_mismatch' });
    // Extra t values do not help a forgery: each is checked with the same HMAC.
    expect(verify(`t=${NOW_S + 1},t=${NOW_S + 2},v1=${sig.replace(/^./, sig[0] === '0' ? '1' : '0')}`)).toMatchObject({
      ok: false,
      reason: 'signature_mismatch',
    });
  });

  it('verifies the exact bytes: re-serialised JSON with other white space fails', () => {
    const reserialised = JSON.stringify(JSON.parse(BODY), null, 2);
    expect(verify(good, { body: reserialised })).toMatchObject({ ok: false, reason: 'signature_mismatch' });
  });

  it('accepts a body given as bytes', () => {
    expect(verify(good, { body: Buffer.from(BODY) }).ok).toBe(true);
  });

  it('hashes bytes that are not UTF-8 as they are, never their U+FFFD text (no JSON FaceSign sends is not UTF-8)', () => {
    const bytes = Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    const asText = new TextDecoder().decode(bytes);
    expect(verify(`t=${NOW_S},v1=${hex(SECRET, NOW_S, bytes)}`, { body: bytes }).ok).toBe(true);
    // The reference would accept a signature over its U+FFFD text; such a body is refused (400) whatever its signature.
    expect(referenceVerifier(asText, `t=${NOW_S},v1=${hex(SECRET, NOW_S, asText)}`, SECRET)).toBe(true);
    expect(verify(`t=${NOW_S},v1=${hex(SECRET, NOW_S, asText)}`, { body: bytes })).toMatchObject({ reason: 'signature_mismatch' });
  });

  it('verifies a body starting with a byte order mark over the bytes without it, as req.text() reads it, and only so', () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(BODY)]);
    const asText = new TextDecoder().decode(bytes);
    expect(asText).toBe(BODY);
    // Signed over the BOM too: the reference refuses it (it never hashes a leading BOM), and so do we.
    expect(referenceVerifier(asText, `t=${NOW_S},v1=${hex(SECRET, NOW_S, bytes)}`, SECRET)).toBe(false);
    expect(verify(`t=${NOW_S},v1=${hex(SECRET, NOW_S, bytes)}`, { body: bytes })).toMatchObject({ reason: 'signature_mismatch' });
    expect(referenceVerifier(asText, `t=${NOW_S},v1=${hex(SECRET, NOW_S, BODY)}`, SECRET)).toBe(true);
    expect(verify(`t=${NOW_S},v1=${hex(SECRET, NOW_S, BODY)}`, { body: bytes }).ok).toBe(true);
    expect(verify(`t=${NOW_S},v1=${hex(SECRET, NOW_S, BODY)}`, { body: `\uFEFF${BODY}` }).ok).toBe(true);
    expect(verify(`t=${NOW_S},v1=${hex(OTHER, NOW_S, BODY)}`, { body: bytes })).toMatchObject({ reason: 'signature_mismatch' });
    // Only one leading BOM is dropped, as TextDecoder does.
    const twice = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes]);
    expect(verify(`t=${NOW_S},v1=${hex(SECRET, NOW_S, BODY)}`, { body: twice })).toMatchObject({ reason: 'signature_mismatch' });
  });

  describe('replay window: up to 7 days old by default, at most 1 hour ahead', () => {
    const at = (t: number) => `t=${t},v1=${hex(SECRET, t, BODY)}`;
    it.each([
      ['10 minutes', 600],
      ['6 hours', 6 * 3600],
      ['3 days', 3 * 86400],
      ['exactly 7 days', 7 * 86400],
    ])('accepts a signature made %s earlier, with its age', (_name, age) => {
      expect(verify(at(NOW_S - age))).toEqual({ ok: true, timestamp: NOW_S - age, ageSeconds: age, anomalies: [] });
    });

    it('refuses a signature older than the window, and more than 1 hour ahead, saying by how much', () => {
      expect(verify(at(NOW_S - 7 * 86400 - 1))).toMatchObject({
        ok: false,
        reason: 'timestamp_out_of_tolerance',
        message: /604801 seconds old; at most 604800/,
      });
      // A FaceSign clock running minutes fast loses nothing; the skew shows as a negative age.
      expect(verify(at(NOW_S + 600))).toMatchObject({ ok: true, ageSeconds: -600 });
      expect(verify(at(NOW_S + 3600))).toMatchObject({ ok: true, ageSeconds: -3600 });
      expect(verify(at(NOW_S + 3601))).toMatchObject({ ok: false, reason: 'timestamp_out_of_tolerance', message: /3601 seconds in the future; at most 3600/ });
    });

    it('applies a stricter tolerance when asked, and never lets the future limit exceed it', () => {
      expect(verify(at(NOW_S - 300), { tolerance: 300 }).ok).toBe(true);
      expect(verify(at(NOW_S - 301), { tolerance: 300 })).toMatchObject({ ok: false, reason: 'timestamp_out_of_tolerance' });
      expect(verify(at(NOW_S + 61), { tolerance: 60 })).toMatchObject({ ok: false, reason: 'timestamp_out_of_tolerance' });
    });

    it('uses the t the reference reads (the last), not a stray one', () => {
      expect(verify(`t=${NOW_S - 30 * 86400},t=${NOW_S - 60},v1=${hex(SECRET, NOW_S - 60, BODY)}`)).toMatchObject({ ok: true, ageSeconds: 60 });
      expect(verify(`t=${NOW_S},t=${NOW_S - 30 * 86400},v1=${hex(SECRET, NOW_S - 30 * 86400, BODY)}`)).toMatchObject({
        ok: false,
        reason: 'timestamp_out_of_tolerance',
      });
    });
  });

  it('reads a millisecond t as milliseconds and reports it as an anomaly', () => {
    const t = NOW_MS - 2000;
    expect(verify(`t=${t},v1=${hex(SECRET, t, BODY)}`)).toEqual({ ok: true, timestamp: NOW_S - 2, ageSeconds: 2, anomalies: ['t_milliseconds'] });
  });

  it('refuses a correctly signed t that is not a time as invalid_timestamp', () => {
    expect(verify(`t=yesterday,v1=${hex(SECRET, 'yesterday', BODY)}`)).toMatchObject({ ok: false, reason: 'invalid_timestamp' });
  });

  it('never refuses over X-FaceSign-Timestamp, which is not signed: it reports how it differs', () => {
    expect(verify(good, { timestampHeader: String(NOW_S) })).toMatchObject({ ok: true, anomalies: [] });
    expect(verify(good, { timestampHeader: ` ${NOW_S} ` })).toMatchObject({ ok: true, anomalies: [] });
    expect(verify(good, { timestampHeader: String(NOW_S - 1) })).toMatchObject({ ok: true, anomalies: ['timestamp_header_differs'] });
    expect(verify(good, { timestampHeader: String(NOW_MS + 417) })).toMatchObject({ ok: true, anomalies: ['timestamp_header_milliseconds'] });
    expect(verify(good, { timestampHeader: 'yesterday' })).toMatchObject({ ok: true, anomalies: ['timestamp_header_differs'] });
    expect(verify(`t=${NOW_S},v1=${'0'.repeat(64)}`, { timestampHeader: String(NOW_S - 1) })).toMatchObject({ ok: false, reason: 'signature_mismatch' });
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
    expect(text).not.toContain(sig);
  });

  it('refuses to run without a secret or with a non-positive tolerance', () => {
    expect(() => verifyFaceSignSignature(BODY, {}, [])).toThrow(/at least one non-empty signing secret/);
    expect(() => verifyFaceSignSignature(BODY, {}, [''])).toThrow(/non-empty/);
    expect(() => verifyFaceSignSignature(BODY, {}, [SECRET], { toleranceSeconds: 0 })).toThrow(/got 0/);
  });

  // What Express hands over when express.raw did not read the body (undefined) or express.json did (an object).
  it.each([
    ['undefined', undefined],
    ['null', null],
    ['an object', { id: 'evt_1' }],
    ['an array', [1, 2]],
    ['number', 42],
  ])('throws a TypeError naming what it got for a rawBody that is %s, with or without a signature header', (kind, body) => {
    const message = `rawBody must be the raw bytes (string or Uint8Array), got ${kind}; is a JSON body parser running first?`;
    const signed = signFaceSignPayload(BODY, SECRET, NOW_S);
    for (const headers of [signed.headers, {}]) {
      const call = () => verifyFaceSignSignature(body as never, headers, [SECRET], { nowMs: NOW_S * 1000 });
      expect(call).toThrow(TypeError);
      expect(call).toThrow(message);
    }
  });

  // A Buffer made in another realm (a vm context, Jest's environment) fails `instanceof Uint8Array`
  // here, but it is the signed bytes all the same and must verify.
  it('verifies a body whose bytes were made in another JavaScript realm', () => {
    const signed = signFaceSignPayload(BODY, SECRET, NOW_S);
    const foreign = runInNewContext('new Uint8Array(bytes)', { bytes: [...Buffer.from(BODY, 'utf8')] }) as Uint8Array;
    expect(foreign instanceof Uint8Array).toBe(false);
    expect(verifyFaceSignSignature(foreign, signed.headers, [SECRET], { nowMs: NOW_S * 1000 }).ok).toBe(true);
  });

  it('throws a TypeError saying an array is needed when secrets is not one, without showing it', () => {
    const signed = signFaceSignPayload(BODY, SECRET, NOW_S);
    const message = 'secrets must be an array of signing secrets (several during a rotation), got string';
    expect(() => verifyFaceSignSignature(BODY, signed.headers, SECRET as never)).toThrow(TypeError);
    expect(() => verifyFaceSignSignature(BODY, signed.headers, SECRET as never)).toThrow(message);
    expect(() => verifyFaceSignSignature(BODY, {}, SECRET as never)).toThrow(message);
    expect(() => verifyFaceSignSignature(BODY, signed.headers, undefined as never)).toThrow(/, got undefined$/);
  });

  it('still takes a string, a Buffer and a plain Uint8Array as the body', () => {
    const signed = signFaceSignPayload(BODY, SECRET, NOW_S);
    for (const body of [BODY, Buffer.from(BODY), new Uint8Array(Buffer.from(BODY))]) {
      expect(verifyFaceSignSignature(body, signed.headers, [SECRET], { nowMs: NOW_S * 1000 }).ok).toBe(true);
    }
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
