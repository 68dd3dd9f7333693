import { describe, expect, it } from 'vitest';
import { BODY_ENCODING_ATTRIBUTE, decodeQueueBody, encodeQueueBody } from '../../../lambda/shared/queue-body';

const attrs = (encoding?: string) => (encoding === undefined ? {} : { [BODY_ENCODING_ATTRIBUTE]: { stringValue: encoding } });

describe('queue body encoding', () => {
  it.each([
    ['plain JSON', '{"id":"evt_1","note":"Zoë 🙂"}'],
    ['tab, LF and CR', '{\n\t"id": "evt_1"\r\n}'],
    ['a leading byte order mark', '\uFEFF{"id":"evt_1"}'],
    ['U+FFFD itself', '{"a":"\uFFFD"}'],
  ])('sends %s as it is', (_name, body) => {
    expect(encodeQueueBody(body)).toEqual({ messageBody: body });
    expect(decodeQueueBody(body, attrs())).toBe(body);
  });

  it.each([
    ['U+FFFE', '{"a":"\uFFFE"}'],
    ['U+FFFF', '{"a":"x\uFFFFy"}'],
    ['a control character', '{"a":"\u0001"}'],
    ['a lone surrogate', '{"a":"\uD800"}'],
  ])('base64-encodes a body with %s, and decodes it to the same UTF-8 bytes', (_name, body) => {
    const { messageBody, encoding } = encodeQueueBody(body);
    expect(encoding).toBe('base64');
    expect(messageBody).toBe(Buffer.from(body, 'utf8').toString('base64'));
    expect(Buffer.from(decodeQueueBody(messageBody, attrs(encoding)), 'utf8').equals(Buffer.from(body, 'utf8'))).toBe(true);
  });

  it('refuses an encoding it does not know rather than process the encoded text', () => {
    expect(() => decodeQueueBody('e30=', attrs('gzip'))).toThrow(/unknown bodyEncoding "gzip"/);
  });
});
