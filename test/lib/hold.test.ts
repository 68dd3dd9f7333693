/**
 * The hold of refused deliveries and their re-verification in the synthesized template: where held
 * deliveries live and for how long, that the verifier may only write them and update its counters,
 * that only the reverifier reads and removes them, and the retention bound at synth.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { HELD_PREFIX } from '../../contract/bucket-layout';
import { ENV } from '../../contract/function-environment';
import { FaceSignWebhooks, FaceSignWebhooksStack, type FaceSignWebhooksProps } from '../../lib';

type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: Record<string, Record<string, unknown>> };

function build(props: FaceSignWebhooksProps = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Held');
  new FaceSignWebhooks(stack, 'FaceSign', props);
  return Template.fromStack(stack);
}

const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const resources = (s: Statement) => JSON.stringify(s.Resource);

function functionOf(template: Template, service: string) {
  const fns = template.findResources('AWS::Lambda::Function', { Properties: { Environment: { Variables: { POWERTOOLS_SERVICE_NAME: service } } } });
  expect(Object.keys(fns), service).toHaveLength(1);
  return Object.values(fns)[0];
}

function statementsOf(template: Template, service: string): Statement[] {
  const role = functionOf(template, service).Properties.Role['Fn::GetAtt'][0];
  const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: role }] } });
  return Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

/** Every S3 action a role has, with the resources it has it on. */
function s3Grants(statements: Statement[]): Array<[string, string]> {
  return statements.flatMap((s) =>
    actions(s)
      .filter((a) => a.startsWith('s3:'))
      .map((a) => [a, resources(s)] as [string, string]),
  );
}

/** The archive bucket's logical id (the access log bucket is the other one). */
function bucketId(template: Template): string {
  const [id] = Object.keys(
    template.findResources('AWS::S3::Bucket', {
      Properties: { BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' } }] } },
    }),
  );
  return id;
}
const heldObjects = (template: Template) => JSON.stringify({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId(template), 'Arn'] }, `/${HELD_PREFIX}*`]] });

describe('held deliveries in the template', () => {
  const template = build();

  it('expire from held/ after holdRetention (7 days by default)', () => {
    const [bucket] = Object.values(
      template.findResources('AWS::S3::Bucket', {
        Properties: { BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' } }] } },
      }),
    );
    const rules = bucket.Properties.LifecycleConfiguration.Rules as Array<Record<string, unknown>>;
    expect(rules.find((r) => r.Id === 'ExpireHeld')).toEqual({
      Id: 'ExpireHeld',
      Prefix: HELD_PREFIX,
      ExpirationInDays: 7,
      NoncurrentVersionExpiration: { NoncurrentDays: 1 },
      Status: 'Enabled',
    });
    const custom = build({ holdRetention: Duration.days(3) });
    const [b] = Object.values(custom.findResources('AWS::S3::Bucket', { Properties: { LifecycleConfiguration: {} } })).filter((r) =>
      (r.Properties.LifecycleConfiguration.Rules as Array<{ Id: string }>).some((x) => x.Id === 'ExpireHeld'),
    );
    expect(
      (b.Properties.LifecycleConfiguration.Rules as Array<{ Id: string; ExpirationInDays: number }>).find((r) => r.Id === 'ExpireHeld')!.ExpirationInDays,
    ).toBe(3);
  });

  it('the verifier may only PutObject under held/ (no read, no list, no delete), its key use through S3 only', () => {
    const statements = statementsOf(template, 'facesign-verifier');
    const grants = s3Grants(statements);
    expect(grants).toEqual([['s3:PutObject', expect.any(String)]]);
    expect(grants[0][1]).toContain(`/${HELD_PREFIX}*`);
    const dataKey = statements.find((s) => actions(s).includes('kms:GenerateDataKey') && JSON.stringify(s.Condition).includes('s3.'));
    expect(dataKey && actions(dataKey)).toEqual(['kms:GenerateDataKey', 'kms:Decrypt']);
  });

  it('the verifier may update only the hold counters in the idempotency table (dynamodb:LeadingKeys)', () => {
    const statements = statementsOf(template, 'facesign-verifier').filter((s) => actions(s).some((a) => a.startsWith('dynamodb:')));
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: 'dynamodb:UpdateItem',
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^FaceSignIdempotencyTable/), 'Arn'] },
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['hold-rate#*'] } },
      },
    ]);
  });

  it('the verifier is told where to hold, and under which key', () => {
    const variables = functionOf(template, 'facesign-verifier').Properties.Environment.Variables;
    expect(variables[ENV.holdBucketName]).toEqual({ Ref: bucketId(template) });
    expect(variables[ENV.holdCounterTableName]).toEqual({ Ref: expect.stringMatching(/^FaceSignIdempotencyTable/) });
    expect(variables[ENV.encryptionKeyArn]).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^FaceSignEncryptionKey/), 'Arn'] });
    expect(variables[ENV.maxHeldPerHour]).toBe('1000');
  });

  it('only the reverifier lists, reads and removes held/, and decrypts through S3 only', () => {
    const statements = statementsOf(template, 'facesign-reverifier');
    const grants = s3Grants(statements);
    expect(grants.map(([a]) => a).sort()).toEqual(['s3:DeleteObject', 's3:GetObject', 's3:ListBucket']);
    for (const [action, resource] of grants) {
      if (action === 's3:ListBucket') continue;
      expect(resource, action).toBe(heldObjects(template));
    }
    const list = statements.find((s) => actions(s).includes('s3:ListBucket'))!;
    expect(list.Condition).toEqual({ StringLike: { 's3:prefix': [`${HELD_PREFIX}*`] } });
    const decrypt = statements.find((s) => actions(s).includes('kms:Decrypt') && JSON.stringify(s.Condition).includes('s3.'));
    expect(decrypt).toBeDefined();
    // No other role reads held/: the processor's grants and the consumer read grants never name it.
    const processorGrants = s3Grants(statementsOf(template, 'facesign-processor'));
    expect(processorGrants.some(([, resource]) => resource.includes(HELD_PREFIX))).toBe(false);
  });

  it('the reverifier reads the secret, sends to the queue, runs for up to 5 minutes, and reserves no concurrency', () => {
    const fn = functionOf(template, 'facesign-reverifier');
    expect(fn.Properties).toMatchObject({ Timeout: 300 });
    // A reservation would fail the deploy in a new account (Lambda keeps 100 unreserved).
    expect(fn.Properties.ReservedConcurrentExecutions).toBeUndefined();
    const variables = fn.Properties.Environment.Variables;
    expect(variables[ENV.holdRetention]).toBe('7');
    expect(variables[ENV.holdBucketName]).toEqual({ Ref: bucketId(template) });
    const statements = statementsOf(template, 'facesign-reverifier');
    expect(statements.some((s) => actions(s).includes('secretsmanager:GetSecretValue'))).toBe(true);
    expect(statements.some((s) => actions(s).includes('sqs:SendMessage'))).toBe(true);
  });
});

describe('the consumer read grants', () => {
  it('grantReadArchive and grantReadMedia never reach held/ (unverified full event bodies, signed media URLs included)', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Held');
    const webhooks = new FaceSignWebhooks(stack, 'FaceSign');
    const reader = new iam.Role(stack, 'Reader', { assumedBy: new iam.AccountRootPrincipal() });
    webhooks.grantReadArchive(reader);
    webhooks.grantReadMedia(reader);
    const template = Template.fromStack(stack);
    const policies = template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: stack.getLogicalId(reader.node.defaultChild as iam.CfnRole) }] },
    });
    const statements = Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
    const reads = s3Grants(statements);
    expect(reads.length).toBeGreaterThan(0);
    for (const [action, resource] of reads) expect(resource, action).not.toContain(HELD_PREFIX);
    expect(JSON.stringify(template.findResources('AWS::S3::BucketPolicy'))).not.toContain(HELD_PREFIX);
  });
});

describe('holdRetention and maxHeldPerHour at synth', () => {
  it('refuses a hold retention longer than the idempotency window, naming both', () => {
    expect(() => build({ holdRetention: Duration.days(8) })).toThrow(
      'holdRetention must not exceed idempotencyWindow (a held delivery re-verified later could be processed twice), got 8 days and 604800 s',
    );
    expect(() => build({ holdRetention: Duration.days(3), idempotencyWindow: Duration.days(2) })).toThrow(/got 3 days and 172800 s/);
    expect(() => build({ holdRetention: Duration.days(30), idempotencyWindow: Duration.days(30) })).not.toThrow();
  });

  it('follows a shorter idempotency window when not given; under a day, holds for the one day S3 counts, and the reverifier reads the window', () => {
    const template = build({ idempotencyWindow: Duration.days(2) });
    expect(functionOf(template, 'facesign-reverifier').Properties.Environment.Variables[ENV.holdRetention]).toBe('2');
    const short = functionOf(build({ idempotencyWindow: Duration.hours(12) }), 'facesign-reverifier').Properties.Environment.Variables;
    expect(short[ENV.holdRetention]).toBe('1');
    expect(short[ENV.idempotencyWindow]).toBe('43200');
    expect(() => build({ idempotencyWindow: Duration.hours(12), holdRetention: Duration.days(2) })).toThrow(/got 2 days and 43200 s/);
  });

  it('refuses a retention that is not whole days and a cap out of bounds', () => {
    expect(() => build({ holdRetention: Duration.hours(36) })).toThrow('holdRetention must be a whole number of days, got 1 day 12 hours');
    expect(() => build({ maxHeldPerHour: 0 })).toThrow('maxHeldPerHour must be an integer from 1 to 100000, got 0');
  });

  it("a bucket passed in gets no lifecycle rule (its lifecycle is the user's); the reverifier still removes expired holds", () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Existing');
    new FaceSignWebhooks(stack, 'FaceSign', { existingBucketObj: s3.Bucket.fromBucketName(stack, 'B', 'mine'), holdRetention: Duration.days(2) });
    const template = Template.fromStack(stack);
    const fn = functionOf(template, 'facesign-reverifier');
    expect(fn.Properties.Environment.Variables[ENV.holdRetention]).toBe('2');
  });
});

describe('the WrongSecretSuspected page', () => {
  it('tells a user of the installed construct, who has no npm run reverify, to invoke the reverifier Lambda', () => {
    const alarms = build().findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: 'WrongSecretSuspected' } });
    const [alarm] = Object.values(alarms);
    // The description links its runbook section; the long text, which says so, lives only there.
    expect(alarm.Properties.AlarmDescription).toMatch(/#verifier-wrongsecretsuspected$/);
    const operations = readFileSync(path.join(__dirname, '..', '..', 'docs', 'operations.md'), 'utf8');
    const section = operations.slice(operations.indexOf('#### Verifier-WrongSecretSuspected'), operations.indexOf('#### Verifier-HoldsDropped'));
    expect(section).toMatch(/npm run reverify`?\)?, or, with the construct installed in your own app, invoke its reverifier Lambda/);
  });
});

describe('the stack', () => {
  it('outputs the reverifier function name for npm run reverify', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new FaceSignWebhooksStack(app, 'Ops');
    const outputs = Template.fromStack(stack).findOutputs('ReverifierFunctionName');
    expect(Object.values(outputs)[0].Value).toEqual({ Ref: expect.stringMatching(/^FaceSignWebhooksReverifier/) });
  });
});
