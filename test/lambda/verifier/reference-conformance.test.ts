import { createHmac } from 'node:crypto';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ENV } from '../../../contract/function-environment';
import { referenceVerifier } from '../../support/reference-verifier';
import { webhookApiEvent } from '../../support/events';

// FaceSign's reference verifier decides what is authentic here: whatever it accepts (and is signed
// inside our replay window) must be answered 200 and queued; whatever no (t, v1) pair of the header
// authenticates must be 401.

const SECRET = 'whsec_conformance';
const NOW_MS = Date.UTC(2026, 10, 26, 12, 0, 0);
const hmac = (t: string, body: string, secret = SECRET) => createHmac('sha256', secret).update(`${t}.${body}`, 'utf8').digest('hex');

/** A small deterministic generator, so a failure names a case that reruns the same. */
function prng(seed: number) {
  let s = seed >>> 0;
  const next = () => (s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32;
  return { pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)], chance: (p: number) => next() < p };
}

interface Case {
  readonly name: string;
  readonly body: string;
  readonly header: string;
  readonly timestampHeader?: string;
}

const BODY = JSON.stringify({ id: 'evt_conf_1', type: 'session.status', createdAt: NOW_MS - 60_000, sessionId: 's_conf' });

/**
 * Header variants built from the drift FaceSign's parser tolerates: element order, empty elements,
 * flags without `=`, other schemes, extra `=`, stray `t` before the signed one (up to a dozen),
 * several `v1` (up to 22; the reference keeps the last), keys the reference does not read as `t`
 * after it (` t`, `T`, a bare `t`), upper-case hex, junk after the 64 hex digits.
 */
function driftCases(count: number): Case[] {
  const r = prng(20261126);
  const ages = [0, 30, 299, 301, 600, 6 * 3600, 3 * 86400, 6 * 86400, -60, -299];
  const cases: Case[] = [];
  for (let i = 0; i < cases.length || cases.length < count; i++) {
    const ageSeconds = r.pick(ages);
    // A `t` sent in milliseconds is still a time: the reference does not read it at all.
    const t = r.chance(0.1) ? String(NOW_MS - ageSeconds * 1000) : String(Math.floor(NOW_MS / 1000) - ageSeconds);
    const good = hmac(t, BODY);
    const v1 = r.pick([good, good.toUpperCase(), `${good}zz`, `${good}0`, `${good}=`]);
    const elements = [`t=${t}`, `v1=${v1}`];
    if (r.chance(0.4)) elements.unshift(`t=${Number(t) - 7}`); // a stray t before the signed one
    if (r.chance(0.3)) elements.splice(elements.length - 1, 0, `v1=${'0'.repeat(64)}`); // an older v1 before the good one
    if (r.chance(0.2)) elements.unshift(...Array.from({ length: 12 }, (_, k) => `t=${Number(t) - 100 - k}`)); // more t than the old cap of 8
    if (r.chance(0.2)) elements.splice(elements.length - 1, 0, ...Array.from({ length: 20 }, (_, k) => `v1=${String(k).repeat(64)}`)); // more v1 than the old 16
    if (r.chance(0.2)) elements.push(r.pick([` t=${Number(t) + 9}`, `T=${Number(t) + 9}`, 't'])); // keys the reference does not read as t
    if (r.chance(0.3)) elements.push(r.pick(['v0=deadbeef', 'v2=abc', 'scheme=x']));
    if (r.chance(0.3)) elements.splice(1, 0, r.pick(['test', 'live', 'flag']));
    if (r.chance(0.3)) elements.push('');
    if (r.chance(0.2)) elements.splice(1, 0, '');
    const header = elements.join(',');
    const timestampHeader = r.pick([t, undefined, String(Number(t) + 1), `${t}000`, 'not-a-number']);
    cases.push({ name: `#${i} ${header.slice(0, 120)} (X-FaceSign-Timestamp ${timestampHeader})`, body: BODY, header, timestampHeader });
  }
  return cases;
}

const secretsMock = mockClient(SecretsManagerClient);
const sqsMock = mockClient(SQSClient);
let handler: (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

beforeAll(async () => {
  vi.useFakeTimers({ now: NOW_MS, toFake: ['Date'] });
  vi.stubEnv(ENV.signingSecretArn, 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:facesign-AbCdEf');
  vi.stubEnv(ENV.queueUrl, 'https://sqs.eu-west-1.amazonaws.com/123456789012/facesign');
  vi.stubEnv('AWS_REGION', 'eu-west-1');
  vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
  secretsMock.on(GetSecretValueCommand).resolves({ SecretString: SECRET });
  sqsMock.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
  vi.resetModules();
  handler = (await import('../../../lambda/verifier/index.js')).handler;
});
afterAll(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
});

async function deliver(c: Case): Promise<number | undefined> {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-facesign-signature': c.header };
  if (c.timestampHeader !== undefined) headers['x-facesign-timestamp'] = c.timestampHeader;
  const event = webhookApiEvent(c.body, headers);
  const result = await handler(event, { awsRequestId: 'req', functionName: 'verifier', getRemainingTimeInMillis: () => 9000 } as Context);
  return result.statusCode;
}

describe('the verifier against FaceSign reference verifier', () => {
  const cases = driftCases(300);

  it('generates cases the reference verifier accepts', () => {
    // The generator is only useful if the reference accepts most of what it makes.
    const accepted = cases.filter((c) => referenceVerifier(c.body, c.header, SECRET));
    expect(accepted.length).toBeGreaterThan(cases.length / 2);
  });

  it('answers 200 and queues every delivery the reference accepts, signed up to 7 days ago', async () => {
    const refused: string[] = [];
    for (const c of cases.filter((c) => referenceVerifier(c.body, c.header, SECRET))) {
      sqsMock.resetHistory();
      const status = await deliver(c);
      if (status !== 200 || sqsMock.commandCalls(SendMessageCommand).length !== 1) refused.push(`${status} ${c.name}`);
    }
    expect(refused).toEqual([]);
  });

  it('answers 401 and queues nothing when no t and v1 of the header authenticate the body', async () => {
    const forged: Case[] = cases.flatMap((c) => [
      { ...c, name: `tampered body ${c.name}`, body: c.body.replace('s_conf', 's_conF') },
      { ...c, name: `other secret ${c.name}`, header: c.header.replace(/v1=[0-9a-fA-F]{64}/g, (m) => `v1=${hmac('1', m)}`) },
    ]);
    const accepted: string[] = [];
    for (const c of forged) {
      sqsMock.resetHistory();
      const status = await deliver(c);
      if (status !== 401 || sqsMock.commandCalls(SendMessageCommand).length !== 0) accepted.push(`${status} ${c.name}`);
    }
    expect(accepted).toEqual([]);
  });
});
