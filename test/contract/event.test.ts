import { describe, expect, it } from 'vitest';
import { FACESIGN_EVENT_TYPES, MEDIA_EVENT_TYPES, isMediaEvent, parseFaceSignEvent } from '../../contract/event';
import { sampleEvent } from '../support/events';

const parse = (value: unknown) => parseFaceSignEvent(JSON.stringify(value));

describe('parseFaceSignEvent', () => {
  it.each(FACESIGN_EVENT_TYPES)('accepts the document example shape for %s', (type) => {
    const result = parse(sampleEvent(type));
    expect(result).toMatchObject({ ok: true, event: { type } });
  });

  it("accepts the exact examples from FaceSign's document", () => {
    const examples = [
      '{"id":"evt_12345","type":"session.status","createdAt":1761594651878,"sessionId":"3f0a4e1e-9c2b-4b6f-8d3a-2a8e1b7c4f01"}',
      '{"id":"evt_uphoto789","type":"media.user_photo","createdAt":1761595700000,"sessionId":"3f0a4e1e-9c2b-4b6f-8d3a-2a8e1b7c4f01","media":{"id":"m_uphoto1","createdAt":1761595700000,"url":"https://media.facesign.ai/m_uphoto1.jpg","expires":1761596600000,"contentType":"image/jpeg"}}',
    ];
    for (const body of examples) expect(parseFaceSignEvent(body).ok).toBe(true);
  });

  it('parses a body behind one leading byte order mark (the processor gets the raw text with it), and refuses two', () => {
    const text = JSON.stringify(sampleEvent('session.status'));
    expect(parseFaceSignEvent(`\uFEFF${text}`)).toMatchObject({ ok: true, event: { type: 'session.status' } });
    expect(parseFaceSignEvent(`\uFEFF\uFEFF${text}`)).toMatchObject({ ok: false, error: 'invalid_json' });
  });

  it('accepts an event type FaceSign has not documented yet', () => {
    expect(parse({ ...sampleEvent('session.status'), type: 'session.deleted' })).toMatchObject({ ok: true, event: { type: 'session.deleted' } });
  });

  it('accepts non-ASCII identifiers that are well formed', () => {
    expect(parse({ ...sampleEvent('session.status'), id: 'évt_🙂', sessionId: 'sesión' }).ok).toBe(true);
  });

  it('keeps unknown extra fields rather than rejecting them', () => {
    expect(parse({ ...sampleEvent('session.status'), extra: { a: 1 } }).ok).toBe(true);
  });

  it.each(['{', '', 'not json', '{"id":"a",}'])('reports %j as invalid_json', (body) => {
    expect(parseFaceSignEvent(body)).toEqual({ ok: false, error: 'invalid_json', message: 'the body is not valid JSON' });
  });

  it.each([
    ['an array', [], /JSON object/],
    ['null', null, /JSON object/],
    ['a string', 'x', /JSON object/],
    ['no id', { ...sampleEvent('session.status'), id: undefined }, /^id must be a non-empty string/],
    ['empty id', { ...sampleEvent('session.status'), id: '' }, /^id must be/],
    ['numeric id', { ...sampleEvent('session.status'), id: 5 }, /^id must be/],
    ['no type', { ...sampleEvent('session.status'), type: undefined }, /^type must be/],
    ['no sessionId', { ...sampleEvent('session.status'), sessionId: undefined }, /^sessionId must be/],
    ['createdAt as string', { ...sampleEvent('session.status'), createdAt: '1761595700000' }, /^createdAt must be/],
    ['negative createdAt', { ...sampleEvent('session.status'), createdAt: -1 }, /^createdAt must be/],
    ['id too long', { ...sampleEvent('session.status'), id: 'x'.repeat(257) }, /at most 256/],
    ['a control character in the id', { ...sampleEvent('session.status'), id: 'evt\u0001' }, /^id must not contain control characters/],
    ['an unpaired surrogate in sessionId', { ...sampleEvent('session.status'), sessionId: 'ses\ud800' }, /^sessionId must not contain/],
  ])('reports %s as invalid_envelope naming the field', (_name, value, message) => {
    const result = parse(value);
    expect(result).toMatchObject({ ok: false, error: 'invalid_envelope' });
    if (!result.ok) expect(result.message).toMatch(message);
  });

  describe.each(MEDIA_EVENT_TYPES)('%s', (type) => {
    const base = sampleEvent(type);
    const media = base.media as Record<string, unknown>;
    it.each([
      ['no media', { ...base, media: undefined }, /media is required/],
      ['media null', { ...base, media: null }, /media is required/],
      ['no media.id', { ...base, media: { ...media, id: undefined } }, /media\.id/],
      ['no media.url', { ...base, media: { ...media, url: '' } }, /media\.url/],
      ['no media.expires', { ...base, media: { ...media, expires: undefined } }, /media\.expires/],
      ['no media.createdAt', { ...base, media: { ...media, createdAt: 'now' } }, /media\.createdAt/],
      ['no media.contentType', { ...base, media: { ...media, contentType: 7 } }, /media\.contentType/],
    ])('refuses %s', (_name, value, message) => {
      const result = parse(value);
      expect(result).toMatchObject({ ok: false, error: 'invalid_envelope' });
      if (!result.ok) expect(result.message).toMatch(message);
    });
  });

  it('does not require media on non-media events', () => {
    expect(parse(sampleEvent('analysis.video')).ok).toBe(true);
  });

  it('narrows media events', () => {
    const result = parse(sampleEvent('media.user_video'));
    expect(result.ok && isMediaEvent(result.event)).toBe(true);
    const plain = parse(sampleEvent('settings.langs'));
    expect(plain.ok && isMediaEvent(plain.event)).toBe(false);
  });
});
