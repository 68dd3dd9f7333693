/**
 * What CI can check of the integration test without an account: the app synthesizes offline, its
 * templates match the committed snapshot (so a change to what gets deployed or asserted shows as
 * a diff in review), and the assertion plan the runner reads is complete.
 *
 * Refresh the snapshot after an intended change: `npm run integ:snapshot`
 * (`vitest run --project unit test/integ/integ-app.test.ts -u`), and review the diff.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../../contract/function-environment';
import { judgeResults, readAssertionPlan, describeProgress, type AssertionPlan } from '../../scripts/integ-plan';
import { ASSERTION_LABELS_METADATA, buildIntegApp, type IntegApp } from './integ-app';

const OPTIONS = { account: '123456789012', region: 'eu-west-1', runId: 'snapshot' };
const FIXTURE_HOST = 'facesign-integ-snapshot-123456789012-eu-west-1.s3.eu-west-1.amazonaws.com';

let built: IntegApp;
let stack: Template;
let assertions: Template;
let plan: AssertionPlan;

beforeAll(() => {
  // Bundling is not what this file tests (test/integ/driver.test.ts bundles the driver for real).
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  built = buildIntegApp(app, OPTIONS);
  stack = Template.fromStack(built.stack);
  assertions = Template.fromStack(built.assertionStack);
  plan = readAssertionPlan(assertions.toJSON());
});

/**
 * Replaces what changes without a change to the app: asset hashes (content of the bundles, which
 * are skipped here), the `salt` integ-tests-alpha sets to the synth time on every assertion, and
 * the hash in an EqualsAssertion's output name, which integ-tests-alpha takes over the unresolved
 * token text of its `actual` (so it depends on how many tokens the process made before).
 */
function normalizeTemplate(template: unknown, equalsAssertionIds: readonly string[] = []): unknown {
  let text = JSON.stringify(template);
  for (const id of equalsAssertionIds) text = text.replace(new RegExp(`AssertionResults${id}[0-9a-f]{32}`, 'g'), `AssertionResults${id}<token-hash>`);
  text = text
    .replace(/[0-9a-f]{64}(\.zip|\.json)?/g, (_m, ext: string | undefined) => `<asset-hash>${ext ?? ''}`)
    .replace(/"salt":"\d{13}"/g, '"salt":"<synth-time>"');
  return JSON.parse(text);
}

describe('integration test app', () => {
  it('matches the committed snapshot (asset hashes and synth times ignored)', async () => {
    const equalsAssertions = Object.keys(assertions.findResources('Custom::DeployAssert@AssertEquals'));
    expect(equalsAssertions).toHaveLength(4);
    const snapshot = {
      [built.stack.stackName]: normalizeTemplate(stack.toJSON()),
      [built.assertionStack.stackName]: normalizeTemplate(assertions.toJSON(), equalsAssertions),
    };
    await expect(`${JSON.stringify(snapshot, null, 2)}\n`).toMatchFileSnapshot('./__snapshots__/integ-app.templates.json');
  });

  it('normalizes only hashes and salts', () => {
    expect(normalizeTemplate({ a: `${'ab'.repeat(32)}.zip`, salt: '1', b: { salt: '17' } })).toEqual({ a: '<asset-hash>.zip', salt: '1', b: { salt: '17' } });
    expect(JSON.stringify(normalizeTemplate({ salt: '1795688544780' }))).toBe('{"salt":"<synth-time>"}');
    expect(
      normalizeTemplate({ AssertionResultsCheckf09a6615ac7a31c984f6d42ca27491a2: 1, AssertionResultsOtherf09a6615ac7a31c984f6d42ca27491a2: 2 }, ['Check']),
    ).toEqual({
      'AssertionResultsCheck<token-hash>': 1,
      AssertionResultsOtherf09a6615ac7a31c984f6d42ca27491a2: 2,
    });
  });

  it('lets the processor download the fixture over its presigned URL, and still FaceSign', () => {
    stack.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { [ENV.allowedMediaHosts]: `media.facesign.ai,${FIXTURE_HOST}` } },
    });
    stack.hasResourceProperties('AWS::S3::Bucket', { BucketName: 'facesign-integ-snapshot-123456789012-eu-west-1' });
  });

  it('removes everything it creates when the stack is deleted', () => {
    const kept = Object.entries(stack.toJSON().Resources as Record<string, { Type: string; DeletionPolicy?: string }>)
      .filter(([, r]) => r.DeletionPolicy !== undefined && r.DeletionPolicy !== 'Delete')
      .map(([id, r]) => `${id} (${r.Type}: ${r.DeletionPolicy})`);
    expect(kept).toEqual([]);
    // Both buckets holding objects the run writes are emptied by CDK's auto-delete custom resource.
    stack.resourceCountIs('Custom::S3AutoDeleteObjects', 2);
    const keys = Object.values(stack.findResources('AWS::KMS::Key'));
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(key.Properties.PendingWindowInDays).toBe(7);
  });

  it('subscribes a queue to the alarm topic and routes both event types to a queue with onEvent', () => {
    stack.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'sqs' });
    stack.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['facesign.webhooks'], 'detail-type': ['session.status', 'media.user_photo'] },
      Targets: [{ Arn: { 'Fn::GetAtt': [firstLogicalId(stack, 'AWS::SQS::Queue', 'ConsumerQueue'), 'Arn'] } }],
    });
  });

  it('asserts every promise of the issue, in order, each step traceable to a resource', () => {
    expect(built.labels).toEqual([
      'signing and posting session.status, media.user_photo and a tampered copy',
      'authentic session.status and media.user_photo get 200, a tampered one 401',
      'the presigned fixture URL is on the allowed media host',
      'archive and media objects exist with the right size, SHA-256 and encryption; queue drained; DLQ empty',
      'posting the same two events again',
      'the same two events delivered again get 200',
      'the processor skipped the repeat of evt_integ_snapshot_status as a duplicate',
      'the processor skipped the repeat of evt_integ_snapshot_photo as a duplicate',
      'the repeat wrote nothing: one object each, unchanged since the first delivery; queue drained; DLQ empty',
      'the onEvent rule delivered each event exactly once, with the stored media and no signed URL',
      'the dead-letter queue is empty',
      'set-alarm-state puts an alarm into ALARM',
      'the ALARM notification reached a queue subscribed to the alarm topic',
      'posting a FaceSign event signed with a secret the receiver does not have',
      'the delivery signed with the wrong secret gets 401 signature_mismatch',
      'the verifier suspected a wrong secret and held evt_integ_snapshot_held',
      'the WrongSecretSuspected alarm paged: its ALARM notification reached the subscribed queue',
      'the signing secret is fixed: the right one and the one FaceSign used are both active',
      'the reverifier queued the held delivery, with nothing failed',
      'the held event was archived byte for byte and published exactly once',
      'a second re-verification changes nothing',
    ]);
    const resources = assertions.toJSON().Resources as Record<string, { Type: string; DependsOn?: string[] }>;
    const steps = plan.steps;
    for (const { logicalId } of steps) expect(resources[logicalId]?.Type, logicalId).toMatch(/^Custom::DeployAssert@/);
    // Chained: each action or waiting check starts only after the one before it finished.
    const chain = steps.filter((s) => !resources[s.logicalId].Type.endsWith('AssertEquals')).map((s) => s.logicalId);
    for (let i = 1; i < chain.length; i++) expect(resources[chain[i]].DependsOn, chain[i]).toContain(chain[i - 1]);
    // Only the four steps that act (post three times, set the alarm) have no verdict of their own.
    expect(steps.filter((s) => !s.resultOutput).map((s) => s.label)).toEqual([
      'signing and posting session.status, media.user_photo and a tampered copy',
      'posting the same two events again',
      'set-alarm-state puts an alarm into ALARM',
      'posting a FaceSign event signed with a secret the receiver does not have',
    ]);
    expect([...plan.resultOutputs.values()]).toEqual(steps.filter((s) => s.resultOutput).map((s) => s.label));
    // The answer checks fail the deployment at once rather than leave the next steps to time out.
    const failFast = Object.values(assertions.findResources('Custom::DeployAssert@AssertEquals')).map((r) => r.Properties.failDeployment);
    expect(failFast).toEqual([true, true, true, true]);
    // ... reading the flattened driver answer, whose keys are apiCallResponse.Payload.<field>.
    assertions.hasResourceProperties('Custom::DeployAssert@AssertEquals', {
      actual: { 'Fn::GetAtt': [steps[0].logicalId, 'apiCallResponse.Payload.summary'] },
    });
  });

  it('waits (and so fails the deployment on timeout) for everything that settles asynchronously', () => {
    const waiting = Object.entries(assertions.toJSON().Resources as Record<string, { Type: string; Properties?: { stateMachineArn?: unknown } }>)
      .filter(([, r]) => r.Type.startsWith('Custom::DeployAssert@') && r.Properties?.stateMachineArn !== undefined)
      .map(([id]) => id);
    // stored (2), duplicate logs (2), published, alarm notification, the held log line, the wrong-secret page, the recovered event.
    expect(waiting).toHaveLength(9);
  });
});

describe('runner (scripts/integ.ts)', () => {
  it('succeeds only when every declared result is a success', () => {
    const all = Object.fromEntries([...plan.resultOutputs.keys()].map((k) => [k, '{"status":"success"}']));
    expect(judgeResults(plan, all).every((v) => v.ok)).toBe(true);

    const [firstKey] = plan.resultOutputs.keys();
    const oneFailed = { ...all, [firstKey]: '{"status":"fail","message":"Expected 200 but received 503"}' };
    expect(judgeResults(plan, oneFailed).filter((v) => !v.ok)).toEqual([
      { label: plan.resultOutputs.get(firstKey), ok: false, message: 'Expected 200 but received 503' },
    ]);

    const { [firstKey]: _missing, ...oneMissing } = all;
    expect(judgeResults(plan, oneMissing).some((v) => !v.ok)).toBe(true);
    expect(judgeResults(plan, undefined).every((v) => !v.ok)).toBe(true);
  });

  it('refuses a template with nothing to assert', () => {
    expect(() => readAssertionPlan({ Outputs: {} })).toThrow(/nothing would be asserted/);
    expect(() => readAssertionPlan({ Metadata: { [ASSERTION_LABELS_METADATA]: [{ label: 'x', logicalId: 'X' }] }, Outputs: {} })).toThrow(
      /nothing would be checked/,
    );
    expect(() =>
      readAssertionPlan({ Metadata: { [ASSERTION_LABELS_METADATA]: [{ label: 'x', logicalId: 'X', resultOutput: 'AssertionResultsX' }] }, Outputs: {} }),
    ).toThrow(/AssertionResultsX is not an output/);
  });

  it('names the assertion a CloudFormation event line is about', () => {
    const [first, second] = plan.steps;
    const line = (status: string, id: string) =>
      `FaceSignWebhooksIntegAssertions | 12/45 | 10:31:02 AM | ${status} | Custom::DeployAssert@SdkCallLambdainvoke | ${id}/Default/Default (${id}) `;
    expect(describeProgress(line('CREATE_IN_PROGRESS', first.logicalId), plan.steps)).toBe(`asserting (1/${plan.steps.length}) ${first.label}`);
    expect(describeProgress(line('CREATE_COMPLETE', second.logicalId), plan.steps)).toBe(`  passed (2/${plan.steps.length}) ${second.label}`);
    expect(describeProgress(line('CREATE_FAILED', first.logicalId), plan.steps)).toMatch(/^ {2}FAILED \(1\//);
    // The Lambda permission beside an invoke has a longer logical id: not the assertion itself.
    expect(describeProgress(line('CREATE_IN_PROGRESS', `${first.logicalId}InvokeFE5DA7CD`), plan.steps)).toBeUndefined();
  });
});

function firstLogicalId(template: Template, type: string, prefix: string): string {
  const id = Object.keys(template.findResources(type)).find((k) => k.startsWith(prefix));
  if (!id) throw new Error(`no ${type} whose logical id starts with ${prefix}`);
  return id;
}
