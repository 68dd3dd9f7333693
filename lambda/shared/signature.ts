/**
 * FaceSign webhook signatures: `X-FaceSign-Signature: t=<unix seconds>,v1=<hex>` where
 * `v1 = HMAC-SHA256(secret, "<t>.<raw body>")`.
 *
 * This one module is used by the verifier Lambda, the test-event sender and any Node app that
 * wants to check a FaceSign delivery itself. It does no I/O and never logs.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Header carrying `t=<timestamp>,v1=<hex>[,v1=<hex>...]`. */
export const SIGNATURE_HEADER = 'x-facesign-signature';
/** Header carrying the signing timestamp on its own; when present it must equal `t`. */
export const TIMESTAMP_HEADER = 'x-facesign-timestamp';
/** Default tolerance between `t` and our clock, in seconds, in both directions. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** Why a delivery's signature was refused. Each is a stable, documented error name. */
export type SignatureFailureReason =
  | 'missing_signature'
  | 'malformed_signature'
  | 'timestamp_mismatch'
  | 'signature_mismatch'
  | 'timestamp_out_of_tolerance';

/** The outcome of {@link verifyFaceSignSignature}. */
export type SignatureVerification =
  | { readonly ok: true; readonly timestamp: number }
  | { readonly ok: false; readonly reason: SignatureFailureReason; readonly message: string };

/** A parsed `X-FaceSign-Signature` header. */
export interface ParsedSignatureHeader {
  /** The `t` value, in Unix seconds. */
  readonly timestamp: number;
  /** The raw `t` value as sent, compared byte for byte with `X-FaceSign-Timestamp`. */
  readonly timestampText: string;
  /** Every `v1` signature, decoded from hex (32 bytes each). */
  readonly signatures: readonly Buffer[];
}

/** Options for {@link verifyFaceSignSignature}. */
export interface VerifyOptions {
  /**
   * Largest accepted distance between `t` and now, in seconds, in the past or the future.
   * @default 300
   */
  readonly toleranceSeconds?: number;
  /**
   * The current time in milliseconds since the epoch.
   * @default Date.now()
   */
  readonly nowMs?: number;
}

/** Headers as a plain object; names are matched case-insensitively. */
export type HeaderBag = Readonly<Record<string, string | string[] | undefined>>;

const MAX_HEADER_LENGTH = 8192;
const MAX_SIGNATURES = 16;
const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;
const DIGITS = /^[0-9]{1,15}$/;
const KEY = /^[A-Za-z0-9_-]+$/;

type ParseResult =
  | { ok: true; header: ParsedSignatureHeader }
  | { ok: false; reason: 'missing_signature' | 'malformed_signature'; message: string };

/**
 * Parses `t=<timestamp>,v1=<hex>[,v1=<hex>...]` strictly: every element must be `key=value`,
 * exactly one `t` of digits, at least one `v1` of 64 hex characters. Elements of other schemes
 * (`v0`, `v2`, ...) are ignored so that FaceSign can add a scheme without breaking receivers.
 */
export function parseSignatureHeader(value: string | undefined): ParseResult {
  if (value === undefined || value.trim() === '') {
    return { ok: false, reason: 'missing_signature', message: 'the X-FaceSign-Signature header is missing' };
  }
  if (value.length > MAX_HEADER_LENGTH) {
    return malformed(`the X-FaceSign-Signature header is ${value.length} characters long; at most ${MAX_HEADER_LENGTH} are accepted`);
  }
  let timestampText: string | undefined;
  const signatures: Buffer[] = [];
  for (const rawElement of value.split(',')) {
    const element = rawElement.trim();
    const eq = element.indexOf('=');
    if (eq <= 0 || eq === element.length - 1) {
      return malformed('the X-FaceSign-Signature header must be a comma-separated list of key=value elements');
    }
    const key = element.slice(0, eq);
    const val = element.slice(eq + 1);
    if (!KEY.test(key)) {
      return malformed('the X-FaceSign-Signature header has an element with an invalid key');
    }
    if (key === 't') {
      if (timestampText !== undefined) return malformed('the X-FaceSign-Signature header has more than one t element');
      if (!DIGITS.test(val)) return malformed('the t element of X-FaceSign-Signature must be a Unix timestamp in seconds');
      timestampText = val;
    } else if (key === 'v1') {
      if (!HEX_SHA256.test(val)) return malformed('a v1 element of X-FaceSign-Signature must be 64 hexadecimal characters');
      if (signatures.length === MAX_SIGNATURES) {
        return malformed(`the X-FaceSign-Signature header has more than ${MAX_SIGNATURES} v1 elements`);
      }
      signatures.push(Buffer.from(val, 'hex'));
    }
  }
  if (timestampText === undefined) return malformed('the X-FaceSign-Signature header has no t element');
  if (signatures.length === 0) return malformed('the X-FaceSign-Signature header has no v1 element');
  return { ok: true, header: { timestamp: Number(timestampText), timestampText, signatures } };
}

/** Computes the hex `v1` signature of a payload: HMAC-SHA256(secret, `<timestamp>.<rawBody>`). */
export function computeSignature(rawBody: string | Uint8Array, secret: string, timestamp: number | string): string {
  return hmac(rawBody, secret, String(timestamp)).toString('hex');
}

/**
 * Verifies a FaceSign delivery against the raw body bytes as received. Checks, in order:
 * the header is present and well formed; `X-FaceSign-Timestamp`, when sent, equals `t`; some `v1`
 * equals the HMAC under some active secret (constant-time); `t` is within the tolerance.
 * The signature is checked before the clock, as Stripe does, so that a wrong secret is
 * reported as a wrong signature rather than hidden behind a clock error.
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
    checkArguments(secrets, options);
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
  const tolerance = checkArguments(secrets, options);
  const { timestamp, timestampText, signatures } = header;
  if (timestampHeader !== undefined && timestampHeader.trim() !== timestampText) {
    return {
      ok: false,
      reason: 'timestamp_mismatch',
      message: 'the X-FaceSign-Timestamp header does not equal the t element of X-FaceSign-Signature',
    };
  }

  if (!secrets.some((secret) => matchesAny(hmac(rawBody, secret, timestampText), signatures))) {
    return {
      ok: false,
      reason: 'signature_mismatch',
      message: 'no v1 signature matches the HMAC-SHA256 of "<t>.<raw body>" under any active signing secret',
    };
  }

  const nowSeconds = (options.nowMs ?? Date.now()) / 1000;
  if (Math.abs(nowSeconds - timestamp) > tolerance) {
    return {
      ok: false,
      reason: 'timestamp_out_of_tolerance',
      message: `the signature timestamp is more than ${tolerance} seconds away from the current time`,
    };
  }
  return { ok: true, timestamp };
}

/** Refuses calls that could never verify anything; returns the tolerance in force. */
function checkArguments(secrets: readonly string[], options: VerifyOptions): number {
  if (secrets.length === 0 || secrets.some((s) => typeof s !== 'string' || s.length === 0)) {
    throw new TypeError('verifyFaceSignSignature needs at least one non-empty signing secret');
  }
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (!(tolerance > 0)) throw new RangeError(`toleranceSeconds must be greater than 0, got ${tolerance}`);
  return tolerance;
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
export function signFaceSignPayload(
  rawBody: string | Uint8Array,
  secret: string,
  timestamp: number = Math.floor(Date.now() / 1000),
): SignedPayload {
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
