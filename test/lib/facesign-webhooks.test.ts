import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { describe, expect, it } from 'vitest';
import { FaceSignWebhooks, FaceSignWebhooksStack, type FaceSignWebhooksProps } from '../../lib';
import { ENV } from '../../contract/function-environment';

/** Synthesises without bundling: these tests are about the template, not the bundles. */
function synth(props?: FaceSignWebhooksProps): Template {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  return Template.fromStack(new FaceSignWebhooksStack(app, 'Test', { webhooks: props }));
}

function construct(props: FaceSignWebhooksProps, build?: (stack: Stack) => Partial<FaceSignWebhooksProps>) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Custom');
  const webhooks = new FaceSignWebhooks(stack, 'FaceSign', { ...props, ...build?.(stack) });
  return { webhooks, template: Template.fromStack(stack) };
}

function functionNamed(template: Template, service: string) {
  const found = template.findResources('AWS::Lambda::Function', {
    Properties: { Environment: { Variables: { POWERTOOLS_SERVICE_NAME: service } } },
  });
  const [logicalId] = Object.keys(found);
  expect(logicalId, `function ${service}`).toBeDefined();
  return { logicalId, properties: found[logicalId].Properties };
}

function policyStatementsOf(template: Template, functionLogicalId: string) {
  const role = template.findResources('AWS::Lambda::Function')[functionLogicalId].Properties.Role['Fn::GetAtt'][0];
  const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: role }] } });
  return Object.values(policies).flatMap(
    (p) => p.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown; Effect: string }>,
  );
}

function expectOnlyXrayOnWildcard(statements: Array<{ Action: string | string[]; Resource: unknown }>) {
  for (const s of statements) {
    if (s.Resource === '*') expect(actionsOf([s])).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
  }
}

const actionsOf = (statements: Array<{ Action: string | string[] }>) => statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])).sort();

describe('FaceSignWebhooks: the synthesized template', () => {
  const template = synth();

  // The API, its stage and its access log: test/lib/front-door.test.ts.

  it('leaves KmsKeyIdentifier out of the event archive, so EventBridge encrypts it with its AWS-owned key', () => {
    const archives = Object.values(template.findResources('AWS::Events::Archive'));
    expect(archives).toHaveLength(1);
    expect(Object.keys(archives[0].Properties)).not.toContain('KmsKeyIdentifier');
  });

  it('reserves no Lambda concurrency by default, so the first deploy succeeds in a new account; a throttled verifier pages', () => {
    // Any reservation needs an account quota of 100 plus the reservation (docs/reference.md "Capacity").
    for (const fn of Object.values(template.findResources('AWS::Lambda::Function'))) {
      expect(fn.Properties.ReservedConcurrentExecutions).toBeUndefined();
    }
    const throttles = Object.values(template.findResources('AWS::CloudWatch::Alarm')).find((a) => /-Verifier-Throttles-Warning$/.test(a.Properties.AlarmName));
    expect(throttles?.Properties).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Throttles',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionNamed(template, 'facesign-verifier').logicalId } }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it('lets the processor write events/, media/, quarantine/ and conflicts/, and nothing else', () => {
    const statements = policyStatementsOf(template, functionNamed(template, 'facesign-processor').logicalId);
    const put = statements.find((s) => [s.Action].flat().includes('s3:PutObject'))!;
    expect(JSON.stringify(put.Resource)).toMatch(/\/events\/\*.*\/media\/\*.*\/quarantine\/\*.*\/conflicts\/\*/);
    expect(put.Resource as unknown[]).toHaveLength(4);
  });

  it('outputs the full webhook URL and the ARNs an operator needs', () => {
    const outputs = template.findOutputs('*');
    expect(JSON.stringify(outputs.WebhookUrl.Value)).toContain('/webhooks/facesign');
    for (const name of ['SigningSecretArn', 'BucketName', 'QueueUrl', 'QueueArn', 'DeadLetterQueueUrl', 'DeadLetterQueueArn']) {
      expect(outputs[name], name).toBeDefined();
    }
  });

  it('creates the signing secret as an empty secrets list, so an unset secret is recognisable', () => {
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: { SecretStringTemplate: '{"secrets":[]}', GenerateStringKey: 'placeholder' },
    });
  });

  it('encrypts both queues, enforces SSL on them, and redrives after 5 receives to a 14-day DLQ', () => {
    template.resourceCountIs('AWS::SQS::Queue', 2);
    const [keyId] = Object.keys(template.findResources('AWS::KMS::Key', { Properties: { Description: Match.stringLikeRegexp('identity media') } }));
    template.hasResourceProperties('AWS::SQS::Queue', {
      KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
      MessageRetentionPeriod: 1209600,
      MaximumMessageSize: 1048576,
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
      VisibilityTimeout: 240,
      // A body of maxBodyBytes (at most 760,000, even base64-encoded) plus attributes fits; 256 KiB would not.
      MaximumMessageSize: 1048576,
      RedrivePolicy: { maxReceiveCount: 5, deadLetterTargetArn: Match.anyValue() },
    });
    const policies = template.findResources('AWS::SQS::QueuePolicy');
    expect(Object.keys(policies)).toHaveLength(2);
    for (const policy of Object.values(policies)) {
      expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
    }
  });

  it('sets the visibility timeout to twice the processor timeout: a crashed batch is back within 5 minutes, inside the URL life', () => {
    const processor = functionNamed(template, 'facesign-processor');
    const queue = Object.values(template.findResources('AWS::SQS::Queue', { Properties: { RedrivePolicy: Match.anyValue() } }))[0];
    expect(queue.Properties.VisibilityTimeout).toBe(processor.properties.Timeout * 2);
    expect(queue.Properties.VisibilityTimeout).toBeLessThanOrEqual(300);
    // Lambda refuses an event source whose queue visibility is shorter than the function timeout.
    expect(queue.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(processor.properties.Timeout);
  });

  it('subscribes the processor with partial batch failures and bounded concurrency', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 5,
      ScalingConfig: { MaximumConcurrency: 20 },
    });
  });

  it('keys the on-demand idempotency table on id with TTL on expiration', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
      BillingMode: 'PAY_PER_REQUEST',
    });
  });

  it('blocks public access, encrypts, aborts stale multipart uploads, retains the bucket, and enforces TLS', () => {
    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: {
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            { ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: Match.anyValue() }, BucketKeyEnabled: true },
          ],
        },
        LifecycleConfiguration: {
          Rules: Match.arrayWith([Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' })]),
        },
      },
    });
    const statements = Object.values(template.findResources('AWS::S3::BucketPolicy'))[0].Properties.PolicyDocument.Statement;
    expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
    expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }));
  });

  it.each([
    ['facesign-verifier', 512, 10],
    ['facesign-processor', 1024, 120],
  ])('runs %s on Node.js 24, arm64, JSON logs to its own log group with retention', (service, memory, timeout) => {
    const fn = functionNamed(template, service);
    expect(fn.properties).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      MemorySize: memory,
      Timeout: timeout,
      LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: expect.any(String) } },
    });
    // Source maps ship with the bundle but are not loaded at start unless asked (cold start).
    expect(fn.properties.Environment.Variables.NODE_OPTIONS).toBeUndefined();
  });

  it('gives every log group a retention', () => {
    const groups = Object.values(template.findResources('AWS::Logs::LogGroup'));
    // The verifier's, the processor's, the reverifier's and the API access log.
    expect(groups).toHaveLength(4);
    for (const g of groups) expect(g.Properties.RetentionInDays).toBe(30);
  });

  it('configures the verifier with the secret, queue, tolerance, body limit and cache age', () => {
    const vars = functionNamed(template, 'facesign-verifier').properties.Environment.Variables;
    expect(vars).toMatchObject({
      [ENV.signingSecretArn]: { Ref: expect.any(String) },
      [ENV.queueUrl]: { Ref: expect.any(String) },
      [ENV.signatureTolerance]: String(7 * 24 * 3600),
      [ENV.maxBodyBytes]: '262144',
      [ENV.signingSecretCacheTtl]: '300',
    });
  });

  it('configures the processor with its resources and media policy, never with plain-http loopback', () => {
    const vars = functionNamed(template, 'facesign-processor').properties.Environment.Variables;
    expect(vars).toMatchObject({
      [ENV.bucketName]: { Ref: expect.any(String) },
      [ENV.idempotencyTableName]: { Ref: expect.any(String) },
      [ENV.queueUrl]: { Ref: expect.any(String) },
      [ENV.deadLetterQueueUrl]: { Ref: expect.any(String) },
      [ENV.idempotencyWindow]: '604800',
      [ENV.maxReceiveCount]: '5',
      [ENV.allowedMediaHosts]: 'media.facesign.ai',
      [ENV.mediaDownloadTimeout]: '90',
      [ENV.maxMediaBytes]: String(1024 ** 3),
    });
    expect(vars[ENV.mediaAllowHttpLoopback]).toBeUndefined();
  });

  it('grants the verifier only reading the secret, sending to the queue and holding refused deliveries', () => {
    const statements = policyStatementsOf(template, functionNamed(template, 'facesign-verifier').logicalId);
    expect(actionsOf(statements)).toEqual(
      [
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'secretsmanager:DescribeSecret',
        'secretsmanager:GetSecretValue',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:SendMessage',
        // Sending to the KMS-encrypted queue (through SQS only).
        'kms:GenerateDataKey',
        'kms:Decrypt',
        // Holding a refused delivery in FaceSign's form (test/lib/hold.test.ts): its own objects and counters only.
        's3:PutObject',
        'kms:GenerateDataKey',
        'kms:Decrypt',
        'dynamodb:UpdateItem',
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
      ].sort(),
    );
    expectOnlyXrayOnWildcard(statements);
  });

  it('grants the processor only what it calls, on the resources it touches', () => {
    const statements = policyStatementsOf(template, functionNamed(template, 'facesign-processor').logicalId);
    expect(actionsOf(statements)).toEqual(
      [
        'dynamodb:DeleteItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        's3:AbortMultipartUpload',
        's3:PutObject',
        's3:ListBucket',
        's3:GetObject',
        'sqs:ChangeMessageVisibility',
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:ReceiveMessage',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:SendMessage',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
        'events:PutEvents',
        // Decrypting what the event source receives; sending to the DLQ; the SSE-KMS multipart upload.
        'kms:Decrypt',
        'kms:GenerateDataKey',
        'kms:Decrypt',
        'kms:GenerateDataKey',
        'kms:Decrypt',
      ].sort(),
    );
    expectOnlyXrayOnWildcard(statements);
    const [busId] = Object.keys(template.findResources('AWS::Events::EventBus'));
    expect(statements.find((st) => actionsOf([st]).includes('events:PutEvents'))?.Resource).toEqual({ 'Fn::GetAtt': [busId, 'Arn'] });
    const s3Statement = statements.find((s) => actionsOf([s]).includes('s3:PutObject'));
    expect(JSON.stringify(s3Statement?.Resource)).toMatch(/\/events\/\*.*\/media\/\*.*\/conflicts\/\*/);
    // Reads: its own media only (a stored file counts as done), and listing only under media/.
    expect(JSON.stringify(statements.find((s) => actionsOf([s]).includes('s3:GetObject'))?.Resource)).toMatch(/\/media\/\*"/);
    expect((statements.find((s) => actionsOf([s]).includes('s3:ListBucket')) as { Condition?: unknown } | undefined)?.Condition).toEqual({
      StringLike: { 's3:prefix': ['media/*'] },
    });
  });

  it("uses its own roles, with no managed policy, logging only to each function's own log group", () => {
    for (const service of ['facesign-verifier', 'facesign-processor']) {
      const fn = functionNamed(template, service);
      const roleId = fn.properties.Role['Fn::GetAtt'][0];
      expect(template.findResources('AWS::IAM::Role')[roleId].Properties.ManagedPolicyArns).toBeUndefined();
      const logs = policyStatementsOf(template, fn.logicalId).find((s) => actionsOf([s]).includes('logs:PutLogEvents'));
      expect(logs?.Resource).toEqual({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [fn.properties.LoggingConfig.LogGroup.Ref, 'Arn'] }, ':*']] });
    }
  });
});

describe('FaceSignWebhooks: props', () => {
  it('applies every tuning prop to the template', () => {
    const { template } = construct({
      signatureTolerance: Duration.minutes(2),
      signingSecretCacheTtl: Duration.minutes(1),
      maxBodyBytes: 64 * 1024,
      maxReceiveCount: 3,
      processorBatchSize: 2,
      processorMaxConcurrency: 4,
      processorTimeout: Duration.minutes(3),
      processorMemorySize: 2048,
      verifierMemorySize: 256,
      verifierReservedConcurrency: 12,
      idempotencyWindow: Duration.days(2),
      allowedMediaHosts: ['Media.FaceSign.ai', '*.cdn.facesign.ai'],
      mediaDownloadTimeout: Duration.seconds(60),
      maxMediaBytes: 1000,
      logRetention: logs.RetentionDays.ONE_WEEK,
      mediaRetention: Duration.days(365),
      archiveRetention: Duration.days(365),
      sourceMapStackTraces: true,
    });
    const verifier = functionNamed(template, 'facesign-verifier').properties;
    const processor = functionNamed(template, 'facesign-processor').properties;
    expect(verifier.MemorySize).toBe(256);
    expect(verifier.ReservedConcurrentExecutions).toBe(12);
    expect(verifier.Environment.Variables).toMatchObject({ [ENV.signatureTolerance]: '120', [ENV.maxBodyBytes]: '65536', [ENV.signingSecretCacheTtl]: '60' });
    expect(processor).toMatchObject({ MemorySize: 2048, Timeout: 180 });
    expect(processor.Environment.Variables.NODE_OPTIONS).toBe('--enable-source-maps');
    expect(verifier.Environment.Variables.NODE_OPTIONS).toBe('--enable-source-maps');
    expect(processor.Environment.Variables).toMatchObject({
      [ENV.maxReceiveCount]: '3',
      [ENV.idempotencyWindow]: String(2 * 86400),
      [ENV.allowedMediaHosts]: 'media.facesign.ai,*.cdn.facesign.ai',
      [ENV.mediaDownloadTimeout]: '60',
      [ENV.maxMediaBytes]: '1000',
    });
    template.hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: 360, RedrivePolicy: { maxReceiveCount: 3, deadLetterTargetArn: Match.anyValue() } });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { BatchSize: 2, ScalingConfig: { MaximumConcurrency: 4 } });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ ExpirationInDays: 365 })]) },
    });
  });

  it('follows the idempotency window with the signature tolerance unless a stricter one is given', () => {
    const verifierTolerance = (props: FaceSignWebhooksProps) =>
      functionNamed(construct(props).template, 'facesign-verifier').properties.Environment.Variables[ENV.signatureTolerance];
    expect(verifierTolerance({ idempotencyWindow: Duration.days(2) })).toBe(String(2 * 86400));
    expect(verifierTolerance({ idempotencyWindow: Duration.days(2), signatureTolerance: Duration.hours(1) })).toBe('3600');
  });

  it('uses an existing secret and bucket instead of creating them, and grants on them', () => {
    const { webhooks, template } = construct({}, (stack) => ({
      existingSigningSecretObj: secretsmanager.Secret.fromSecretNameV2(stack, 'Existing', 'facesign/signing'),
      existingBucketObj: s3.Bucket.fromBucketName(stack, 'ExistingBucket', 'my-archive'),
    }));
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    template.resourceCountIs('AWS::S3::Bucket', 0);
    expect(webhooks.bucket.bucketName).toBe('my-archive');
    const vars = functionNamed(template, 'facesign-processor').properties.Environment.Variables;
    expect(vars[ENV.bucketName]).toBe('my-archive');
    const statements = policyStatementsOf(template, functionNamed(template, 'facesign-processor').logicalId);
    expect(JSON.stringify(statements)).toContain('arn:');
    expect(JSON.stringify(statements)).toContain('my-archive/events/*');
  });

  it.each<[string, FaceSignWebhooksProps, RegExp]>([
    ['tolerance 0', { signatureTolerance: Duration.seconds(0) }, /signatureTolerance \(seconds\) must be an integer from 60 to 31622400, got 0/],
    [
      'tolerance beyond the idempotency window',
      { signatureTolerance: Duration.days(8) },
      /signatureTolerance must not exceed idempotencyWindow .*got 691200 s and 604800 s/,
    ],
    ['reserved concurrency 0', { verifierReservedConcurrency: 0 }, /verifierReservedConcurrency must be an integer from 1 to 10000, got 0/],
    ['a stage rate limit of 0', { throttlingRateLimit: 0 }, /throttlingRateLimit must be an integer from 1 to 100000, got 0/],
    ['body limit over SQS', { maxBodyBytes: 2_000_000 }, /maxBodyBytes must be an integer from 1024 to 760000, got 2000000/],
    ['concurrency 1', { processorMaxConcurrency: 1 }, /processorMaxConcurrency must be an integer from 2 to 1000, got 1/],
    ['batch 11', { processorBatchSize: 11 }, /processorBatchSize must be an integer from 1 to 10, got 11/],
    [
      'timeout too short for downloads',
      { processorTimeout: Duration.seconds(60) },
      /must exceed mediaDownloadTimeout by at least 20 seconds, got 60 s and 90 s/,
    ],
    [
      'timeout whose visibility would outlive the media URL',
      { processorTimeout: Duration.minutes(8) },
      /processorTimeout \(seconds\) must be an integer from 30 to 420, got 480/,
    ],
    ['bad host', { allowedMediaHosts: ['https://media.facesign.ai'] }, /got "https:\/\/media.facesign.ai"/],
    ['no hosts', { allowedMediaHosts: [] }, /at least one host/],
  ])('refuses %s with a message showing the value', (_name, props, message) => {
    expect(() => construct(props)).toThrow(message);
  });

  it('exposes every resource it creates', () => {
    const { webhooks } = construct({});
    for (const field of [
      'api',
      'frontDoor',
      'signingSecret',
      'queue',
      'deadLetterQueue',
      'idempotencyTable',
      'bucket',
      'verifier',
      'processor',
      'verifierLogGroup',
      'processorLogGroup',
      'accessLogGroup',
    ] as const) {
      expect(webhooks[field], field).toBeDefined();
    }
    expect(webhooks.webhookUrl).toContain('/webhooks/facesign');
  });
});
