import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../../contract/function-environment';
import { signFaceSignPayload } from '../../contract/signature';
import { HANDLER_FUNCTIONS, type HandlerFunction } from '../../contract/settings';
import { handlerAssetDir, handlerCode, packageRoot } from '../../lib/handler-code';
import { startSecretsManager, type LocalSecretsManager } from '../../local/secrets-manager-server';
import { sampleEvent, webhookApiEvent } from '../support/events';
import { bundleModules } from '../../scripts/handler-bundles';
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

describe('handler bundles', () => {
  it('are what the synthesized stack deploys, byte for byte', () => {
    const deployed = synthesizeBundles();
    for (const name of HANDLER_FUNCTIONS) {
      const files = readdirSync(handlerAssetDir(name), { recursive: true, encoding: 'utf8' }).sort();
      expect(files, name).toContain('index.mjs');
      expect(readdirSync(deployed[name], { recursive: true, encoding: 'utf8' }).sort(), name).toEqual(files);
      for (const file of files.filter((f) => f.endsWith('.mjs') || f.endsWith('.map'))) {
        expect(readFileSync(path.join(deployed[name], file)).equals(readFileSync(path.join(handlerAssetDir(name), file))), `${name}/${file}`).toBe(true);
      }
    }
  });

  it.each(HANDLER_FUNCTIONS)('%s is minified ESM, an entry and its chunks, each with the require shim and a source map, and no CDK inside', (name) => {
    const code = readFileSync(bundle(name), 'utf8');
    expect(code).toMatch(/export\{[^}]*handler/);
    const files = readdirSync(handlerAssetDir(name), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.mjs'));
    // Nothing but the entry and chunks/ (no file of an earlier build, no temporary folder beside it).
    expect(files.filter((f) => f !== 'index.mjs' && !/^chunks\/[\w-]+\.mjs$/.test(f))).toEqual([]);
    const { eager, lazy } = bundleModules(bundle(name));
    // Every file the bundle loads is there (esbuild may also write a chunk nothing loads: bowser, for the SDK's browser code it dropped).
    expect(files).toEqual(expect.arrayContaining([...eager, ...lazy].map((f) => path.relative(handlerAssetDir(name), f))));
    for (const file of files) {
      const text = readFileSync(path.join(handlerAssetDir(name), file), 'utf8');
      expect(text.startsWith("import{createRequire as __facesignCreateRequire}from'node:module'"), file).toBe(true);
      expect(statSync(path.join(handlerAssetDir(name), `${file}.map`)).size, file).toBeGreaterThan(0);
      expect(text, file).not.toContain('aws-cdk-lib');
    }
    // Minified: long lines (unminified esbuild output averages well under 100 characters a line).
    expect(code.length / code.split('\n').length).toBeGreaterThan(1000);
    expect(eager.map((f) => readFileSync(f, 'utf8')).join('')).toContain('@aws-sdk/');
    expect(readdirSync(path.dirname(handlerAssetDir(name))).filter((d) => d.startsWith(`${name}.`))).toEqual([]);
  });

  it("the verifier's cold start loads no S3 or DynamoDB client: they are in a chunk loaded at the first hold", async () => {
    const { eager, lazy } = bundleModules(bundle('verifier'));
    const eagerCode = eager.map((f) => readFileSync(f, 'utf8')).join('');
    // Service identifiers the S3 and DynamoDB clients carry (the single-file build had both inline).
    for (const marker of ['S3Client', 'DynamoDBClient', 'AmazonS3', 'DynamoDB_20120810']) expect(eagerCode, marker).not.toContain(marker);
    const hold = lazy.filter((f) => path.basename(f).startsWith('hold-clients-'));
    expect(hold).toHaveLength(1);
    expect(readFileSync(hold[0], 'utf8')).toContain('S3Client');

    // A copy of the bundle whose hold chunk records that Node loaded it.
    const own = await startSecretsManager({ [SECRET_ID]: '{"secrets":["whsec_bundle"]}' });
    const copy = mkdtempSync(path.join(tmpdir(), 'facesign-split-'));
    cpSync(handlerAssetDir('verifier'), copy, { recursive: true });
    const holdChunk = path.join(copy, path.relative(handlerAssetDir('verifier'), hold[0]));
    const marker = path.join(copy, 'hold-chunk-loaded');
    writeFileSync(holdChunk, `import{appendFileSync as __m}from'node:fs';__m(${JSON.stringify(marker)},'loaded\\n');${readFileSync(holdChunk, 'utf8')}`);
    const body = JSON.stringify(sampleEvent('session.status'));
    const forged = signFaceSignPayload(body, 'whsec_forged');
    const env = {
      [ENV.signingSecretArn]: SECRET_ID,
      [ENV.queueUrl]: `${deadEndpoint}/123456789012/facesign`,
      [ENV.holdBucketName]: 'hold',
      [ENV.holdCounterTableName]: 'counters',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: own.endpoint,
      AWS_ENDPOINT_URL_SQS: deadEndpoint,
      AWS_ENDPOINT_URL_S3: deadEndpoint,
      AWS_ENDPOINT_URL_DYNAMODB: deadEndpoint,
      AWS_MAX_ATTEMPTS: '1',
    };
    const answers = async (events: unknown[]) =>
      ((await invokeBundle(path.join(copy, 'index.mjs'), events, env)) as Array<{ statusCode: number; body: string }>).map((r) => [
        r.statusCode,
        JSON.parse(r.body).error,
      ]);
    // Unsigned: refused before any hold, and the hold chunk never loaded.
    expect(await answers([webhookApiEvent(body, {})])).toEqual([[401, 'missing_signature']]);
    expect(existsSync(marker)).toBe(false);
    // A lookalike with a wrong signature is held (its counter unreachable here): the chunk loads then.
    const headers = { 'x-facesign-signature': forged.signature, 'x-facesign-timestamp': String(forged.timestamp) };
    expect(await answers([webhookApiEvent(body, headers)])).toEqual([[401, 'signature_mismatch']]);
    expect(readFileSync(marker, 'utf8')).toBe('loaded\n');
    await own.close();
  });

  it('the verifier bundle reads the secret from Secrets Manager, checks the HMAC, and answers as the contract says', async () => {
    const body = JSON.stringify(sampleEvent('session.status'));
    const signed = signFaceSignPayload(body, 'whsec_bundle');
    const headers = { 'x-facesign-signature': signed.signature, 'x-facesign-timestamp': String(signed.timestamp) };
    const forged = signFaceSignPayload(body, 'whsec_forged');
    const results = (await invokeBundle(
      bundle('verifier'),
      [webhookApiEvent(body, {}), webhookApiEvent(body, { 'x-facesign-signature': forged.signature }), webhookApiEvent(body, headers)],
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
