import { describe, expect, it, vi } from 'vitest';
import { FACESIGN_EVENT_TYPES } from '../../../lambda/shared/event';
import { signFaceSignPayload } from '../../../lambda/shared/signature';
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
    toleranceSeconds: 300,
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
    expect(queued[0].event.type).toBe('session.archived');
  });

  it('verifies and queues the decoded bytes of a base64 body', async () => {
    const body = JSON.stringify({ ...sampleEvent('session.status'), note: 'Zoë 🙂' });
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
      ['timestamp_out_of_tolerance', () => signedRequest(body, { t: NOW_MS / 1000 - 301 })],
      ['timestamp_out_of_tolerance', () => signedRequest(body, { t: NOW_MS / 1000 + 301 })],
      ['timestamp_mismatch', (r: WebhookRequest) => ({ ...r, headers: { ...r.headers, 'x-facesign-timestamp': '1' } })],
    ] as const)('%s', async (error, mutate) => {
      const { deps, queued } = harness();
      const response = await handleWebhook(mutate(signedRequest(body)), deps);
      expect(response.statusCode).toBe(401);
      expect(response.body).toMatchObject({ error });
      expect(queued).toHaveLength(0);
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
      ['invalid_envelope', '[]'],
      ['invalid_envelope', JSON.stringify({ ...sampleEvent('session.status'), sessionId: '' })],
      ['invalid_envelope', JSON.stringify({ ...sampleEvent('media.user_photo'), media: undefined })],
    ])('%s for %j', async (error, body) => {
      const { deps, queued } = harness();
      const response = await handleWebhook(signedRequest(body), deps);
      expect(response).toMatchObject({ statusCode: 400, body: { error } });
      expect(queued).toHaveLength(0);
    });

    it('invalid_json for bytes that are not UTF-8, even when correctly signed', async () => {
      const bytes = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
      const signed = signFaceSignPayload(bytes, SECRET, NOW_MS / 1000);
      const { deps, queued } = harness();
      const response = await handleWebhook(
        { headers: lower(signed.headers), body: bytes.toString('base64'), isBase64Encoded: true },
        deps,
      );
      expect(response).toMatchObject({ statusCode: 400, body: { error: 'invalid_json', message: 'the body is not valid UTF-8' } });
      expect(queued).toHaveLength(0);
    });

    it('checks the signature before looking at the JSON: an unsigned bad body is a 401', async () => {
      const { deps } = harness();
      const response = await handleWebhook({ headers: {}, body: 'not json', isBase64Encoded: false }, deps);
      expect(response.statusCode).toBe(401);
    });
  });

  it('413 for a body over the limit, counted in bytes, before any secret is read', async () => {
    const { deps, queued } = harness({ maxBodyBytes: 1024 });
    const body = JSON.stringify({ ...sampleEvent('session.status'), pad: 'é'.repeat(600) });
    const response = await handleWebhook(signedRequest(body), deps);
    expect(response).toMatchObject({ statusCode: 413, body: { error: 'payload_too_large' } });
    expect(deps.secrets.get).not.toHaveBeenCalled();
    expect(queued).toHaveLength(0);
    const fits = JSON.stringify(sampleEvent('session.status'));
    expect((await handleWebhook(signedRequest(fits), deps)).statusCode).toBe(200);
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
