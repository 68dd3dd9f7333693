/**
 * Signed URLs are bearer credentials: FaceSign's media URLs carry their signature in the query
 * string, and anyone holding the whole URL can download a person's selfie until it expires. Other
 * signers put the token elsewhere: in a path segment (`/token/<jwt>/file.jpg`), in `;` parameters
 * (`/file.jpg;sig=...`), in the fragment or in user info (`https://user:pass@host`). No rule can
 * tell a token in a path from a file name, so everything after the host goes: a URL leaves the
 * processor (logs, S3 metadata, dead-letter reasons, what is published to EventBridge) as its
 * scheme and host only, with {@link REDACTED_PATH} where anything followed. What the URL pointed
 * at is still known: the event's `media.id`, and the stored copy's bucket and key.
 * No imports: the construct may load this.
 */

/** What stands for everything after a URL's host: path, `;` parameters, query and fragment. */
export const REDACTED_PATH = '/[redacted]';

/** A URL reduced to its scheme and host (user info dropped), with {@link REDACTED_PATH} if anything followed the host. */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '<unparseable url>';
  }
  return redactParsed(parsed);
}

function redactParsed(parsed: URL): string {
  // A URL without an authority (mailto:, data:) is all path: nothing of it is kept.
  if (parsed.host === '') return `${parsed.protocol}${REDACTED_PATH}`;
  // The URL parser lets some characters into a host (`https://h;sig=...` has host `h;sig=...`): a
  // host name ends where a character no DNS name or IP address holds begins.
  const end = parsed.host.search(/[^a-z0-9.:_\-[\]]/i);
  const host = end < 0 ? parsed.host : parsed.host.slice(0, end);
  const rest = (end < 0 ? '' : parsed.host.slice(end)) + parsed.pathname + parsed.search + parsed.hash;
  return `${parsed.protocol}//${host}${rest === '' || rest === '/' ? rest : REDACTED_PATH}`;
}

// An absolute URL in free text, in every form the WHATWG URL parser (which fetch uses) accepts: a
// special scheme (http, https, ws, wss, ftp) followed by any run of `/` and `\` (none at all is
// valid: `https:host/p`), other schemes by `//`; the authority (to the first `/`, `?`, `#`, `;`,
// backslash, quote or white space), then the rest, which runs to a space whatever it holds: a quote
// or `<` inside a URL must not end it before its query (a JSON string's `\"`, an attacker's `'`).
// Tab, CR and LF do not end a URL either: the parser removes them, so `/a<LF>?sig=` is `/a?sig=`.
// Matching more than the URL costs at most a few characters of the text.
const URL_IN_TEXT = /\b((?:https?|wss?|ftp):[\t\n\r]*[\\/]*|[a-z][a-z0-9+.-]*:\/\/)((?:[^\s/?#;\\"'<>]|[\t\n\r])*)((?:\S|[\t\n\r])*)/gi;

function redactMatch(match: string, scheme: string, authority: string, rest: string): string {
  if (authority === '' && rest === '') return match;
  // User info (`user:password@`) is a credential too; the host is what follows the last `@`.
  const host = authority.slice(authority.lastIndexOf('@') + 1).replace(/[\t\n\r]/g, '');
  const name = /^[a-z][a-z0-9+.-]*/i.exec(scheme)![0];
  return `${name}://${host}${rest === '' || rest === '/' ? rest : REDACTED_PATH}`;
}

/** Schemes whose URLs have a host even when written without `//` (the WHATWG parser's special schemes). */
const SPECIAL_SCHEMES = new Set(['http:', 'https:', 'ws:', 'wss:', 'ftp:']);

/** The whole string as a URL with a host, as a fetch would read it (`media.url` in any form it accepts); else undefined. */
function wholeUrl(value: string): URL | undefined {
  if (!/^\s*[a-z][a-z0-9+.-]*:/i.test(value)) return undefined;
  try {
    const parsed = new URL(value);
    return parsed.host !== '' || SPECIAL_SCHEMES.has(parsed.protocol) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A copy of a JSON value in which every URL inside a string is reduced as {@link redactUrl} does,
 * wherever it sits: `media.url` of today's events (a string that is a URL is read as the URL parser
 * reads it, so no spelling it accepts keeps its path), a URL in an error message, and any URL a
 * future event type might carry. Everything else is unchanged.
 */
export function stripUrlQueries<T>(value: T): T {
  if (typeof value === 'string') {
    // A whole URL with anything after its host is read as the parser reads it; a bare origin (user
    // info aside, which the text rule drops) is left as written.
    const parsed = wholeUrl(value);
    const whole = parsed && redactParsed(parsed);
    return (whole?.endsWith(REDACTED_PATH) ? whole : value.replace(URL_IN_TEXT, redactMatch)) as T;
  }
  if (Array.isArray(value)) return value.map((item) => stripUrlQueries(item)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, stripUrlQueries(v)])) as T;
  }
  return value;
}

/**
 * True when a text holds a URL with anything after its host other than {@link REDACTED_PATH} (a
 * path, `;` parameters, a query, a fragment) or with user info: what must never be logged or
 * published. A JSON text is read as it is written, so a URL inside a JSON string ends where it does.
 */
export function containsUrlQuery(text: string): boolean {
  for (const [, , authority, rest] of text.matchAll(URL_IN_TEXT)) {
    if (authority.includes('@')) return true;
    // In JSON text a string ends at an unescaped quote: what follows it is no longer the URL.
    const urlRest = rest.replace(/(?<!\\)".*$/s, '');
    const afterMarker = urlRest.startsWith(REDACTED_PATH) ? urlRest.slice(REDACTED_PATH.length) : urlRest;
    // Left of a redacted URL: nothing, a lone `/`, or punctuation of the text around it.
    if (!/^\/?[,.:;)\]}\\]*$/.test(afterMarker)) return true;
  }
  return false;
}
