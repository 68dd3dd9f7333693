import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../../contract/settings';
import { signFaceSignPayload } from '../../contract/signature';
import { HANDLER_FUNCTIONS, type HandlerFunction } from '../../contract/settings';
import { handlerAssetDir, handlerCode, packageRoot } from '../../lib/handler-code';
import { startSecretsManager, type LocalSecretsManager } from '../../local/secrets-manager-server';
import { sampleEvent } from '../support/events';
import { freePortUrl, invokeBundle, synthesizeBundles } from '../support/bundles';

// The bundles the unit tests' global setup built (test/global-setup.ts, scripts/handler-bundles.ts):
// the files the package ships, the stack deploys, the local runtime runs and the benches measure.
const bundle = (name: HandlerFunction) => path.join(handlerAssetDir(name), 'index.mjs');
let secrets: LocalSecretsManager;
let deadEndpoint: string;
const SECRET_ID = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:facesign-local';

beforeAll(async () => {
  secrets = await startSecretsManager({ [SECRET_ID]: '{"secrets":["whsec_bundle"]}' });
  deadEndpoint = await freePortUrl();
});
afterAll(() => secrets?.close());

function apiRequest(body: string, headers: Record<string, string>) {
  return { version: '2.0', routeKey: 'POST /webhooks/facesign', rawPath: '/webhooks/facesign', headers, body, isBase64Encoded: false, requestContext: {} };
}

describe('handler bundles', () => {
  it('are what the synthesized stack deploys, byte for byte', () => {
    const deployed = synthesizeBundles();
    for (const name of HANDLER_FUNCTIONS) {
      expect(readdirSync(deployed[name]).sort(), name).toEqual(['index.mjs', 'index.mjs.map']);
      for (const file of ['index.mjs', 'index.mjs.map']) {
        expect(readFileSync(path.join(deployed[name], file)).equals(readFileSync(path.join(handlerAssetDir(name), file))), `${name}/${file}`).toBe(true);
      }
    }
  });

  it.each(HANDLER_FUNCTIONS)('%s is one minified ESM file with a source map and no CDK inside', (name) => {
    const code = readFileSync(bundle(name), 'utf8');
    expect(code.startsWith("import{createRequire as __facesignCreateRequire}from'node:module'")).toBe(true);
    expect(code).toMatch(/export\{[^}]*handler/);
    // Minified: long lines (unminified esbuild output averages well under 100 characters a line).
    expect(code.length / code.split('\n').length).toBeGreaterThan(1000);
    expect(statSync(`${bundle(name)}.map`).size).toBeGreaterThan(0);
    expect(code).not.toContain('aws-cdk-lib');
    expect(code).toContain('@aws-sdk/');
  });

  it('the verifier bundle reads the secret from Secrets Manager, checks the HMAC, and answers as the contract says', async () => {
    const body = JSON.stringify(sampleEvent('session.status'));
    const signed = signFaceSignPayload(body, 'whsec_bundle');
    const headers = { 'x-facesign-signature': signed.signature, 'x-facesign-timestamp': String(signed.timestamp) };
    const forged = signFaceSignPayload(body, 'whsec_forged');
    const results = (await invokeBundle(
      bundle('verifier'),
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
      bundle('processor'),
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

describe('handlerCode', () => {
  it('finds the package root from lib/ in the repository and from dist/lib in an installed package', () => {
    const repoRoot = path.resolve(__dirname, '..', '..');
    expect(packageRoot()).toBe(repoRoot);
    const installed = path.join(mkdtempSync(path.join(tmpdir(), 'facesign-installed-')), 'node_modules', 'facesign-webhooks');
    mkdirSync(path.join(installed, 'dist', 'lib'), { recursive: true });
    writeFileSync(path.join(installed, 'package.json'), JSON.stringify({ name: 'facesign-webhooks' }));
    // A user's app next to it has a package.json of its own, which is not ours.
    writeFileSync(path.join(installed, '..', '..', 'package.json'), JSON.stringify({ name: 'user-app' }));
    expect(packageRoot(path.join(installed, 'dist', 'lib'))).toBe(installed);
  });

  it('says what to run when a bundle has not been built', () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'facesign-unbuilt-'));
    expect(() => handlerCode('processor', empty)).toThrow(
      `the processor handler bundle is missing: no index.mjs in ${path.join(empty, 'dist', 'assets', 'processor')}. In the facesign-webhooks repository, build the bundles with \`npx tsx scripts/handler-bundles.ts\``,
    );
  });
});
