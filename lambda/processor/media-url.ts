/**
 * Which media URLs the processor may contact (the host policy) and when a URL dies (its expiry).
 */
import type { MediaPolicy } from '../shared/config';
import { redactUrl } from '../../contract/redact-url';
import { PermanentFailure } from './failures';

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Checks a media URL against the policy: `https` to an allowed host (`host`, `host:port` or
 * `*.domain`), or plain `http` to a loopback host when the local runtime allows it.
 * Returns the parsed URL, or throws a {@link PermanentFailure}.
 */
export function checkMediaUrl(url: string, policy: MediaPolicy, reason: 'media_host_not_allowed' | 'media_redirect_refused' = 'media_host_not_allowed'): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new PermanentFailure('media_url_invalid', 'the media URL is not a valid absolute URL');
  }
  if (parsed.username || parsed.password) {
    throw new PermanentFailure(reason, `the media URL ${redactUrl(url)} carries credentials`);
  }
  const isHttpLoopback = parsed.protocol === 'http:' && policy.allowHttpLoopback && isLoopback(parsed.hostname);
  if (parsed.protocol !== 'https:' && !isHttpLoopback) {
    throw new PermanentFailure(reason, `the media URL ${redactUrl(url)} is not https`);
  }
  if (!policy.allowedHosts.some((entry) => hostMatches(entry, parsed))) {
    throw new PermanentFailure(reason, `the media host ${parsed.host} is not in the allowed hosts (${policy.allowedHosts.join(', ')})`);
  }
  return parsed;
}

function isLoopback(hostname: string): boolean {
  return LOOPBACK.has(hostname) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

function hostMatches(entry: string, url: URL): boolean {
  const [entryHost, entryPort] = splitHostPort(entry);
  if ((entryPort ?? '') !== url.port) return false;
  const host = url.hostname.toLowerCase();
  if (entryHost.startsWith('*.')) return host.endsWith(entryHost.slice(1)) && host.length > entryHost.length - 1;
  return host === entryHost;
}

function splitHostPort(entry: string): [string, string | undefined] {
  const colon = entry.lastIndexOf(':');
  if (colon > 0 && !entry.endsWith(']') && /^\d+$/.test(entry.slice(colon + 1))) {
    return [entry.slice(0, colon).toLowerCase(), entry.slice(colon + 1)];
  }
  return [entry.toLowerCase(), undefined];
}

/**
 * `media.expires` below this is read as seconds, not milliseconds: 1e11 ms is March 1973, 1e11 s
 * is the year 5138, so no real expiry in either unit is misread.
 */
export const EXPIRES_SECONDS_BELOW = 1e11;

/**
 * When a media URL stops working, in epoch ms, from a body's `media.expires`: a value below
 * {@link EXPIRES_SECONDS_BELOW} is taken as seconds. Undefined when there is no usable value.
 * Advisory only: the download is always attempted at least once, and the host's 403/404/410 is
 * what decides that the URL is dead (our clock and FaceSign's may differ by seconds).
 */
export function mediaExpiresAt(expires: unknown): number | undefined {
  if (typeof expires !== 'number' || !Number.isFinite(expires) || expires <= 0) return undefined;
  return expires < EXPIRES_SECONDS_BELOW ? expires * 1000 : expires;
}

/** True when `media.expires` was given in seconds (an anomaly worth a log line). */
export function expiresLooksLikeSeconds(expires: unknown): boolean {
  return typeof expires === 'number' && Number.isFinite(expires) && expires > 0 && expires < EXPIRES_SECONDS_BELOW;
}
