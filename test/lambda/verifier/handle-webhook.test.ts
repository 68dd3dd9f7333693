import { describe, expect, it, vi } from 'vitest';
import { FACESIGN_EVENT_TYPES } from '../../../contract/event';
import { computeSignature, signFaceSignPayload } from '../../../contract/signature';
import { handleWebhook, type VerifiedEvent, type VerifierDependencies, type WebhookRequest } from '../../../lambda/verifier/handle-webhook';
import { SigningSecretNotConfiguredError, SigningSecretUnavailableError } from '../../../lambda/verifier/signing-secrets';
import { sampleEvent } from '../../support/events';
import { recordingMetrics, silentLogger } from '../../support/observability';

const SECRET = 'whsec_contract';
const NOW_MS = 1_761_595_700_000;

function harness(overrides: Partial<VerifierDependencies> = {}) {
  const queued: VerifiedEvent[] = [];
  const recorded = recordingMetrics();
  const deps: VerifierDependencies = {
    metrics: recorded.metrics,
    secrets: { get: vi.fn(async () => [SECRET]), refreshAfterMismatch: vi.fn(async () => undefined) },
    enqueue: vi.fn(async (event: VerifiedEvent) => {
      queued.push(event);
    }),
    logger: silentLogger(),
    toleranceSeconds: 7 * 24 * 3600,
    maxBodyBytes: 256 * 1024,
    now: () => NOW_MS,
    ...overrides,
  };
  return { deps, queued, recorded };
}

function signedRequest(body: string, opts: { secret?: string; t?: number; headers?: Record<string, string>; base64?: boolean } = {}): WebhookRequest {
  const signed = signFaceSignPayload(body, opts.secret ?? SECRET, opts.t ?? NOW_MS / 1000);
  return {
    headers: { 'content-type': 'application/json', ...lower(signed.headers), ...opts.headers },
    body: opts.base64 ? Buffer.from(body).toString('base64') : body,
    isBase64Encoded: opts.base64 ?? false,
  };
}

function lower(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

describe('handleWebhook: the answers FaceSign gets', () => {
  it.each(FACESIGN_EVENT_TYPES)('200 {"received":true} for a signed %s, queued with the exact body', async (type) => {
    const body = JSON.stringify(sampleEvent(type));
    const { deps, queued } = harness();
    const response = await handleWebhook(signedRequest(body), deps);
    expect(response).toEqual({ statusCode: 200, body: { received: true } });
    expect(queued).toHaveLength(1);
    expect(queued[0].rawBody).toBe(body);
    expect(queued[0].event).toMatchObject({ type });
  });

  it('200 and queued for an event type it does not know', async () => {
    const body = JSON.stringify({ ...sampleEvent('session.status'), type: 'session.archived' });
    const { deps, queued } = harness();
    expect((await handleWebhook(signedRequest(body), deps)).statusCode).toBe(200);
    expect(queued[0].event?.type).toBe('session.archived');
  });

  it('verifies and queues the decoded bytes of a base64 body', async () => {
    const body = JSON.stringify({ ...sampleEvent('session.status'), note: 'Zoë 🙂' });
    const { deps, queued } = harness();
    expect((await handleWebhook(signedRequest(body, { base64: true }), deps)).statusCode).toBe(200);
    expect(queued[0].rawBody).toBe(body);
  });

  it('accepts a signature up to 1 hour ahead (a fast FaceSign clock), publishing the negative SignatureAge', async () => {
    const body = JSON.stringify(sampleEvent('session.status'));
    const { deps, queued, recorded } = harness();
    expect((await handleWebhook(signedRequest(body, { t: NOW_MS / 1000 + 3600 }), deps)).statusCode).toBe(200);
    expect(queued).toHaveLength(1);
    expect(recorded.records.find((r) => r.name === 'SignatureAge')).toMatchObject({ unit: 'Seconds', value: -3600 });
  });

  describe('a body starting with a UTF-8 byte order mark', () => {
    const event = sampleEvent('session.status');
    const text = JSON.stringify(event);
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]);
    const request = (signedOver: string | Buffer): WebhookRequest => ({
      headers: lower(signFaceSignPayload(signedOver, SECRET, NOW_MS / 1000).headers),
      body: bytes.toString('base64'),
      isBase64Encoded: true,
    });

    it('signed over the text without the BOM (what the reference verifies after req.text()): 200, queued as signed, without the BOM', async () => {
      const { deps, queued } = harness();
      expect(await handleWebhook(request(text), deps)).toEqual({ statusCode: 200, body: { received: true } });
      expect(queued).toHaveLength(1);
      expect(queued[0].rawBody).toBe(text);
      expect(queued[0].event).toMatchObject({ id: event.id, type: event.type });
    });

    it('signed over the BOM too: 401, as the reference refuses it (it never hashes a leading BOM)', async () => {
      const { deps, queued } = harness();
      expect(await handleWebhook(request(bytes), deps)).toMatchObject({ statusCode: 401, body: { error: 'signature_mismatch' } });
      expect(queued).toHaveLength(0);
    });

    it('a captured delivery replayed with a BOM prepended queues the very body it was: a duplicate, not a new event', async () => {
      const odd = JSON.stringify({ id: 'evt_bom', type: 'session.status', sessionId: 'ses_bom', createdAt: 'yesterday' });
      const original = signedRequest(odd);
      const replayed = { ...original, body: `\uFEFF${original.body}` };
      const { deps, queued } = harness();
      expect((await handleWebhook(original, deps)).statusCode).toBe(200);
      expect((await handleWebhook(replayed, deps)).statusCode).toBe(200);
      expect(queued).toHaveLength(2);
      expect(queued[1]).toEqual(queued[0]);
      expect(queued[1]).toMatchObject({ rawBody: odd, unrecognized: { ids: { id: 'evt_bom', sessionId: 'ses_bom' } } });
    });

    it('only one BOM is not signed: a second one is signed text, and queued as signed', async () => {
      const { deps, queued } = harness();
      const twice = { ...request(`\uFEFF${text}`), body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes]).toString('base64') };
      expect((await handleWebhook(twice, deps)).statusCode).toBe(200);
      expect(queued[0].rawBody).toBe(`\uFEFF${text}`);
    });
  });

  it("queues an authentic body with raw U+FFFE and U+FFFF byte for byte (SQS-safety is the queue's business)", async () => {
    const body = JSON.stringify({ ...sampleEvent('session.status'), note: 'a\uFFFEb\uFFFF' });
    const { deps, queued } = harness();
    expect((await handleWebhook(signedRequest(body, { base64: true }), deps)).statusCode).toBe(200);
    expect(queued[0].rawBody).toBe(body);
  });

  it('queues pretty-printed JSON byte for byte', async () => {
    const body = JSON.stringify(sampleEvent('session.status'), null, 2);
    const { deps, queued } = harness();
    expect((await handleWebhook(signedRequest(body), deps)).statusCode).toBe(200);
    expect(queued[0].rawBody).toBe(body);
  });

  describe('401, nothing queued', () => {
    const body = JSON.stringify(sampleEvent('session.status'));
    it.each([
      ['missing_signature', (r: WebhookRequest) => ({ ...r, headers: { 'content-type': 'application/json' } })],
      ['malformed_signature', (r: WebhookRequest) => ({ ...r, headers: { ...r.headers, 'x-facesign-signature': 'v1=abc' } })],
      ['signature_mismatch', () => signedRequest(body, { secret: 'whsec_wrong' })],
      ['signature_mismatch', (r: WebhookRequest) => ({ ...r, body: body.replace('evt', 'EVT') })],
      ['timestamp_out_of_tolerance', () => signedRequest(body, { t: NOW_MS / 1000 - 7 * 86400 - 1 })],
      ['timestamp_out_of_tolerance', () => signedRequest(body, { t: NOW_MS / 1000 + 3601 })],
      ['invalid_timestamp', () => ({ ...signedRequest(body), headers: { 'x-facesign-signature': `t=soon,v1=${computeSignature(body, SECRET, 'soon')}` } })],
      ['signature_mismatch', (r: WebhookRequest) => ({ ...r, body: `${body} ` })],
      [
        'signature_mismatch',
        (r: WebhookRequest) => ({
          ...r,
          headers: { ...r.headers, 'x-facesign-signature': `t=${NOW_MS / 1000 - 1},${String(r.headers['x-facesign-signature']).split(',')[1]}` },
        }),
      ],
    ] as const)('%s', async (error, mutate) => {
      const { deps, queued } = harness();
      const response = await handleWebhook(mutate(signedRequest(body)), deps);
      expect(response.statusCode).toBe(401);
      expect(response.body).toMatchObject({ error });
      expect(queued).toHaveLength(0);
    });

    it.each([
      ['timestamp_out_of_tolerance', () => signedRequest(body, { t: NOW_MS / 1000 - 7 * 86400 - 1 })],
      ['timestamp_out_of_tolerance', () => signedRequest(body, { t: NOW_MS / 1000 + 3601 })],
      ['invalid_timestamp', () => ({ ...signedRequest(body), headers: { 'x-facesign-signature': `t=soon,v1=${computeSignature(body, SECRET, 'soon')}` } })],
    ] as const)('%s after an HMAC matched is an authentic refusal: RequestsRejected (pages), not SignatureFailures', async (error, request) => {
      const { deps, recorded } = harness();
      expect(await handleWebhook(request(), deps)).toMatchObject({ statusCode: 401, body: { error } });
      expect(recorded.count('RequestsRejected', { Reason: error })).toBe(1);
      expect(recorded.count('SignatureFailures')).toBe(0);
    });

    it('a 401 where no v1 matched stays a SignatureFailure', async () => {
      const { deps, recorded } = harness();
      await handleWebhook(signedRequest(body, { secret: 'whsec_wrong', t: NOW_MS / 1000 + 7200 }), deps);
      expect(recorded.count('SignatureFailures', { Reason: 'signature_mismatch' })).toBe(1);
      expect(recorded.count('RequestsRejected')).toBe(0);
    });

    it('never echoes the secret or the expected signature', async () => {
      const { deps } = harness();
      const request = signedRequest(body, { secret: 'whsec_wrong' });
      const text = JSON.stringify(await handleWebhook(request, deps));
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(signFaceSignPayload(body, SECRET, NOW_MS / 1000).signature.split('v1=')[1]);
    });
  });

  it('accepts a signature made with a secret rotated in since the cache was filled', async () => {
    const body = JSON.stringify(sampleEvent('session.status'));
    const { deps, queued } = harness({
      secrets: { get: async () => ['whsec_old'], refreshAfterMismatch: vi.fn(async () => ['whsec_new', 'whsec_old']) },
    });
    const response = await handleWebhook(signedRequest(body, { secret: 'whsec_new' }), deps);
    expect(response.statusCode).toBe(200);
    expect(queued).toHaveLength(1);
  });

  describe('400, nothing queued', () => {
    it.each([
      ['invalid_json', 'not json'],
      ['invalid_json', ''],
      ['not_an_object', '[]'],
      ['not_an_object', '"evt_1"'],
      ['not_an_object', 'null'],
    ])('%s for %j, counted as an authentic delivery refused', async (error, body) => {
      const { deps, queued, recorded } = harness();
      const response = await handleWebhook(signedRequest(body), deps);
      expect(response).toMatchObject({ statusCode: 400, body: { error } });
      expect(queued).toHaveLength(0);
      expect(recorded.count('RequestsRejected', { Reason: error })).toBe(1);
    });

    it('invalid_json for bytes that are not UTF-8, even when correctly signed', async () => {
      const bytes = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
      const signed = signFaceSignPayload(bytes, SECRET, NOW_MS / 1000);
      const { deps, queued } = harness();
      const response = await handleWebhook({ headers: lower(signed.headers), body: bytes.toString('base64'), isBase64Encoded: true }, deps);
      expect(response).toMatchObject({ statusCode: 400, body: { error: 'invalid_json', message: 'the body is not valid UTF-8' } });
      expect(queued).toHaveLength(0);
    });

    it('checks the signature before looking at the JSON: an unsigned bad body is a 401', async () => {
      const { deps } = harness();
      const response = await handleWebhook({ headers: {}, body: 'not json', isBase64Encoded: false }, deps);
      expect(response.statusCode).toBe(401);
    });
  });

  it('413 for an authentic body over the limit, counted in bytes and as an authentic refusal; a forged one is a 401', async () => {
    const { deps, queued, recorded } = harness({ maxBodyBytes: 1024 });
    const body = JSON.stringify({ ...sampleEvent('session.status'), pad: 'é'.repeat(600) });
    const response = await handleWebhook(signedRequest(body), deps);
    expect(response).toMatchObject({ statusCode: 413, body: { error: 'payload_too_large' } });
    expect(recorded.count('RequestsRejected', { Reason: 'payload_too_large' })).toBe(1);
    expect(queued).toHaveLength(0);
    const forged = await handleWebhook(signedRequest(body, { secret: 'whsec_wrong' }), deps);
    expect(forged).toMatchObject({ statusCode: 401, body: { error: 'signature_mismatch' } });
    expect(recorded.count('RequestsRejected')).toBe(1);
    const fits = JSON.stringify(sampleEvent('session.status'));
    expect((await handleWebhook(signedRequest(fits), deps)).statusCode).toBe(200);
  });

  it('measures the decoded size before decoding: base64 of exactly maxBodyBytes is let through, one byte more is 413', async () => {
    const { deps, recorded } = harness({ maxBodyBytes: 1024 });
    const event = JSON.stringify(sampleEvent('session.status'));
    const exact = JSON.stringify({ ...JSON.parse(event), pad: 'x'.repeat(1024 - event.length - 9) });
    expect(Buffer.byteLength(exact)).toBe(1024);
    for (const [body, status] of [
      [exact, 200],
      [`${exact} `, 413],
    ] as const) {
      expect((await handleWebhook(signedRequest(body, { base64: true }), deps)).statusCode).toBe(status);
    }
    expect(recorded.count('RequestsRejected', { Reason: 'payload_too_large' })).toBe(1);
  });

  it('an over-size body is judged by one HMAC under the newest secret: signed with an older one in a rotation, it counts as a 401', async () => {
    const { deps, recorded } = harness({
      maxBodyBytes: 1024,
      secrets: { get: async () => ['whsec_newest', SECRET], refreshAfterMismatch: async () => undefined },
    });
    const body = JSON.stringify({ ...sampleEvent('session.status'), pad: 'x'.repeat(2000) });
    expect((await handleWebhook(signedRequest(body, { secret: 'whsec_newest' }), deps)).statusCode).toBe(413);
    expect((await handleWebhook(signedRequest(body, { secret: SECRET }), deps)).statusCode).toBe(401);
    expect(recorded.count('RequestsRejected', { Reason: 'payload_too_large' })).toBe(1);
    expect(recorded.count('SignatureFailures', { Reason: 'signature_mismatch' })).toBe(1);
  });

  describe('5xx for our own failures, so FaceSign retries', () => {
    const body = JSON.stringify(sampleEvent('session.status'));
    it('503 secret_unavailable when the secret cannot be read', async () => {
      const { deps, queued } = harness({
        secrets: { get: async () => Promise.reject(new SigningSecretUnavailableError('x')), refreshAfterMismatch: async () => undefined },
      });
      expect(await handleWebhook(signedRequest(body), deps)).toMatchObject({ statusCode: 503, body: { error: 'secret_unavailable' } });
      expect(queued).toHaveLength(0);
    });

    it('503 secret_not_configured while the secret still holds the placeholder', async () => {
      const { deps } = harness({
        secrets: { get: async () => Promise.reject(new SigningSecretNotConfiguredError('x')), refreshAfterMismatch: async () => undefined },
      });
      expect(await handleWebhook(signedRequest(body), deps)).toMatchObject({ statusCode: 503, body: { error: 'secret_not_configured' } });
    });

    it('503 secret_unavailable when the reread after a mismatch fails', async () => {
      const { deps } = harness({
        secrets: { get: async () => ['whsec_old'], refreshAfterMismatch: async () => Promise.reject(new SigningSecretUnavailableError('x')) },
      });
      expect(await handleWebhook(signedRequest(body), deps)).toMatchObject({ statusCode: 503, body: { error: 'secret_unavailable' } });
    });

    it('503 queue_unavailable when SQS does not take the message', async () => {
      const { deps, recorded } = harness({ enqueue: async () => Promise.reject(new Error('SQS down')) });
      expect(await handleWebhook(signedRequest(body), deps)).toMatchObject({ statusCode: 503, body: { error: 'queue_unavailable' } });
      expect(recorded.count('RequestsFailed', { Reason: 'queue_unavailable' })).toBe(1);
      expect(recorded.count('EventsReceived')).toBe(0);
    });
  });
});

describe('handleWebhook: order of checks', () => {
  it('refuses a missing or malformed signature without reading the secret', async () => {
    const { deps } = harness();
    expect((await handleWebhook({ headers: {}, body: '{}', isBase64Encoded: false }, deps)).statusCode).toBe(401);
    expect((await handleWebhook({ headers: { 'x-facesign-signature': 't=1' }, body: '{}', isBase64Encoded: false }, deps)).statusCode).toBe(401);
    expect(deps.secrets.get).not.toHaveBeenCalled();
  });
});

describe('handleWebhook: metrics', () => {
  const body = JSON.stringify(sampleEvent('media.user_video'));
  it('counts a received event in total and by type', async () => {
    const { deps, recorded } = harness();
    await handleWebhook(signedRequest(body), deps);
    expect(recorded.count('EventsReceived')).toBe(1);
    expect(recorded.count('EventsReceived', { EventType: 'media.user_video' })).toBe(1);
    expect(recorded.count('SignatureFailures')).toBe(0);
  });

  it('counts signature failures in total and by reason', async () => {
    const { deps, recorded } = harness();
    await handleWebhook(signedRequest(body, { secret: 'whsec_wrong' }), deps);
    await handleWebhook({ headers: {}, body, isBase64Encoded: false }, deps);
    expect(recorded.count('SignatureFailures')).toBe(2);
    expect(recorded.count('SignatureFailures', { Reason: 'signature_mismatch' })).toBe(1);
    expect(recorded.count('SignatureFailures', { Reason: 'missing_signature' })).toBe(1);
    expect(recorded.count('EventsReceived')).toBe(0);
  });

  it('counts bad requests apart from signature failures', async () => {
    const { deps, recorded } = harness({ maxBodyBytes: 1024 });
    await handleWebhook(signedRequest('nope'), deps);
    await handleWebhook(signedRequest('x'.repeat(2000)), deps);
    expect(recorded.count('RequestsRejected', { Reason: 'invalid_json' })).toBe(1);
    expect(recorded.count('RequestsRejected', { Reason: 'payload_too_large' })).toBe(1);
    expect(recorded.count('SignatureFailures')).toBe(0);
  });
});

describe('handleWebhook: authentic deliveries are never refused over drift, age or envelope', () => {
  const event = sampleEvent('session.status');
  const body = JSON.stringify(event);
  const t = NOW_MS / 1000;
  const v1 = computeSignature(body, SECRET, t);
  const withSignature = (signature: string, extra: Record<string, string> = {}): WebhookRequest => ({
    headers: { 'content-type': 'application/json', 'x-facesign-signature': signature, ...extra },
    body,
    isBase64Encoded: false,
  });

  it.each([
    ['a trailing comma', () => withSignature(`t=${t},v1=${v1},`)],
    ['a flag element without =', () => withSignature(`t=${t},v1=${v1},replayed`)],
    ['a stray t before the signed one', () => withSignature(`t=${t - 90},t=${t},v1=${v1}`)],
    ['X-FaceSign-Timestamp one second off', () => withSignature(`t=${t},v1=${v1}`, { 'x-facesign-timestamp': String(t - 1) })],
    ['X-FaceSign-Timestamp in milliseconds', () => withSignature(`t=${t},v1=${v1}`, { 'x-facesign-timestamp': String(NOW_MS) })],
    ['a signature made 10 minutes earlier', () => signedRequest(body, { t: t - 600 })],
    ['a signature made 6 hours earlier', () => signedRequest(body, { t: t - 6 * 3600 })],
    ['a signature made 3 days earlier', () => signedRequest(body, { t: t - 3 * 86400 })],
  ])('%s: 200 and queued byte for byte', async (_name, request) => {
    const { deps, queued } = harness();
    expect(await handleWebhook(request(), deps)).toEqual({ statusCode: 200, body: { received: true } });
    expect(queued).toHaveLength(1);
    expect(queued[0]).toMatchObject({ rawBody: body, event: { id: event.id } });
    expect(queued[0].unrecognized).toBeUndefined();
  });

  const base = sampleEvent('session.status');
  const media = sampleEvent('media.user_photo');
  const { sessionId: _s, ...noSession } = base;
  const { id: _i, ...noId } = base;
  const { expires: _e, ...mediaWithoutExpires } = media.media as Record<string, unknown>;
  it.each([
    ['no sessionId', noSession, 'invalid_session_id', { id: base.id, type: 'session.status' }],
    ['createdAt as an ISO string', { ...base, createdAt: '2025-10-27T19:50:51.878Z' }, 'invalid_created_at', { id: base.id, sessionId: base.sessionId }],
    ['a numeric id', { ...base, id: 12345 }, 'invalid_id', { type: 'session.status', sessionId: base.sessionId }],
    ['a missing id', noId, 'invalid_id', { type: 'session.status' }],
    ['an empty sessionId', { ...base, sessionId: '' }, 'invalid_session_id', { id: base.id }],
    ['a media event without media', { ...media, media: undefined }, 'missing_media', { id: media.id, type: 'media.user_photo' }],
    ['a media without expires', { ...media, media: mediaWithoutExpires }, 'invalid_media_expires', { id: media.id, type: 'media.user_photo' }],
  ])('an envelope with %s: 200 and queued as unrecognized, with the problem and the ids it has', async (_name, value, problem, ids) => {
    const raw = JSON.stringify(value);
    const { deps, queued, recorded } = harness();
    expect(await handleWebhook(signedRequest(raw), deps)).toEqual({ statusCode: 200, body: { received: true } });
    expect(queued).toHaveLength(1);
    expect(queued[0].rawBody).toBe(raw);
    expect(queued[0].event).toBeUndefined();
    expect(queued[0].unrecognized).toMatchObject({ problem, ids });
    expect(recorded.count('EventsReceived', { EventType: 'unrecognized' })).toBe(1);
    expect(recorded.count('RequestsRejected')).toBe(0);
  });

  it('an unrecognized envelope is still a 503 when it cannot be queued, so FaceSign retries', async () => {
    const { deps } = harness({ enqueue: async () => Promise.reject(new Error('SQS down')) });
    const response = await handleWebhook(signedRequest(JSON.stringify(noSession)), deps);
    expect(response).toMatchObject({ statusCode: 503, body: { error: 'queue_unavailable' } });
  });

  it('tampered deliveries are still 401: a changed body, a changed t, a v1 of another body', async () => {
    const { deps, queued } = harness();
    const tamperedBody = { ...withSignature(`t=${t},v1=${v1},`), body: body.replace('session.status', 'settings.langs') };
    const tamperedT = withSignature(`t=${t - 1},v1=${v1}`);
    const otherBody = withSignature(`t=${t},v1=${computeSignature('{}', SECRET, t)},flag`);
    for (const request of [tamperedBody, tamperedT, otherBody]) {
      expect(await handleWebhook(request, deps)).toMatchObject({ statusCode: 401, body: { error: 'signature_mismatch' } });
    }
    expect(queued).toHaveLength(0);
  });

  it('publishes the signature age and counts timestamp anomalies by reason', async () => {
    const { deps, recorded } = harness();
    await handleWebhook(signedRequest(body, { t: t - 6 * 3600 }), deps);
    await handleWebhook(withSignature(`t=${t},v1=${v1}`, { 'x-facesign-timestamp': String(NOW_MS) }), deps);
    await handleWebhook(withSignature(`t=${t},v1=${v1}`, { 'x-facesign-timestamp': String(t + 1) }), deps);
    const ages = recorded.records.filter((r) => r.name === 'SignatureAge');
    expect(ages.map((r) => [r.unit, r.value])).toEqual([
      ['Seconds', 6 * 3600],
      ['Seconds', 0],
      ['Seconds', 0],
    ]);
    expect(recorded.count('TimestampHeaderMismatches')).toBe(2);
    expect(recorded.count('TimestampHeaderMismatches', { Reason: 'timestamp_header_milliseconds' })).toBe(1);
    expect(recorded.count('TimestampHeaderMismatches', { Reason: 'timestamp_header_differs' })).toBe(1);
  });
});
