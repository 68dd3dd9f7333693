import { describe, expect, it } from 'vitest';
import { containsUrlQuery, REDACTED_PATH, redactUrl, stripUrlQueries } from '../../contract/redact-url';

const TOKEN = 'SECRETTOKEN123';

/** URLs whose credential hides where a query-only redaction misses it. */
const HOSTILE: ReadonlyArray<readonly [string, string]> = [
  ["a ' before the ?", `https://media.facesign.ai/m'1.jpg?X-Amz-Signature=${TOKEN}`],
  ['a " before the ?', `https://media.facesign.ai/m"1.jpg?X-Amz-Signature=${TOKEN}`],
  ['a < before the ?', `https://media.facesign.ai/m<1.jpg?sig=${TOKEN}`],
  ['a backslash before the ?', `https://media.facesign.ai/m\\1.jpg?sig=${TOKEN}`],
  ['a token in the path', `https://media.facesign.ai/token/${TOKEN}/m_1.jpg`],
  ['a token in ; parameters', `https://media.facesign.ai/m_1.jpg;sig=${TOKEN}`],
  ['a token in a ; parameter of a middle segment', `https://media.facesign.ai/a;jsessionid=${TOKEN}/m_1.jpg`],
  ['a token in the fragment', `https://media.facesign.ai/m_1.jpg#access_token=${TOKEN}`],
  ['a token in user info', `https://u:${TOKEN}@media.facesign.ai/m_1.jpg`],
  ['a ; right after the host', `https://media.facesign.ai;sig=${TOKEN}`],
  ['an upper-case scheme', `HTTPS://media.facesign.ai/m_1.jpg?sig=${TOKEN}`],
  // Spellings the WHATWG URL parser (and so fetch) accepts for the same URL.
  ['a backslash for a slash after the scheme', `https:/\\media.facesign.ai/m_1.jpg?sig=${TOKEN}`],
  ['backslashes for both slashes', `https:\\\\media.facesign.ai/m_1.jpg?sig=${TOKEN}`],
  ['no slashes after the scheme', `https:media.facesign.ai/m_1.jpg?sig=${TOKEN}`],
  ['a line feed before the ?', `https://media.facesign.ai/m_1.jpg\n?sig=${TOKEN}`],
  ['a tab before the ?', `https://media.facesign.ai/m_1.jpg\t?sig=${TOKEN}`],
  ['a carriage return in the host', `https://media.face\rsign.ai/m_1.jpg?sig=${TOKEN}`],
];

describe('redactUrl', () => {
  it.each(HOSTILE)('keeps only the scheme and host: %s', (_name, url) => {
    const redacted = redactUrl(url);
    expect(redacted).not.toContain(TOKEN);
    expect(redacted).toMatch(/^https:\/\/media\.facesign\.ai(\/\[redacted\])?$/);
  });

  it('keeps a bare origin as it is, and refuses to echo what it cannot parse', () => {
    expect(redactUrl('https://media.facesign.ai')).toBe('https://media.facesign.ai/');
    expect(redactUrl('https://media.facesign.ai/')).toBe('https://media.facesign.ai/');
    expect(redactUrl(`not a url ${TOKEN}`)).toBe('<unparseable url>');
  });
});

describe('stripUrlQueries', () => {
  it.each(HOSTILE)('leaves no token in a string value, alone or inside a message: %s', (_name, url) => {
    const value = { url, message: `could not fetch ${url} (404)`, list: [url] };
    const stripped = stripUrlQueries(value);
    expect(JSON.stringify(stripped)).not.toContain(TOKEN);
    expect(stripped.url).toMatch(/^https:\/\/media\.facesign\.ai\/\[redacted\]$/i);
    expect(stripped.message).toMatch(/^could not fetch https:\/\/media\.facesign\.ai\/\[redacted\] \(404\)$/i);
    expect(containsUrlQuery(JSON.stringify(value))).toBe(true);
    expect(containsUrlQuery(JSON.stringify(stripped))).toBe(false);
  });

  it('changes nothing that is not a URL', () => {
    const value = { a: 'no url? fine', n: 3, z: null, b: true, t: 'https:// alone', h: 'https://media.facesign.ai' };
    expect(stripUrlQueries(value)).toEqual(value);
  });
});

describe('containsUrlQuery', () => {
  it('finds an unredacted URL in JSON text and in plain text, and passes redacted ones with their punctuation', () => {
    expect(containsUrlQuery(`{"u":"https://h/p","v":1}`)).toBe(true);
    expect(containsUrlQuery(`{"u":"https://h${REDACTED_PATH}","v":1}`)).toBe(false);
    expect(containsUrlQuery(`fetched https://h${REDACTED_PATH}: 404`)).toBe(false);
    expect(containsUrlQuery(`fetched https://h${REDACTED_PATH}x: 404`)).toBe(true);
    expect(containsUrlQuery('{"u":"https://h/"}')).toBe(false);
  });
});
