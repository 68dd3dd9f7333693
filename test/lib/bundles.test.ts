import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../../contract/settings';
import { signFaceSignPayload } from '../../contract/signature';
import { buildHandlerBundles } from '../../local/bundle';
import { startSecretsManager, type LocalSecretsManager } from '../../local/secrets-manager-server';
import { sampleEvent } from '../support/events';
import { freePortUrl, invokeBundle, synthesizeBundles, type DeployedBundles } from '../support/bundles';

// The one test file that really bundles: what CDK would deploy is what runs here.
let bundles: DeployedBundles;
let secrets: LocalSecretsManager;
let deadEndpoint: string;
const SECRET_ID = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:facesign-local';

beforeAll(async () => {
  bundles = synthesizeBundles();
  secrets = await startSecretsManager({ [SECRET_ID]: '{"secrets":["whsec_bundle"]}' });
  deadEndpoint = await freePortUrl();
});
afterAll(() => secrets?.close());

function apiRequest(body: string, headers: Record<string, string>) {
  return { version: '2.0', routeKey: 'POST /webhooks/facesign', rawPath: '/webhooks/facesign', headers, body, isBase64Encoded: false, requestContext: {} };
}

describe('deployed bundles', () => {
  it.each(['verifier', 'processor'] as const)('%s is one minified ESM file with a source map and no CDK inside', (name) => {
    const code = readFileSync(bundles[name], 'utf8');
    expect(code.startsWith("import{createRequire as __facesignCreateRequire}from'node:module'")).toBe(true);
    expect(code).toMatch(/export\{[^}]*handler/);
    // Minified: long lines (unminified esbuild output averages well under 100 characters a line).
    expect(code.length / code.split('\n').length).toBeGreaterThan(1000);
    expect(statSync(`${bundles[name]}.map`).size).toBeGreaterThan(0);
    expect(code).not.toContain('aws-cdk-lib');
    expect(code).toContain('@aws-sdk/');
  });

  it('the local runtime and the e2e tests run byte-identical bundles to the ones CDK deploys', async () => {
    const local = await buildHandlerBundles(mkdtempSync(path.join(tmpdir(), 'facesign-local-bundles-')));
    for (const name of ['verifier', 'processor'] as const) {
      expect(readFileSync(local[name]).equals(readFileSync(bundles[name])), name).toBe(true);
    }
  });

  it('the verifier bundle reads the secret from Secrets Manager, checks the HMAC, and answers as the contract says', async () => {
    const body = JSON.stringify(sampleEvent('session.status'));
    const signed = signFaceSignPayload(body, 'whsec_bundle');
    const headers = { 'x-facesign-signature': signed.signature, 'x-facesign-timestamp': String(signed.timestamp) };
    const forged = signFaceSignPayload(body, 'whsec_forged');
    const results = (await invokeBundle(
      bundles.verifier,
      [apiRequest(body, {}), apiRequest(body, { 'x-facesign-signature': forged.signature }), apiRequest(body, headers)],
      {
        [ENV.signingSecretArn]: SECRET_ID,
        [ENV.queueUrl]: `${deadEndpoint}/123456789012/facesign`,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
        AWS_ENDPOINT_URL_SQS: deadEndpoint,
        AWS_MAX_ATTEMPTS: '1',
      },
    )) as Array<{ statusCode: number; body: string }>;
    expect(results.map((r) => [r.statusCode, JSON.parse(r.body).error])).toEqual([
      [401, 'missing_signature'],
      [401, 'signature_mismatch'],
      // Signed correctly, but the queue is unreachable: a 5xx so FaceSign retries.
      [503, 'queue_unavailable'],
    ]);
    expect(secrets.reads.get(SECRET_ID)).toBe(1);
  });

  it('the processor bundle loads Powertools and reports a record it could not handle as a batch item failure', async () => {
    const [result] = (await invokeBundle(
      bundles.processor,
      [{ Records: [{ messageId: 'm-1', receiptHandle: 'rh', body: 'not json', attributes: { ApproximateReceiveCount: '1' }, messageAttributes: {} }] }],
      {
        [ENV.bucketName]: 'bucket',
        [ENV.idempotencyTableName]: 'table',
        [ENV.queueUrl]: `${deadEndpoint}/q`,
        [ENV.deadLetterQueueUrl]: `${deadEndpoint}/dlq`,
        AWS_ENDPOINT_URL_SQS: deadEndpoint,
        AWS_MAX_ATTEMPTS: '1',
      },
    )) as Array<{ batchItemFailures: Array<{ itemIdentifier: string }> }>;
    // Invalid body -> DLQ send -> DLQ unreachable -> left on the queue for a retry, not dropped.
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'm-1' }]);
  });
});
