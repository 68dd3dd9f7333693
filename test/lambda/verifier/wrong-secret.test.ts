import { describe, expect, it } from 'vitest';
import { computeSignature, signFaceSignPayload } from '../../../contract/signature';
import { handleWebhook, type VerifierDependencies, type WebhookRequest } from '../../../lambda/verifier/handle-webhook';
import { faceSignLookalike } from '../../../lambda/verifier/wrong-secret';
import { METRIC } from '../../../contract/metric-names';
import { sampleEvent } from '../../support/events';
import { recordingMetrics, silentLogger } from '../../support/observability';

const NOW_MS = 1_761_595_700_000;
const NOW = NOW_MS / 1000;
const TOLERANCE = 7 * 24 * 3600;
const OPTIONS = { nowMs: NOW_MS, toleranceSeconds: TOLERANCE, maxBodyBytes: 256 * 1024 };
const BODY = JSON.stringify(sampleEvent('session.status'));
const bytes = (text: string) => Buffer.from(text, 'utf8');
const faceSignHeader = (body: string, t: number = NOW, secret = 'whsec_wrong') => signFaceSignPayload(body, secret, t).signature;

describe('faceSignLookalike: a refused delivery that FaceSign most likely sent', () => {
  it("names the event of a delivery in FaceSign's exact form, fresh, over an envelope", () => {
    const event = sampleEvent('session.status');
    expect(faceSignLookalike(faceSignHeader(BODY), bytes(BODY), OPTIONS)).toEqual({
      id: event.id,
      type: event.type,
      sessionId: event.sessionId,
      signedAt: NOW,
    });
  });

  it('holds at the edges of the window the verifier accepts', () => {
    expect(faceSignLookalike(faceSignHeader(BODY, NOW - TOLERANCE), bytes(BODY), OPTIONS)).toBeDefined();
    expect(faceSignLookalike(faceSignHeader(BODY, NOW + 3600), bytes(BODY), OPTIONS)).toBeDefined();
  });

  const v1 = computeSignature(BODY, 'whsec_wrong', NOW);
  it.each([
    ['no header', undefined, BODY],
    ['a second v1 (not what FaceSign writes)', `t=${NOW},v1=${v1},v1=${v1}`, BODY],
    ['upper-case hex', `t=${NOW},v1=${v1.toUpperCase()}`, BODY],
    ['spaces after the comma', `t=${NOW}, v1=${v1}`, BODY],
    ['a short v1', `t=${NOW},v1=${v1.slice(2)}`, BODY],
    ['t in milliseconds', `t=${NOW_MS},v1=${v1}`, BODY],
    ['a stale t', faceSignHeader(BODY, NOW - TOLERANCE - 1), BODY],
    ['a t over an hour ahead', faceSignHeader(BODY, NOW + 3601), BODY],
    ['a body that is not JSON', faceSignHeader('hello'), 'hello'],
    ['a JSON array', faceSignHeader('[1]'), '[1]'],
    ['an object without sessionId', undefined, JSON.stringify({ ...sampleEvent('session.status'), sessionId: undefined })],
    ['createdAt as a string', undefined, JSON.stringify({ ...sampleEvent('session.status'), createdAt: '2025-01-01' })],
    ['an empty body', faceSignHeader(''), ''],
  ])('is undefined for %s', (_name, header, body) => {
    expect(faceSignLookalike(header === undefined && body !== BODY ? faceSignHeader(body) : header, bytes(body), OPTIONS)).toBeUndefined();
  });

  it('is undefined for a body over maxBodyBytes, and for bytes that are not UTF-8', () => {
    expect(faceSignLookalike(faceSignHeader(BODY), bytes(BODY), { ...OPTIONS, maxBodyBytes: BODY.length - 1 })).toBeUndefined();
    const invalid = Buffer.concat([bytes(BODY.slice(0, -1)), Buffer.from([0xff]), bytes('}')]);
    expect(faceSignLookalike(faceSignHeader(BODY), invalid, OPTIONS)).toBeUndefined();
  });
});

describe('handleWebhook: WrongSecretSuspected', () => {
  function harness(): { deps: VerifierDependencies; count: (name: string, dims?: Record<string, string>) => number } {
    const recorded = recordingMetrics();
    const deps: VerifierDependencies = {
      metrics: recorded.metrics,
      secrets: { get: async () => ['whsec_right'], refreshAfterMismatch: async () => undefined },
      enqueue: async () => undefined,
      logger: silentLogger(),
      toleranceSeconds: TOLERANCE,
      maxBodyBytes: 256 * 1024,
      now: () => NOW_MS,
    };
    return { deps, count: recorded.count };
  }
  const request = (body: string, signature: string): WebhookRequest => ({
    headers: { 'content-type': 'application/json', 'x-facesign-signature': signature, 'x-facesign-timestamp': String(NOW) },
    body,
    isBase64Encoded: false,
  });

  it('counts a FaceSign-shaped delivery signed with another secret, and still answers 401', async () => {
    const { deps, count } = harness();
    const response = await handleWebhook(request(BODY, faceSignHeader(BODY)), deps);
    expect(response.statusCode).toBe(401);
    expect(count(METRIC.wrongSecretSuspected)).toBe(1);
    expect(count(METRIC.wrongSecretSuspected, { EventType: 'session.status' })).toBe(1);
    expect(count(METRIC.signatureFailures)).toBe(1);
  });

  it('does not count garbage: a 401 over a body that is not an envelope stays a SignatureFailure only', async () => {
    const { deps, count } = harness();
    await handleWebhook(request('{"hello":"world"}', faceSignHeader('{"hello":"world"}')), deps);
    expect(count(METRIC.signatureFailures)).toBe(1);
    expect(count(METRIC.wrongSecretSuspected)).toBe(0);
  });

  it('does not count an authentic delivery', async () => {
    const { deps, count } = harness();
    const response = await handleWebhook(request(BODY, faceSignHeader(BODY, NOW, 'whsec_right')), deps);
    expect(response.statusCode).toBe(200);
    expect(count(METRIC.wrongSecretSuspected)).toBe(0);
  });
});
