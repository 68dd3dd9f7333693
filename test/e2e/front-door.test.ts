/**
 * The local front door, as the construct's default (the REST API door: payload 1.0, every body
 * base64), in front of the real verifier bundle: a signature header sent twice reaches the verifier
 * whole (payload 1.0 keeps only the last value in `headers`; lambda/verifier/api-event.ts joins
 * `multiValueHeaders`), and a route the API does not have is answered as a REST API answers it.
 */
import { describe, expect, it } from 'vitest';
import { computeSignature } from '../../contract/signature';
import { sendRaw } from '../support/raw-request';
import { archiveKey, ctx, event, getObject, waitFor } from './helpers';

const url = new URL(ctx.webhookUrl);
const port = Number(url.port);
const now = () => Math.floor(Date.now() / 1000);

async function postTwoSignatureLines(body: string, lines: string[]) {
  return sendRaw(port, {
    path: url.pathname,
    method: 'POST',
    headers: { Host: url.host, 'Content-Type': 'application/json', 'X-FaceSign-Signature': lines },
    body: Buffer.from(body),
  });
}

describe('the local REST API door in front of the real verifier', () => {
  it.each([
    ['the authentic line first', (valid: string) => [valid, `t=${now()},v1=${'0'.repeat(64)}`]],
    ['the authentic line last', (valid: string) => [`t=${now()},v1=${'0'.repeat(64)}`, valid]],
  ])('accepts and archives a delivery whose signature header comes twice, %s', async (_name, lines) => {
    const e = event('session.status');
    const body = JSON.stringify(e);
    const valid = `t=${now()},v1=${computeSignature(body, ctx.signingSecret, now())}`;
    const answer = await postTwoSignatureLines(body, lines(valid));
    expect(answer.status, answer.body).toBe(200);
    const archived = await waitFor('the archived event', () => getObject(archiveKey(e)));
    expect(archived.body.toString('utf8')).toBe(body);
  });

  it('answers a route it does not have 403 Missing Authentication Token, without invoking the verifier', async () => {
    const answer = await sendRaw(port, { path: '/webhooks/other', method: 'POST', headers: { Host: url.host }, body: Buffer.from('{}') });
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body)).toEqual({ message: 'Missing Authentication Token' });
  });
});
