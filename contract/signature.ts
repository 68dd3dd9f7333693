/**
 * FaceSign webhook signatures: `X-FaceSign-Signature: t=<unix seconds>,v1=<hex>` where
 * `v1 = HMAC-SHA256(secret, "<t>.<raw body>")`.
 *
 * This one module is used by the verifier Lambda, the test-event sender and any Node app that
 * wants to check a FaceSign delivery itself. It does no I/O and never logs.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { isUint8Array } from 'node:util/types';
import { DEFAULT_IDEMPOTENCY_WINDOW_SECONDS } from './handler-settings';

/** Header carrying `t=<timestamp>,v1=<hex>[,v1=<hex>...]`. */
export const SIGNATURE_HEADER = 'x-facesign-signature';
/**
 * Header carrying the signing timestamp on its own. It is not covered by the HMAC, so it never
 * decides anything: a value that disagrees with `t` is reported as an anomaly, not refused.
 */
export const TIMESTAMP_HEADER = 'x-facesign-timestamp';
/**
 * Default oldest accepted signature, in seconds: 7 days, the default idempotency window (defined
 * once, in the settings table: see DEFAULT_IDEMPOTENCY_WINDOW_SECONDS for why).
 */
export const DEFAULT_TOLERANCE_SECONDS = DEFAULT_IDEMPOTENCY_WINDOW_SECONDS;
/**
 * Furthest in the future a signature may be, in seconds: 1 hour. This limit guards nothing
 * against replay (a replay is old, and only the holder of the secret can sign a future `t`); it
 * only refuses authentic deliveries when FaceSign's clock runs fast, and a refused one is lost
 * (docs/reference.md "A 4xx is never retried"). So it is wide: it tolerates any plausible clock skew and still refuses a `t` that is
 * plainly wrong (say, milliseconds read as seconds). The skew stays visible as a negative
 * SignatureAge.
 */
export const MAX_FUTURE_SECONDS = 3600;

/** Why a delivery's signature was refused. Each is a stable, documented error name. */
export type SignatureFailureReason = 'missing_signature' | 'malformed_signature' | 'signature_mismatch' | 'invalid_timestamp' | 'timestamp_out_of_tolerance';

/**
 * Timestamps that are not as FaceSign documents them but do not make a delivery less authentic:
 * - `timestamp_header_differs`: `X-FaceSign-Timestamp` is not the signed `t`;
 * - `timestamp_header_milliseconds`: `X-FaceSign-Timestamp` is `t` in milliseconds;
 * - `t_milliseconds`: the signed `t` itself is in milliseconds.
 */
export type TimestampAnomaly = 'timestamp_header_differs' | 'timestamp_header_milliseconds' | 't_milliseconds';

/** The outcome of {@link verifyFaceSignSignature}. */
export type SignatureVerification =
  | {
      readonly ok: true;
      /** The verified `t`, in Unix seconds (a millisecond `t` is converted). */
      readonly timestamp: number;
      /** Seconds from `t` to now; negative when `t` is ahead of our clock. */
      readonly ageSeconds: number;
      /** What was odd about the timestamps; never a reason to refuse. */
      readonly anomalies: readonly TimestampAnomaly[];
    }
  | { readonly ok: false; readonly reason: SignatureFailureReason; readonly message: string };

/** A parsed `X-FaceSign-Signature` header. */
export interface ParsedSignatureHeader {
  /**
   * The one `t` the HMAC is checked with, as sent (the HMAC covers the text, not the number): the
   * `t` FaceSign's reference verifier reads, or, when it reads none, the last `t` a lenient
   * reading finds. One `t` whatever the header holds, so a forgery costs one HMAC per secret.
   */
  readonly timestamp: string;
  /** Every usable `v1` signature, decoded from hex (32 bytes each). Comparing one costs no HMAC. */
  readonly signatures: readonly Buffer[];
}

/** Options for {@link verifyFaceSignSignature}. */
export interface VerifyOptions {
  /**
   * Oldest accepted signature: largest distance of `t` into the past, in seconds. Keep it no
   * longer than the time you remember event ids for, so that a replay is always a duplicate.
   * @default 604800 (7 days)
   */
  readonly toleranceSeconds?: number;
  /**
   * Largest distance of `t` into the future, in seconds; never more than `toleranceSeconds`.
   * @default 3600 (1 hour; see MAX_FUTURE_SECONDS)
   */
  readonly maxFutureSeconds?: number;
  /**
   * The current time in milliseconds since the epoch.
   * @default Date.now()
   */
  readonly nowMs?: number;
}

/** Headers as a plain object; names are matched case-insensitively. */
export type HeaderBag = Readonly<Record<string, string | string[] | undefined>>;

/**
 * API Gateway's own limit on the request line and header values together (HTTP API: 10,240 bytes;
 * REST API: 10,240 bytes of header values), so no header that reaches the verifier is refused for
 * its length; the cap only bounds the work on a request that did not come through API Gateway.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html
 */
const MAX_HEADER_LENGTH = 10_240;
const SHA256_BYTES = 32;
// Unix seconds, optionally with a fraction; at or above 1e11 it can only be milliseconds (year 5138 in seconds).
const NUMERIC_TIMESTAMP = /^[0-9]{1,16}(\.[0-9]{1,9})?$/;
const MILLISECONDS_FROM = 1e11;
const BOM = '\uFEFF';

type ParseResult = { ok: true; header: ParsedSignatureHeader } | { ok: false; reason: 'missing_signature' | 'malformed_signature'; message: string };

/**
 * Parses `t=<timestamp>,v1=<hex>[,v1=<hex>...]` at least as leniently as FaceSign's reference
 * verifier (`Object.fromEntries(header.split(',').map(p => p.split('=')))`, then
 * `Buffer.from(v1, 'hex')`), because the HMAC, not the formatting, decides authenticity:
 * - `t` is the one the reference reads: the value of the last element whose key is exactly `t`
 *   (a value ends at a second `=`, as in the reference). Only when that is missing or empty (the
 *   reference then refuses everything) is the last `t` of a lenient reading taken instead: keys
 *   trimmed and in any case, the value trimmed. Never more than one `t`: each `t` costs an HMAC
 *   over the whole body, and the reference could never accept under any other.
 * - every `v1` is kept that decodes to 32 bytes the way `Buffer.from(v, 'hex')` decodes (upper
 *   case, trailing junk after 64 hex digits, an odd last digit), under a key read leniently, so
 *   the reference's `v1` (the last) is always among them; any number, since comparing costs no HMAC.
 * - elements other than `t` and `v1` are ignored: flags without `=`, other schemes, empty elements.
 * Only a header without a `t` or a usable `v1`, or longer than API Gateway lets through, is malformed.
 */
export function parseSignatureHeader(value: string | undefined): ParseResult {
  if (value === undefined || value.trim() === '') {
    return { ok: false, reason: 'missing_signature', message: 'the X-FaceSign-Signature header is missing' };
  }
  if (value.length > MAX_HEADER_LENGTH) {
    return malformed(`the X-FaceSign-Signature header is ${value.length} characters long; at most ${MAX_HEADER_LENGTH} are accepted`);
  }
  let referenceT: string | undefined;
  let lenientT: string | undefined;
  const signatures: Buffer[] = [];
  for (const element of value.split(',')) {
    const [rawKey, rawValue] = element.split('=');
    if (rawKey === 't') referenceT = rawValue; // as Object.fromEntries does: the last wins, even when it has no value
    if (rawValue === undefined) continue;
    const key = rawKey.trim().toLowerCase();
    if (key === 't') {
      if (rawValue.trim() !== '') lenientT = rawValue.trim();
    } else if (key === 'v1') {
      const bytes = Buffer.from(rawValue.trim(), 'hex');
      if (bytes.length >= SHA256_BYTES) signatures.push(bytes.subarray(0, SHA256_BYTES));
    }
  }
  // The reference's `if (!parts.t)`: an empty or missing value is no t.
  const timestamp = referenceT || lenientT;
  if (timestamp === undefined) return malformed('the X-FaceSign-Signature header has no t element with a value');
  if (signatures.length === 0) {
    return malformed('the X-FaceSign-Signature header has no v1 element holding a 64-hexadecimal-character signature');
  }
  return { ok: true, header: { timestamp, signatures } };
}

/** Computes the hex `v1` signature of a payload: HMAC-SHA256(secret, `<timestamp>.<rawBody>`). */
export function computeSignature(rawBody: string | Uint8Array, secret: string, timestamp: number | string): string {
  return hmac(rawBody, secret, String(timestamp)).toString('hex');
}

/**
 * Verifies a FaceSign delivery against the raw body bytes as received (one leading byte order mark
 * aside: see {@link signedContent}): the header is present and has a `t` and a `v1`; some `v1`
 * equals the HMAC over the header's `t` (see {@link parseSignatureHeader}) under some active
 * secret (constant-time); that `t` is a time at most `toleranceSeconds` old and at most
 * `maxFutureSeconds` ahead. `X-FaceSign-Timestamp` is not signed and never refuses a delivery;
 * when it disagrees with `t`, the result lists an anomaly. The signature is checked before the
 * clock, as Stripe does, so that a wrong secret is reported as a wrong signature rather than
 * hidden behind a clock error.
 *
 * @param rawBody the exact bytes received; never a re-serialised object
 * @param headers the request headers, any case
 * @param secrets every active signing secret (more than one during a rotation)
 */
export function verifyFaceSignSignature(
  rawBody: string | Uint8Array,
  headers: HeaderBag,
  secrets: readonly string[],
  options: VerifyOptions = {},
): SignatureVerification {
  const parsed = parseSignatureHeader(getHeader(headers, SIGNATURE_HEADER));
  if (!parsed.ok) {
    checkArguments(rawBody, secrets, options);
    return parsed;
  }
  return verifyParsedSignature(rawBody, parsed.header, getHeader(headers, TIMESTAMP_HEADER), secrets, options);
}

/**
 * The checks of {@link verifyFaceSignSignature} after the header has been parsed, for a caller
 * that parsed it already (the verifier refuses a bad header before reading the secret).
 */
export function verifyParsedSignature(
  rawBody: string | Uint8Array,
  header: ParsedSignatureHeader,
  timestampHeader: string | undefined,
  secrets: readonly string[],
  options: VerifyOptions = {},
): SignatureVerification {
  const { maxAgeSeconds, maxFutureSeconds } = checkArguments(rawBody, secrets, options);
  if (!signedUnderAnySecret(signedContent(rawBody), header, secrets)) {
    return {
      ok: false,
      reason: 'signature_mismatch',
      message: 'no v1 signature matches the HMAC-SHA256 of "<t>.<raw body>" under any active signing secret',
    };
  }

  const nowSeconds = (options.nowMs ?? Date.now()) / 1000;
  const time = readTimestamp(header.timestamp);
  if (time === undefined) {
    return {
      ok: false,
      reason: 'invalid_timestamp',
      message: "the signed t element is not a Unix timestamp, so the signature's age cannot be checked",
    };
  }
  const ageSeconds = nowSeconds - time.seconds;
  if (ageSeconds > maxAgeSeconds || -ageSeconds > maxFutureSeconds) {
    const age = Math.round(ageSeconds);
    return {
      ok: false,
      reason: 'timestamp_out_of_tolerance',
      message:
        age >= 0
          ? `the signature is ${age} seconds old; at most ${maxAgeSeconds} are accepted`
          : `the signature is ${-age} seconds in the future; at most ${maxFutureSeconds} are accepted`,
    };
  }
  const anomalies: TimestampAnomaly[] = time.milliseconds ? ['t_milliseconds'] : [];
  const headerAnomaly = timestampHeaderAnomaly(timestampHeader, header.timestamp, time.seconds);
  if (headerAnomaly) anomalies.push(headerAnomaly);
  return { ok: true, timestamp: time.seconds, ageSeconds, anomalies };
}

/**
 * The body as FaceSign signed it: the bytes received without one leading byte order mark. The
 * reference verifier reads the body with `req.text()`, whose UTF-8 decoder drops one leading BOM
 * before the HMAC (https://encoding.spec.whatwg.org/#utf-8-decode), so a BOM is never part of
 * what it accepts as signed; a captured delivery with a BOM prepended is the same signed bytes.
 * Bytes that are not UTF-8 are hashed as they are: the reference would hash its U+FFFD
 * replacement text instead (up to 3 times the bytes, at a cost a forger chooses), but such a body
 * is never FaceSign's JSON (RFC 8259 section 8.1: JSON exchanged between systems is UTF-8) and is
 * refused whatever its signature.
 */
export function signedContent<T extends string | Uint8Array>(rawBody: T): T {
  if (typeof rawBody === 'string') return (rawBody.startsWith(BOM) ? rawBody.slice(1) : rawBody) as T;
  const bytes = rawBody as Uint8Array;
  return (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes) as T;
}

/**
 * True when some `v1` equals the HMAC over the header's one `t` under some secret: one HMAC of the
 * body per secret, whatever the header holds. Every secret and every `v1` is compared, in constant
 * time, so the time taken does not say which matched.
 */
function signedUnderAnySecret(content: string | Uint8Array, header: ParsedSignatureHeader, secrets: readonly string[]): boolean {
  let matched = false;
  for (const secret of secrets) {
    if (matchesAny(hmac(content, secret, header.timestamp), header.signatures)) matched = true;
  }
  return matched;
}

/** Reads `t` as Unix seconds, or milliseconds when it can only be milliseconds. */
function readTimestamp(text: string): { seconds: number; milliseconds: boolean } | undefined {
  const trimmed = text.trim();
  if (!NUMERIC_TIMESTAMP.test(trimmed)) return undefined;
  const value = Number(trimmed);
  return value >= MILLISECONDS_FROM ? { seconds: value / 1000, milliseconds: true } : { seconds: value, milliseconds: false };
}

function timestampHeaderAnomaly(value: string | undefined, signedText: string, signedSeconds: number): TimestampAnomaly | undefined {
  if (value === undefined) return undefined;
  const sent = value.trim();
  if (sent === signedText.trim()) return undefined;
  if (/^[0-9]{1,16}$/.test(sent) && Number(sent) >= MILLISECONDS_FROM && Math.floor(Number(sent) / 1000) === Math.floor(signedSeconds)) {
    return 'timestamp_header_milliseconds';
  }
  return 'timestamp_header_differs';
}

/**
 * Refuses calls that could never verify anything, with a TypeError that says what was passed
 * (callers in plain JavaScript, or a framework that parsed the body first); returns the limits in force.
 */
function checkArguments(rawBody: unknown, secrets: readonly string[], options: VerifyOptions): { maxAgeSeconds: number; maxFutureSeconds: number } {
  // isUint8Array, not instanceof: a Buffer made in another realm (a vm context, Jest) is still bytes.
  if (typeof rawBody !== 'string' && !isUint8Array(rawBody)) {
    throw new TypeError(`rawBody must be the raw bytes (string or Uint8Array), got ${describeValue(rawBody)}; is a JSON body parser running first?`);
  }
  if (!Array.isArray(secrets)) {
    throw new TypeError(`secrets must be an array of signing secrets (several during a rotation), got ${describeValue(secrets)}`);
  }
  if (secrets.length === 0 || secrets.some((s) => typeof s !== 'string' || s.length === 0)) {
    throw new TypeError('verifyFaceSignSignature needs at least one non-empty signing secret');
  }
  const maxAgeSeconds = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (!(maxAgeSeconds > 0)) throw new RangeError(`toleranceSeconds must be greater than 0, got ${maxAgeSeconds}`);
  const future = options.maxFutureSeconds ?? MAX_FUTURE_SECONDS;
  if (!(future >= 0)) throw new RangeError(`maxFutureSeconds must be 0 or more, got ${future}`);
  return { maxAgeSeconds, maxFutureSeconds: Math.min(future, maxAgeSeconds) };
}

/** A value's kind for an error message, never its content (it may be a body or a secret). */
function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : typeof value;
}

/** What {@link signFaceSignPayload} returns: the two headers FaceSign sends. */
export interface SignedPayload {
  readonly timestamp: number;
  readonly signature: string;
  readonly headers: { readonly 'X-FaceSign-Timestamp': string; readonly 'X-FaceSign-Signature': string };
}

/**
 * Signs a payload exactly as FaceSign does. For tests, local development and the event sender.
 * @param timestamp Unix seconds; defaults to now
 */
export function signFaceSignPayload(rawBody: string | Uint8Array, secret: string, timestamp: number = Math.floor(Date.now() / 1000)): SignedPayload {
  const signature = `t=${timestamp},v1=${computeSignature(rawBody, secret, timestamp)}`;
  return {
    timestamp,
    signature,
    headers: { 'X-FaceSign-Timestamp': String(timestamp), 'X-FaceSign-Signature': signature },
  };
}

/** Looks a header up by case-insensitive name; a repeated header is joined with commas, as HTTP does. */
export function getHeader(headers: HeaderBag, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === wanted && value !== undefined) {
      return Array.isArray(value) ? value.join(',') : value;
    }
  }
  return undefined;
}

function hmac(rawBody: string | Uint8Array, secret: string, timestampText: string): Buffer {
  const mac = createHmac('sha256', secret);
  mac.update(`${timestampText}.`, 'utf8');
  if (typeof rawBody === 'string') mac.update(rawBody, 'utf8');
  else mac.update(rawBody);
  return mac.digest();
}

function matchesAny(expected: Buffer, candidates: readonly Buffer[]): boolean {
  let matched = false;
  // Compare against every candidate so the time taken does not depend on which one matched.
  for (const candidate of candidates) {
    if (timingSafeEqual(expected, candidate)) matched = true;
  }
  return matched;
}

function malformed(message: string): ParseResult {
  return { ok: false, reason: 'malformed_signature', message };
}
