/**
 * Each misconfiguration pages Critical at its first delivery, shown end to end: the verifier Lambda
 * handler (lambda/verifier/index.ts, with the environment the synthesized template gives it) runs
 * with the fault injected into its AWS clients, the EMF lines it prints become CloudWatch data
 * points, and the synthesized alarms, with their real metric, threshold, period, comparison,
 * periods to alarm and missing-data treatment, are evaluated over them (test/support/alarm-evaluator.ts).
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { App, Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { FaceSignWebhooksStack, type FaceSignWebhooksProps } from '../../lib';
import { ENV } from '../../contract/function-environment';
import { SERVICE } from '../../contract/metric-names';
import { signFaceSignPayload } from '../../contract/signature';
import { sampleEvent, webhookApiEvent } from '../support/events';
import { captureOutputJson } from '../support/observability';
import { handlerAssetDir } from '../../lib/handler-code';
import { startSecretsManager, type LocalSecretsManager } from '../../local/secrets-manager-server';
import { freePortUrl, invokeBundleWithOutput } from '../support/bundles';
import { alarmSpecFromTemplate, evaluateAlarm, metricDataFromEmf, type AlarmSpec, type MetricDatum } from '../support/alarm-evaluator';

const secretsMock = mockClient(SecretsManagerClient);
const sqsMock = mockClient(SQSClient);
// The hold of a refused delivery in FaceSign's form (its counter and its object): accepted here.
const dynamodbMock = mockClient(DynamoDBClient);
const s3Mock = mockClient(S3Client);
const LIVE_SECRET = 'whsec_live';

type AlarmProps = Record<string, unknown> & { AlarmName: string; Namespace?: string; Metrics?: Array<{ MetricStat?: { Metric: MetricIdentity } }> };
interface MetricIdentity {
  Namespace: string;
  MetricName: string;
  Dimensions?: Array<{ Name: string; Value: unknown }>;
}

function synth(props?: FaceSignWebhooksProps) {
  const template = Template.fromStack(new FaceSignWebhooksStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Ops', { webhooks: props }));
  const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((r) => r.Properties as AlarmProps);
  const verifier = Object.values(template.findResources('AWS::Lambda::Function'))
    .map((f) => f.Properties.Environment.Variables as Record<string, unknown>)
    .find((vars) => vars.POWERTOOLS_SERVICE_NAME === SERVICE.verifier)!;
  const [secret] = Object.values(template.findResources('AWS::SecretsManager::Secret'));
  return {
    alarms,
    verifierEnvironment: verifier,
    secret: secret.Properties.GenerateSecretString as { SecretStringTemplate: string; GenerateStringKey: string },
  };
}

const deployed = synth();
const alarmNamed = (name: string) => {
  const found = deployed.alarms.find((a) => a.AlarmName === name);
  expect(found, name).toBeDefined();
  return found!;
};
/** The alarms the evaluator reads directly: one metric, in our namespace (the ones a verifier fault can move). */
const customSingleMetric = deployed.alarms.filter((a) => a.Metrics === undefined && a.Namespace === 'FaceSignWebhooks');
/** The custom-metric inputs of the metric-math alarms, which the evaluator does not compute yet. */
const mathInputs = deployed.alarms.flatMap((a) =>
  (a.Metrics ?? []).flatMap((m) =>
    m.MetricStat && !m.MetricStat.Metric.Namespace.startsWith('AWS/') ? [{ alarm: a.AlarmName, metric: m.MetricStat.Metric }] : [],
  ),
);

/** The secret string the construct creates: `{"secrets": [], "<key>": "<generated>"}`, i.e. not set yet. */
const unsetSecret = JSON.stringify({ ...JSON.parse(deployed.secret.SecretStringTemplate), [deployed.secret.GenerateStringKey]: 'generatedPlaceholder' });

const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:facesign-AbCdEf';

/** The verifier's environment as the template sets it; resources (tokens there) get stand-ins. */
function verifierEnvironment(queueUrl = 'https://sqs.eu-west-1.amazonaws.com/111122223333/facesign'): Record<string, string> {
  const standIns: Record<string, string> = {
    [ENV.signingSecretArn]: SECRET_ARN,
    [ENV.queueUrl]: queueUrl,
    [ENV.holdBucketName]: 'facesign-archive',
    [ENV.holdCounterTableName]: 'facesign-idempotency',
    [ENV.encryptionKeyArn]: 'arn:aws:kms:eu-west-1:111122223333:key/00000000-0000-4000-8000-000000000000',
  };
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(deployed.verifierEnvironment)) {
    if (typeof value === 'string') env[key] = value;
    else if (standIns[key]) env[key] = standIns[key];
    else throw new Error(`the verifier's ${key} is not a literal and has no stand-in: ${JSON.stringify(value)}`);
  }
  return env;
}

function stubVerifierEnvironment(): void {
  for (const [key, value] of Object.entries(verifierEnvironment())) vi.stubEnv(key, value);
  vi.stubEnv('AWS_REGION', 'eu-west-1');
}

/** A delivery as FaceSign signs it, with the given secret. */
function faceSignDelivery(secret: string, body = JSON.stringify(sampleEvent('session.status'))): APIGatewayProxyEventV2 {
  const { headers } = signFaceSignPayload(body, secret);
  return webhookApiEvent(body, {
    'content-type': 'application/json',
    'x-facesign-signature': headers['X-FaceSign-Signature'],
    'x-facesign-timestamp': headers['X-FaceSign-Timestamp'],
  });
}

/** Runs the verifier Lambda handler on each request (a fresh cold start) and returns its answers and the data points it printed. */
async function runVerifier(requests: APIGatewayProxyEventV2[]): Promise<{ statusCodes: number[]; errors: string[]; data: MetricDatum[] }> {
  vi.resetModules();
  const out = captureOutputJson();
  const statusCodes: number[] = [];
  const errors: string[] = [];
  try {
    const { handler } = await import('../../lambda/verifier/index.js');
    for (const request of requests) {
      const response = await handler(request, { awsRequestId: 'req', functionName: 'verifier', getRemainingTimeInMillis: () => 10_000 } as Context);
      statusCodes.push(response.statusCode as number);
      errors.push((JSON.parse(response.body as string) as { error?: string }).error ?? '');
    }
  } finally {
    out.restore();
  }
  return { statusCodes, errors, data: metricDataFromEmf(out.lines()) };
}

/** The end of the period that holds the first data point of this alarm's metric: when CloudWatch first evaluates it complete. */
function endOfFirstPeriod(alarm: AlarmSpec, data: MetricDatum[]): number {
  const periodMs = alarm.metric.periodSeconds * 1000;
  const mine = data.filter((d) => d.metricName === alarm.metric.metricName).map((d) => d.timestampMs);
  expect(mine.length, `a ${alarm.metric.metricName} data point`).toBeGreaterThan(0);
  return (Math.floor(Math.min(...mine) / periodMs) + 1) * periodMs;
}

/** Every single-metric custom alarm in ALARM when evaluated at `atMs` over `data`. */
function firing(data: MetricDatum[], atMs: number): string[] {
  return customSingleMetric.filter((a) => evaluateAlarm(alarmSpecFromTemplate(a), data, { atMs }).state === 'ALARM').map((a) => a.AlarmName);
}

/** True when a data point belongs to this metric identity (namespace, name, exactly these dimensions). */
function reads(metric: MetricIdentity, datum: MetricDatum): boolean {
  const dims = metric.Dimensions ?? [];
  return (
    datum.namespace === metric.Namespace &&
    datum.metricName === metric.MetricName &&
    Object.keys(datum.dimensions).length === dims.length &&
    dims.every((d) => datum.dimensions[d.Name] === d.Value)
  );
}

/** Every dependency of the verifier answers, with the live secret; a test then breaks one. */
function healthyDependencies(): void {
  secretsMock.reset();
  sqsMock.reset();
  dynamodbMock.reset();
  s3Mock.reset();
  dynamodbMock.on(UpdateItemCommand).resolves({});
  s3Mock.on(PutObjectCommand).resolves({});
  stubVerifierEnvironment();
  secretsMock.on(GetSecretValueCommand).resolves({ SecretString: LIVE_SECRET });
  sqsMock.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
}

describe('a misconfiguration pages Critical at its first delivery', () => {
  beforeEach(healthyDependencies);
  afterEach(() => vi.unstubAllEnvs());

  it('reads every alarm it claims to: the evaluator understands each single-metric custom alarm', () => {
    expect(customSingleMetric.map((a) => a.AlarmName)).toEqual(
      expect.arrayContaining([
        'Ops-Verifier-SecretNotConfigured-Critical',
        'Ops-Verifier-SecretUnavailable-Critical',
        'Ops-Verifier-QueueUnavailable-Critical',
        'Ops-Verifier-WrongSecretSuspected-Critical',
        'Ops-Verifier-SignatureFailures-Warning',
      ]),
    );
    for (const a of customSingleMetric) expect(() => alarmSpecFromTemplate(a), a.AlarmName).not.toThrow();
  });

  it.each<[string, () => void, APIGatewayProxyEventV2, number, string, string]>([
    [
      'secret unset',
      () => secretsMock.on(GetSecretValueCommand).resolves({ SecretString: unsetSecret }),
      faceSignDelivery(LIVE_SECRET),
      503,
      'secret_not_configured',
      'Ops-Verifier-SecretNotConfigured-Critical',
    ],
    [
      'secret unreadable',
      () => secretsMock.on(GetSecretValueCommand).rejects(Object.assign(new Error('not authorized to perform kms:Decrypt'), { name: 'AccessDeniedException' })),
      faceSignDelivery(LIVE_SECRET),
      503,
      'secret_unavailable',
      'Ops-Verifier-SecretUnavailable-Critical',
    ],
    [
      'queue unavailable',
      () => sqsMock.on(SendMessageCommand).rejects(Object.assign(new Error('the key is disabled'), { name: 'KmsDisabled' })),
      faceSignDelivery(LIVE_SECRET),
      503,
      'queue_unavailable',
      'Ops-Verifier-QueueUnavailable-Critical',
    ],
    ['wrong secret', () => undefined, faceSignDelivery('whsec_stale'), 401, 'signature_mismatch', 'Ops-Verifier-WrongSecretSuspected-Critical'],
  ])('%s: the first delivery is refused, and only its own Critical alarm goes to ALARM', async (_name, inject, request, status, error, alarmName) => {
    inject();
    const { statusCodes, errors, data } = await runVerifier([request]);
    expect(statusCodes).toEqual([status]);
    expect(errors).toEqual([error]);
    const alarm = alarmSpecFromTemplate(alarmNamed(alarmName));
    const firstEvaluation = endOfFirstPeriod(alarm, data);
    // Not before the delivery, at the first evaluation after it, and only this Critical alarm.
    expect(evaluateAlarm(alarm, [], { atMs: firstEvaluation }).state).toBe('OK');
    const evaluation = evaluateAlarm(alarm, data, { atMs: firstEvaluation });
    expect(evaluation.state).toBe('ALARM');
    expect(evaluation.periods.filter((p) => p.breaching)).toEqual([expect.objectContaining({ value: 1 })]);
    // A point CloudWatch Logs processes late still pages while it is in the evaluation range, and then the alarm recovers.
    const periodMs = alarm.metric.periodSeconds * 1000;
    const lastInRange = firstEvaluation + (alarm.evaluationPeriods - 1) * periodMs;
    expect(evaluateAlarm(alarm, data, { atMs: lastInRange }).state).toBe('ALARM');
    expect(evaluateAlarm(alarm, data, { atMs: lastInRange + periodMs }).state).toBe('OK');
    expect(firing(data, firstEvaluation)).toEqual([alarmName]);
    // No metric-math alarm reads anything this fault printed.
    expect(mathInputs.filter(({ metric }) => data.some((d) => reads(metric, d)))).toEqual([]);
  });

  it('garbage 401s page no one Critical; only many of them warn', async () => {
    const envelope = JSON.stringify(sampleEvent('session.status'));
    const stale = signFaceSignPayload(envelope, 'whsec_stale', Math.floor(Date.now() / 1000) - 8 * 24 * 3600).headers['X-FaceSign-Signature'];
    const garbage = [
      webhookApiEvent(envelope, {}),
      webhookApiEvent(envelope, { 'x-facesign-signature': 'v1=deadbeef' }),
      faceSignDelivery('whsec_stale', 'hello'),
      faceSignDelivery('whsec_stale', JSON.stringify({ hello: 'world' })),
      webhookApiEvent(envelope, { 'x-facesign-signature': stale }),
    ];
    const few = await runVerifier(garbage);
    expect(few.statusCodes).toEqual([401, 401, 401, 401, 401]);
    const signatureFailures = alarmSpecFromTemplate(alarmNamed('Ops-Verifier-SignatureFailures-Warning'));
    const at = endOfFirstPeriod(signatureFailures, few.data);
    expect(firing(few.data, at)).toEqual([]);
    expect(mathInputs.filter(({ metric }) => few.data.some((d) => reads(metric, d)))).toEqual([]);

    // Past the Warning's threshold (more than 10 in its 5 minutes) it warns, and still nothing is Critical.
    const many = await runVerifier([...garbage, ...garbage, ...garbage]);
    // The scenario is twenty within five minutes: pin them to one instant, whatever the test's own timing.
    const data = [...few.data, ...many.data].map((d) => ({ ...d, timestampMs: few.data[0].timestampMs }));
    expect(evaluateAlarm(signatureFailures, data, { atMs: at }).periods[0].value).toBe(20);
    const fired = firing(data, at);
    expect(fired).toEqual(['Ops-Verifier-SignatureFailures-Warning']);
    expect(fired.filter((name) => name.endsWith('-Critical'))).toEqual([]);
  });
});

describe('the shipped verifier bundle, in a fresh process, pages the same way', () => {
  let unset: LocalSecretsManager;
  let live: LocalSecretsManager;
  let deadEndpoint: string;
  beforeAll(async () => {
    unset = await startSecretsManager({ [SECRET_ARN]: unsetSecret });
    live = await startSecretsManager({ [SECRET_ARN]: LIVE_SECRET });
    deadEndpoint = await freePortUrl();
  });
  afterAll(async () => {
    await unset?.close();
    await live?.close();
  });

  /** Real endpoints instead of mocks: a Secrets Manager stand-in (or nothing listening) and an SQS endpoint that refuses connections. */
  async function runBundle(secretsEndpoint: string, requests: APIGatewayProxyEventV2[]) {
    const { results, lines } = await invokeBundleWithOutput(path.join(handlerAssetDir('verifier'), 'index.mjs'), requests, {
      ...verifierEnvironment(`${deadEndpoint}/111122223333/facesign`),
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsEndpoint,
      AWS_ENDPOINT_URL_SQS: deadEndpoint,
      // A wrong secret's hold finds its counter unreachable: counted as HoldsDropped, the 401 unchanged.
      AWS_ENDPOINT_URL_DYNAMODB: deadEndpoint,
      AWS_ENDPOINT_URL_S3: deadEndpoint,
      AWS_MAX_ATTEMPTS: '1',
    });
    return {
      answers: (results as Array<{ statusCode: number; body: string }>).map((r) => [r.statusCode, JSON.parse(r.body).error]),
      data: metricDataFromEmf(lines),
    };
  }

  it.each<[string, () => string, APIGatewayProxyEventV2, [number, string], string, string[]]>([
    ['secret unset', () => unset.endpoint, faceSignDelivery(LIVE_SECRET), [503, 'secret_not_configured'], 'Ops-Verifier-SecretNotConfigured-Critical', []],
    [
      'Secrets Manager unreachable',
      () => deadEndpoint,
      faceSignDelivery(LIVE_SECRET),
      [503, 'secret_unavailable'],
      'Ops-Verifier-SecretUnavailable-Critical',
      [],
    ],
    ['SQS unreachable', () => live.endpoint, faceSignDelivery(LIVE_SECRET), [503, 'queue_unavailable'], 'Ops-Verifier-QueueUnavailable-Critical', []],
    // Its hold finds DynamoDB unreachable here, so the Warning that it cannot be re-verified fires beside the page.
    [
      'wrong secret',
      () => live.endpoint,
      faceSignDelivery('whsec_stale'),
      [401, 'signature_mismatch'],
      'Ops-Verifier-WrongSecretSuspected-Critical',
      ['Ops-Verifier-HoldsDropped-Warning'],
    ],
  ])('%s', async (_name, endpoint, request, answer, alarmName, alongside) => {
    const { answers, data } = await runBundle(endpoint(), [request]);
    expect(answers).toEqual([answer]);
    const at = endOfFirstPeriod(alarmSpecFromTemplate(alarmNamed(alarmName)), data);
    expect([...firing(data, at)].sort()).toEqual([alarmName, ...alongside].sort());
  });
});

describe('the opt-in silence alarm', () => {
  const silent = synth({ silenceAlarmAfter: Duration.minutes(15), alarmEmail: 'oncall@example.com' });
  const props = silent.alarms.find((a) => a.AlarmName === 'Ops-Verifier-NoDeliveries-Critical')!;

  beforeEach(healthyDependencies);
  afterEach(() => vi.unstubAllEnvs());

  it('stays OK while events arrive, fires once a whole window passes without one, and never without its window', async () => {
    const alarm = alarmSpecFromTemplate(props);
    const { statusCodes, data } = await runVerifier([faceSignDelivery(LIVE_SECRET)]);
    expect(statusCodes).toEqual([200]);
    const periodMs = alarm.metric.periodSeconds * 1000;
    const delivered = endOfFirstPeriod(alarm, data);
    // With nothing ever delivered, missing data is silence.
    expect(evaluateAlarm(alarm, [], { atMs: delivered }).state).toBe('ALARM');
    // The delivery's period is inside the window for evaluationPeriods evaluations, then the window is silent.
    for (let k = 0; k < alarm.evaluationPeriods; k++)
      expect(evaluateAlarm(alarm, data, { atMs: delivered + k * periodMs }).state, `${k} periods on`).toBe('OK');
    expect(evaluateAlarm(alarm, data, { atMs: delivered + alarm.evaluationPeriods * periodMs }).state).toBe('ALARM');
    expect(alarm.evaluationPeriods * alarm.metric.periodSeconds).toBe(15 * 60);
  });

  it('does not count garbage requests as deliveries', async () => {
    const alarm = alarmSpecFromTemplate(props);
    const { statusCodes, data } = await runVerifier([webhookApiEvent('{}', {}), faceSignDelivery('whsec_stale')]);
    expect(statusCodes).toEqual([401, 401]);
    const at = (Math.floor(Math.max(...data.map((d) => d.timestampMs)) / 300_000) + 1) * 300_000;
    expect(evaluateAlarm(alarm, data, { atMs: at }).state).toBe('ALARM');
  });
});
