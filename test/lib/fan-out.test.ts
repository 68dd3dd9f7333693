import { App, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { EVENT_BRIDGE_SOURCE, FaceSignWebhooks, type FaceSignWebhooksProps } from '../../lib';
import { ENV } from '../../contract/function-environment';

function setup(props: FaceSignWebhooksProps | ((stack: Stack) => FaceSignWebhooksProps) = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'FanOut');
  const webhooks = new FaceSignWebhooks(stack, 'FaceSign', typeof props === 'function' ? props(stack) : props);
  return { stack, webhooks, template: () => Template.fromStack(stack) };
}

function processorEnv(template: Template) {
  const fn = Object.values(
    template.findResources('AWS::Lambda::Function', { Properties: { Environment: { Variables: { POWERTOOLS_SERVICE_NAME: 'facesign-processor' } } } }),
  )[0];
  return fn.Properties.Environment.Variables;
}

describe('EventBridge fan-out', () => {
  it('creates a bus and tells the processor its name', () => {
    const { template } = setup();
    const t = template();
    const [busId] = Object.keys(t.findResources('AWS::Events::EventBus'));
    expect(processorEnv(t)[ENV.eventBusName]).toEqual({ Ref: busId });
  });

  it('onEvent routes one type to a target with a rule on the bus', () => {
    const { stack, webhooks, template } = setup();
    const queue = new sqs.Queue(stack, 'Mine');
    const rule = webhooks.onEvent('SessionStatus', { eventTypes: ['session.status'], target: new targets.SqsQueue(queue) });
    expect(rule).toBeInstanceOf(events.Rule);
    const t = template();
    const [busId] = Object.keys(t.findResources('AWS::Events::EventBus'));
    t.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: busId },
      EventPattern: { source: [EVENT_BRIDGE_SOURCE], 'detail-type': ['session.status'] },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('Mine'), 'Arn'] } })],
    });
  });

  it('onEvent takes several types, and gives each call its own rule under the id it was given', () => {
    const { stack, webhooks, template } = setup();
    const fn = new lambda.Function(stack, 'Handler', {
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('export const handler = async () => {}'),
    });
    const eventTypes = ['media.user_photo', 'media.document_photo'];
    const a = webhooks.onEvent('Photos', { eventTypes, target: new targets.LambdaFunction(fn) });
    const b = webhooks.onEvent('PhotosAudit', { eventTypes, target: new targets.LambdaFunction(fn) });
    expect(a.node.id).toBe('Photos');
    expect(b.node.id).toBe('PhotosAudit');
    expect(webhooks.node.tryFindChild('PhotosAuditDeadLetterQueue')).toBeInstanceOf(sqs.Queue);
    // The onEvent rules: the signing-secret watch's rule matches aws.secretsmanager.
    const rules = Object.values(template().findResources('AWS::Events::Rule', { Properties: { EventPattern: { source: ['facesign.webhooks'] } } }));
    expect(rules).toHaveLength(2);
    for (const r of rules) expect(r.Properties.EventPattern['detail-type']).toEqual(['media.user_photo', 'media.document_photo']);
  });

  it("gives a Lambda target the consumer's dead-letter queue as on-failure destination, which the consumer alarm counts", () => {
    const { stack, webhooks, template } = setup();
    const fn = new lambda.Function(stack, 'Handler', {
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('export const handler = async () => {}'),
    });
    webhooks.onEvent('Status', { eventTypes: ['session.status'], target: new targets.LambdaFunction(fn) });
    // The same function again: it has its destination already, so a warning says so, and nothing is replaced.
    webhooks.onEvent('StatusAgain', { eventTypes: ['session.status'], target: new targets.LambdaFunction(fn) });
    const t = template();
    const [dlqId] = Object.keys(t.findResources('AWS::SQS::Queue')).filter((id) => id.startsWith('FaceSignStatusDeadLetterQueue'));
    t.resourceCountIs('AWS::Lambda::EventInvokeConfig', 1);
    t.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: Match.stringLikeRegexp('^Handler') },
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [dlqId, 'Arn'] } } },
    });
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Action: Match.arrayWith(['sqs:SendMessage']), Resource: { 'Fn::GetAtt': [dlqId, 'Arn'] } })]),
      },
    });
    const alarm = Object.values(t.findResources('AWS::CloudWatch::Alarm', { Properties: { AlarmName: 'FanOut-ConsumerStatus-FailedDeliveries-Critical' } }))[0];
    const sent = alarm.Properties.Metrics.find(
      (m: { MetricStat?: { Metric: { MetricName: string } } }) => m.MetricStat?.Metric.MetricName === 'NumberOfMessagesSent',
    );
    expect(sent.MetricStat.Metric.Dimensions).toEqual([{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } }]);
    Annotations.fromStack(stack).hasWarning(
      '*',
      Match.stringLikeRegexp('onEvent "StatusAgain": the Lambda target .* already has asynchronous invocation settings'),
    );
  });

  it('onEvent refuses an empty or malformed type list, showing it', () => {
    const { webhooks, stack } = setup();
    const target = new targets.SqsQueue(new sqs.Queue(stack, 'Q'));
    expect(() => webhooks.onEvent('None', { eventTypes: [], target })).toThrow('onEvent needs eventTypes, one or more event type names, got []');
    expect(() => webhooks.onEvent('Blank', { eventTypes: ['session.status', ' '], target })).toThrow('got ["session.status"," "]');
    // The types (eventTypes an array, target an IRuleTarget) are TypeScript's to check, not run time's.
    expect(webhooks.node.tryFindChild('None') ?? webhooks.node.tryFindChild('Blank')).toBeUndefined();
  });

  it('onEvent refuses an id that is not PascalCase or is already taken, showing it', () => {
    const { webhooks, stack } = setup();
    const options = { eventTypes: ['session.status'], target: new targets.SqsQueue(new sqs.Queue(stack, 'Q')) };
    expect(() => webhooks.onEvent('session.status', options)).toThrow('onEvent id must be PascalCase letters and digits, got "session.status"');
    expect(() => webhooks.onEvent('', options)).toThrow('got ""');
    webhooks.onEvent('Sessions', options);
    const taken = 'is already taken in this construct (by an earlier onEvent call or one of its own resources); choose another id';
    expect(() => webhooks.onEvent('Sessions', options)).toThrow(`onEvent id "Sessions" ${taken}`);
    // The id names the dead-letter queue too, so that name is taken as well.
    expect(() => webhooks.onEvent('SessionsDeadLetterQueue', options)).toThrow(`onEvent id "SessionsDeadLetterQueue" ${taken}`);
    webhooks.onEvent('AuditDeadLetterQueue', options);
    expect(() => webhooks.onEvent('Audit', options)).toThrow(`onEvent id "Audit" would name its dead-letter queue "AuditDeadLetterQueue", which ${taken}`);
  });

  it.each(['Monitoring', 'Queue', 'DeadLetterQueue', 'RestApi'])("onEvent refuses %s, the id of one of the construct's own resources, as taken", (id) => {
    const { webhooks, stack } = setup();
    const options = { eventTypes: ['session.status'], target: new targets.SqsQueue(new sqs.Queue(stack, 'Q')) };
    expect(() => webhooks.onEvent(id, options)).toThrow(`onEvent id "${id}" is already taken in this construct`);
  });

  it('onEvent passes retryAttempts and maxEventAge on, and refuses values EventBridge would refuse at deploy, showing them', () => {
    const { webhooks, stack, template } = setup();
    const target = new targets.SqsQueue(new sqs.Queue(stack, 'Q'));
    webhooks.onEvent('Bounds', { eventTypes: ['session.status'], target, retryAttempts: 0, maxEventAge: Duration.seconds(60) });
    template().hasResourceProperties('AWS::Events::Rule', {
      Targets: [Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 } })],
    });
    const attempt = (extra: { retryAttempts?: number; maxEventAge?: Duration }) => () =>
      webhooks.onEvent('Refused', { eventTypes: ['session.status'], target, ...extra });
    const attempts = "onEvent retryAttempts must be an integer from 0 to 185 (EventBridge's limits), got";
    expect(attempt({ retryAttempts: 186 })).toThrow(`${attempts} 186`);
    expect(attempt({ retryAttempts: -1 })).toThrow(`${attempts} -1`);
    expect(attempt({ retryAttempts: 2.5 })).toThrow(`${attempts} 2.5`);
    const age = "onEvent maxEventAge must be whole seconds from 1 minute to 1 day (EventBridge's limits), got";
    expect(attempt({ maxEventAge: Duration.days(3) })).toThrow(`${age} 3 days`);
    expect(attempt({ maxEventAge: Duration.seconds(59) })).toThrow(`${age} 59 seconds`);
    expect(attempt({ maxEventAge: Duration.millis(60_500) })).toThrow(`${age} 1 minute 500 millis`);
    // Refused before anything was created.
    expect(webhooks.node.tryFindChild('Refused')).toBeUndefined();
    expect(attempt({ retryAttempts: 185, maxEventAge: Duration.hours(24) })).not.toThrow();
  });

  it('onEvent warns, never refuses, for an event type FaceSign does not document', () => {
    const { webhooks, stack } = setup();
    const target = new targets.SqsQueue(new sqs.Queue(stack, 'Q'));
    const rule = webhooks.onEvent('Misspelled', { eventTypes: ['session.status', 'session.stauts'], target });
    webhooks.onEvent('Documented', { eventTypes: ['session.status', 'media.user_photo'], target });
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('not a documented FaceSign event type'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0].id).toBe(`/${rule.node.path}`);
    expect(warnings[0].entry.data).toMatch(
      /^onEvent "Misspelled": "session.stauts" is not a documented FaceSign event type \(session.status, .*\); the rule matches it exactly as written, so check its spelling/,
    );
  });

  it('publishes to an existing bus when given one, creating none', () => {
    const { template } = setup((stack) => ({ existingEventBusObj: events.EventBus.fromEventBusName(stack, 'Bus', 'company-bus') }));
    const t = template();
    t.resourceCountIs('AWS::Events::EventBus', 0);
    expect(processorEnv(t)[ENV.eventBusName]).toBe('company-bus');
  });
});

describe('bring your own resources', () => {
  it.each<[string, (stack: Stack) => FaceSignWebhooksProps]>([
    [
      'existingSigningSecretObj and signingSecretProps',
      (s) => ({ existingSigningSecretObj: secretsmanager.Secret.fromSecretNameV2(s, 'S', 'x'), signingSecretProps: { secretName: 'y' } }),
    ],
    ['existingBucketObj and bucketProps', (s) => ({ existingBucketObj: s3.Bucket.fromBucketName(s, 'B', 'xyz-bucket'), bucketProps: { versioned: true } })],
    [
      'existingEventBusObj and eventBusProps',
      (s) => ({ existingEventBusObj: events.EventBus.fromEventBusName(s, 'E', 'x'), eventBusProps: { eventBusName: 'y' } }),
    ],
    [
      'existingAlarmTopicObj and alarmTopicProps',
      (s) => ({ existingAlarmTopicObj: sns.Topic.fromTopicArn(s, 'T', 'arn:aws:sns:eu-west-1:123456789012:x'), alarmTopicProps: { topicName: 'y' } }),
    ],
  ])('refuses %s together', (names, build) => {
    const [existing, props] = names.split(' and ');
    expect(() => setup(build)).toThrow(`${existing} and ${props} are mutually exclusive: pass an existing resource or settings for a new one, got both`);
  });

  it('refuses archiveRetention for a bucket it does not own', () => {
    expect(() => setup((s) => ({ existingBucketObj: s3.Bucket.fromBucketName(s, 'B', 'xyz-bucket'), archiveRetention: Duration.days(30) }))).toThrow(
      /created bucket only/,
    );
  });

  it('applies settings for new resources, but never lets bucketProps open the bucket', () => {
    const { template } = setup((stack) => ({
      signingSecretProps: { secretName: 'facesign/signing' },
      eventBusProps: { eventBusName: 'facesign-events' },
      alarmTopicProps: { topicName: 'facesign-alarms', masterKey: new kms.Key(stack, 'MyKey') },
      bucketProps: {
        versioned: true,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ACLS,
        enforceSSL: false,
        lifecycleRules: [{ id: 'Mine', expiration: Duration.days(400) }],
      },
    }));
    const t = template();
    t.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: 'facesign/signing',
      GenerateSecretString: Match.objectLike({ SecretStringTemplate: '{"secrets":[]}' }),
    });
    t.hasResourceProperties('AWS::Events::EventBus', { Name: 'facesign-events' });
    t.hasResourceProperties('AWS::SNS::Topic', { TopicName: 'facesign-alarms' });
    // The alarm topic's key and the data key.
    t.resourceCountIs('AWS::KMS::Key', 2);
    t.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ Id: 'AbortIncompleteMultipartUploads' }), Match.objectLike({ Id: 'Mine' })]) },
    });
    const policies = Object.values(t.findResources('AWS::S3::BucketPolicy')).map((p) => JSON.stringify(p.Properties.PolicyDocument));
    expect(policies.filter((p) => p.includes('aws:SecureTransport')).length).toBeGreaterThanOrEqual(2);
  });
});
