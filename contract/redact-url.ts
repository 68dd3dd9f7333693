/**
 * Signed URLs are bearer credentials: FaceSign's media URLs carry their signature in the query
 * string, and anyone holding the whole URL can download a person's selfie until it expires. These
 * functions keep the query (and fragment) from leaving the processor: not in logs, not in S3
 * metadata, not in what is published to EventBridge. No imports: the construct may load this.
 */

/** A URL without its query string and fragment. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return '<unparseable url>';
  }
}

// An absolute URL of any scheme, up to where whitespace or a quote ends it.
const URL_WITH_QUERY = /\b([a-z][a-z0-9+.-]*:\/\/[^\s"'<>?#]*)[?#][^\s"'<>]*/gi;

/**
 * A copy of a JSON value in which every URL inside a string has lost its query string and
 * fragment, wherever it sits: `media.url` of today's events, and any URL a future event type
 * might carry. Everything else is unchanged.
 */
export function stripUrlQueries<T>(value: T): T {
  if (typeof value === 'string') return value.replace(URL_WITH_QUERY, '$1') as T;
  if (Array.isArray(value)) return value.map((item) => stripUrlQueries(item)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, stripUrlQueries(v)])) as T;
  }
  return value;
}

/** True when a text holds a URL with a query string or fragment: what must never be logged or published. */
export function containsUrlQuery(text: string): boolean {
  URL_WITH_QUERY.lastIndex = 0;
  const found = URL_WITH_QUERY.test(text);
  URL_WITH_QUERY.lastIndex = 0;
  return found;
}
