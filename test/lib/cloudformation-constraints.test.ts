/**
 * What AWS documents about the resources this repository deploys, and that neither CDK nor
 * cfn-lint checks, held on the synthesized templates of the app and of the integration test
 * (test/support/deployed-templates.ts). Each constraint is one row of CONSTRAINTS: the AWS page
 * that states it, and a check that lists every violation. Each is tested twice: the real templates
 * have no violation, and a small template that breaks it has one (so the check can fail).
 * docs/cloudformation-constraints.md is the table of them, generated here; cfn-lint's own checks
 * run in test/lib/cfn-lint.test.ts.
 */
import { App, Stack, Stage } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { Construct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { FaceSignWebhooks, FaceSignWebhooksStack } from '../../lib';
import { integFixtureBucketName } from '../integ/integ-app';
import { deployedTemplates, type CfnResourceJson, type CfnTemplate, type DeployedTemplate } from '../support/deployed-templates';

/**
 * Characters counted for a value CloudFormation only knows at deploy time (a Ref or GetAtt): more
 * than any ARN, URL or name these templates reference (a queue ARN is at most about 130).
 */
const TOKEN_CHARS = 160;
/** The longest value of each pseudo parameter (partition `aws-iso-b`, Region `ap-southeast-5`, ...). */
const PSEUDO: Record<string, string> = {
  'AWS::Partition': 'aws-iso-b',
  'AWS::Region': 'ap-southeast-5',
  'AWS::AccountId': '123456789012',
  'AWS::URLSuffix': 'amazonaws.com.cn',
  'AWS::StackName': 's'.repeat(128),
};

/** A value with every intrinsic function replaced by its longest plausible text, Fn::Join joined. */
function resolveLongest(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(resolveLongest);
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 1) {
    const [key, arg] = entries[0];
    if (key === 'Ref') return PSEUDO[arg as string] ?? 'x'.repeat(TOKEN_CHARS);
    if (key === 'Fn::Join') {
      const [separator, parts] = arg as [string, unknown[]];
      return parts.map((part) => String(typeof part === 'string' ? part : resolveLongest(part))).join(separator);
    }
    if (key.startsWith('Fn::')) return 'x'.repeat(TOKEN_CHARS);
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, resolveLongest(v)]));
}

/** The size AWS counts for a policy or a JSON document: compact JSON (IAM does not count whitespace). */
function sizeOf(value: unknown): number {
  const resolved = resolveLongest(value);
  return typeof resolved === 'string' ? resolved.length : JSON.stringify(resolved).length;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- template JSON, read field by field as CloudFormation has it
type Json = any;
type Resources = Array<[string, CfnResourceJson]>;
function ofType(template: CfnTemplate, type: string): Resources {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}
function props(resource: CfnResourceJson): Record<string, Json> {
  return (resource.Properties ?? {}) as Record<string, Json>;
}
/** The logical id a `{ Ref }` or `{ Fn::GetAtt }` points at, if it is one. */
function target(value: unknown): string | undefined {
  if (value && typeof value === 'object') {
    const v = value as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
    return v.Ref ?? v['Fn::GetAtt']?.[0];
  }
  return undefined;
}
function statements(document: Json): Json[] {
  return [document?.Statement ?? []].flat();
}

/** One documented constraint: where AWS states it, and every place a template breaks it. */
interface Constraint {
  /** The constraint, as the test names it. */
  readonly name: string;
  /** The AWS page that states it. */
  readonly doc: string;
  /** The resource types it is about (none: the template as a whole). */
  readonly types: readonly string[];
  readonly violations: (template: CfnTemplate) => string[];
  /** A template that breaks it, to show the check finds it. */
  readonly broken: CfnTemplate;
}

const LIFECYCLE_ACTIONS = [
  'AbortIncompleteMultipartUpload',
  'ExpirationDate',
  'ExpirationInDays',
  'NoncurrentVersionExpiration',
  'NoncurrentVersionExpirationInDays',
  'NoncurrentVersionTransition',
  'NoncurrentVersionTransitions',
  'Transition',
  'Transitions',
];
const lifecycleRules = (template: CfnTemplate) =>
  ofType(template, 'AWS::S3::Bucket').flatMap(([id, r]) => ((props(r).LifecycleConfiguration?.Rules ?? []) as Json[]).map((rule) => ({ id, rule })));
const bucket = (rules: object[], extra: object = {}): CfnTemplate => ({
  Resources: { B: { Type: 'AWS::S3::Bucket', Properties: { LifecycleConfiguration: { Rules: rules }, ...extra } } },
});
const policyOf = (type: string, key: string, document: object, extra: object = {}): CfnTemplate => ({
  Resources: { P: { Type: type, Properties: { [key]: document, ...extra } } },
});
const manyStatements = (n: number, sidLength = 10) =>
  Array.from({ length: n }, (_, i) => ({ Sid: `S${i}${'x'.repeat(sidLength)}`, Effect: 'Allow', Action: 'a:b', Resource: '*' }));
const alarm = (properties: Record<string, unknown>): CfnTemplate => ({ Resources: { A: { Type: 'AWS::CloudWatch::Alarm', Properties: properties } } });
/** An alarm's period: its own, or its metric-math query's. */
const alarmPeriod = (p: Record<string, Json>): number | undefined =>
  p.Period ?? (p.Metrics as Json[] | undefined)?.map((m) => m.MetricStat?.Period).find((period) => typeof period === 'number');

const CONSTRAINTS: Constraint[] = [
  {
    name: 'every S3 lifecycle rule has an expiration, transition or abort action (ExpiredObjectDeleteMarker alone is refused)',
    types: ['AWS::S3::Bucket'],
    doc: 'https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-s3-bucket-rule.html',
    violations: (t) => lifecycleRules(t).flatMap(({ id, rule }) => (LIFECYCLE_ACTIONS.some((k) => k in rule) ? [] : [`${id} rule ${rule.Id}`])),
    broken: bucket([{ Id: 'RemoveExpiredDeleteMarkers', ExpiredObjectDeleteMarker: true, Status: 'Enabled' }]),
  },
  {
    name: 'no S3 lifecycle rule sets ExpiredObjectDeleteMarker together with ExpirationInDays or ExpirationDate',
    types: ['AWS::S3::Bucket'],
    doc: 'https://docs.aws.amazon.com/AmazonS3/latest/API/API_LifecycleExpiration.html',
    violations: (t) =>
      lifecycleRules(t).flatMap(({ id, rule }) =>
        'ExpiredObjectDeleteMarker' in rule && ('ExpirationInDays' in rule || 'ExpirationDate' in rule) ? [`${id} rule ${rule.Id}`] : [],
      ),
    broken: bucket([{ Id: 'X', ExpiredObjectDeleteMarker: true, ExpirationInDays: 3, Status: 'Enabled' }]),
  },
  {
    name: 'a bucket has at most 1,000 lifecycle rules',
    types: ['AWS::S3::Bucket'],
    // "You can add as many as 1000 rules."
    doc: 'https://docs.aws.amazon.com/AmazonS3/latest/API/API_LifecycleConfiguration.html',
    violations: (t) => ofType(t, 'AWS::S3::Bucket').flatMap(([id, r]) => ((props(r).LifecycleConfiguration?.Rules?.length ?? 0) > 1000 ? [id] : [])),
    broken: bucket(Array.from({ length: 1001 }, (_, i) => ({ Id: `R${i}`, ExpirationInDays: 1, Status: 'Enabled' }))),
  },
  {
    name: 'server access logs go to a bucket of the same stack (same account and Region) whose default encryption is SSE-S3, not SSE-KMS',
    types: ['AWS::S3::Bucket'],
    doc: 'https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html',
    violations: (t) =>
      ofType(t, 'AWS::S3::Bucket').flatMap(([id, r]) => {
        const logging = props(r).LoggingConfiguration;
        if (!logging?.DestinationBucketName) return [];
        const destination = t.Resources[target(logging.DestinationBucketName) ?? ''];
        if (destination?.Type !== 'AWS::S3::Bucket') return [`${id}: destination is not a bucket of this stack`];
        const algorithms = ((props(destination).BucketEncryption?.ServerSideEncryptionConfiguration ?? []) as Json[]).map(
          (c) => c.ServerSideEncryptionByDefault?.SSEAlgorithm,
        );
        return algorithms.every((a) => a === 'AES256') ? [] : [`${id}: destination encryption ${algorithms.join(',') || 'unset'}`];
      }),
    broken: {
      Resources: {
        Logs: {
          Type: 'AWS::S3::Bucket',
          Properties: { BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' } }] } },
        },
        B: { Type: 'AWS::S3::Bucket', Properties: { LoggingConfiguration: { DestinationBucketName: { Ref: 'Logs' } } } },
      },
    },
  },
  {
    name: 'a bucket with Object Lock has ObjectLockEnabled and versioning on (Object Lock needs versioning)',
    types: ['AWS::S3::Bucket'],
    doc: 'https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-configure.html',
    violations: (t) =>
      ofType(t, 'AWS::S3::Bucket').flatMap(([id, r]) => {
        const p = props(r);
        if (p.ObjectLockConfiguration === undefined && p.ObjectLockEnabled === undefined) return [];
        return p.ObjectLockEnabled === true && p.VersioningConfiguration?.Status === 'Enabled' ? [] : [id];
      }),
    broken: {
      Resources: { B: { Type: 'AWS::S3::Bucket', Properties: { ObjectLockEnabled: true, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled' } } } },
    },
  },
  {
    name: 'server access logs never go to a bucket with Object Lock',
    types: ['AWS::S3::Bucket'],
    doc: 'https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-configure.html',
    violations: (t) =>
      ofType(t, 'AWS::S3::Bucket').flatMap(([id, r]) => {
        const destination = t.Resources[target(props(r).LoggingConfiguration?.DestinationBucketName) ?? ''];
        return destination && (props(destination).ObjectLockEnabled === true || props(destination).ObjectLockConfiguration) ? [id] : [];
      }),
    broken: {
      Resources: {
        Logs: { Type: 'AWS::S3::Bucket', Properties: { ObjectLockEnabled: true, VersioningConfiguration: { Status: 'Enabled' } } },
        B: { Type: 'AWS::S3::Bucket', Properties: { LoggingConfiguration: { DestinationBucketName: { Ref: 'Logs' } } } },
      },
    },
  },
  {
    name: "a trail's log bucket lets cloudtrail.amazonaws.com read its ACL and put objects under the trail's prefix",
    types: ['AWS::CloudTrail::Trail'],
    doc: 'https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html',
    violations: (t) =>
      ofType(t, 'AWS::CloudTrail::Trail').flatMap(([id, r]) => {
        const bucketId = target(props(r).S3BucketName);
        const policy = ofType(t, 'AWS::S3::BucketPolicy').find(([, p]) => target(props(p).Bucket) === bucketId);
        const allowed = statements(policy ? props(policy[1]).PolicyDocument : undefined).filter(
          (s) => s.Effect === 'Allow' && JSON.stringify(s.Principal) === JSON.stringify({ Service: 'cloudtrail.amazonaws.com' }),
        );
        const actions = allowed.flatMap((s) => [s.Action].flat());
        const prefix = String(props(r).S3KeyPrefix ?? '');
        const putUnderPrefix = allowed.some((s) => [s.Action].flat().includes('s3:PutObject') && JSON.stringify(s.Resource).includes(`/${prefix}/AWSLogs/`));
        return actions.includes('s3:GetBucketAcl') && putUnderPrefix ? [] : [id];
      }),
    broken: {
      Resources: {
        Logs: { Type: 'AWS::S3::Bucket' },
        T: { Type: 'AWS::CloudTrail::Trail', Properties: { S3BucketName: { Ref: 'Logs' }, S3KeyPrefix: 'cloudtrail', IsLogging: true } },
      },
    },
  },
  {
    name: 'a bucket policy is at most 20 KB',
    types: ['AWS::S3::BucketPolicy'],
    // "Bucket policies are limited to 20 KB in size."
    doc: 'https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-iam-policies.html',
    violations: (t) => ofType(t, 'AWS::S3::BucketPolicy').flatMap(([id, r]) => (sizeOf(props(r).PolicyDocument) > 20 * 1024 ? [id] : [])),
    broken: policyOf('AWS::S3::BucketPolicy', 'PolicyDocument', { Statement: manyStatements(400) }),
  },
  {
    name: 'a KMS key policy is at most 32 KB',
    types: ['AWS::KMS::Key'],
    // Key policy format: "Up to 32 kilobytes (32,768 bytes)".
    doc: 'https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html',
    violations: (t) => ofType(t, 'AWS::KMS::Key').flatMap(([id, r]) => (sizeOf(props(r).KeyPolicy) > 32 * 1024 ? [id] : [])),
    broken: policyOf('AWS::KMS::Key', 'KeyPolicy', { Statement: manyStatements(700) }),
  },
  {
    name: "a KMS key policy lets the account's principals manage the key (KMS refuses a policy that would lock it out)",
    types: ['AWS::KMS::Key'],
    doc: 'https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html',
    violations: (t) =>
      ofType(t, 'AWS::KMS::Key').flatMap(([id, r]) =>
        statements(props(r).KeyPolicy).some(
          (s) => s.Effect === 'Allow' && [s.Action].flat().includes('kms:*') && /:root$/.test(String(resolveLongest(s.Principal?.AWS))),
        )
          ? []
          : [id],
      ),
    broken: policyOf('AWS::KMS::Key', 'KeyPolicy', {
      Statement: [{ Effect: 'Allow', Principal: { Service: 'logs.amazonaws.com' }, Action: 'kms:Decrypt', Resource: '*' }],
    }),
  },
  {
    name: 'an SQS queue policy is at most 8,192 bytes and 20 statements',
    types: ['AWS::SQS::QueuePolicy'],
    doc: 'https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-policies.html',
    violations: (t) =>
      ofType(t, 'AWS::SQS::QueuePolicy').flatMap(([id, r]) => {
        const document = props(r).PolicyDocument;
        return sizeOf(document) > 8192 || statements(document).length > 20 ? [id] : [];
      }),
    broken: policyOf('AWS::SQS::QueuePolicy', 'PolicyDocument', { Statement: manyStatements(21) }),
  },
  {
    name: 'an SNS topic policy is at most 30 KB and 100 statements',
    types: ['AWS::SNS::TopicPolicy'],
    doc: 'https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-language-api-permissions-reference.html',
    violations: (t) =>
      ofType(t, 'AWS::SNS::TopicPolicy').flatMap(([id, r]) => {
        const document = props(r).PolicyDocument;
        return sizeOf(document) > 30 * 1024 || statements(document).length > 100 ? [id] : [];
      }),
    broken: policyOf('AWS::SNS::TopicPolicy', 'PolicyDocument', { Statement: manyStatements(101) }),
  },
  {
    name: 'a Secrets Manager resource policy is at most 20,480 characters',
    types: ['AWS::SecretsManager::ResourcePolicy'],
    // ResourcePolicy: "Maximum length of 20480" (the API's model, NonEmptyResourcePolicyType, agrees).
    doc: 'https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_PutResourcePolicy.html',
    violations: (t) => ofType(t, 'AWS::SecretsManager::ResourcePolicy').flatMap(([id, r]) => (sizeOf(props(r).ResourcePolicy) > 20_480 ? [id] : [])),
    broken: policyOf('AWS::SecretsManager::ResourcePolicy', 'ResourcePolicy', { Statement: manyStatements(400) }),
  },
  {
    name: 'one policy resource per queue, topic and bucket (each sets the whole policy, so a second one replaces the first)',
    types: ['AWS::SQS::QueuePolicy', 'AWS::SNS::TopicPolicy', 'AWS::S3::BucketPolicy'],
    doc: 'https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html',
    violations: (t) => {
      const seen = new Map<string, string>();
      const found: string[] = [];
      const claim = (policy: string, resource: unknown) => {
        const key = JSON.stringify(resource);
        if (seen.has(key)) found.push(`${policy} and ${seen.get(key)} both set the policy of ${key}`);
        seen.set(key, policy);
      };
      for (const [id, r] of ofType(t, 'AWS::SQS::QueuePolicy')) for (const q of props(r).Queues ?? []) claim(id, q);
      for (const [id, r] of ofType(t, 'AWS::SNS::TopicPolicy')) for (const topic of props(r).Topics ?? []) claim(id, topic);
      for (const [id, r] of ofType(t, 'AWS::S3::BucketPolicy')) claim(id, props(r).Bucket);
      return found;
    },
    broken: {
      Resources: {
        P1: { Type: 'AWS::SQS::QueuePolicy', Properties: { Queues: [{ Ref: 'Q' }], PolicyDocument: {} } },
        P2: { Type: 'AWS::SQS::QueuePolicy', Properties: { Queues: [{ Ref: 'Q' }], PolicyDocument: {} } },
      },
    },
  },
  {
    name: "a dead-letter queue is of the source queue's type and keeps messages longer than it (expiry counts from the first enqueue)",
    types: ['AWS::SQS::Queue'],
    doc: 'https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html',
    violations: (t) =>
      ofType(t, 'AWS::SQS::Queue').flatMap(([id, r]) => {
        const redrive = props(r).RedrivePolicy;
        if (!redrive) return [];
        const dlq = t.Resources[target(redrive.deadLetterTargetArn) ?? ''];
        if (!dlq) return [`${id}: dead-letter queue outside the stack`];
        const retention = (q: CfnResourceJson) => props(q).MessageRetentionPeriod ?? 345_600;
        const found: string[] = [];
        if (Boolean(props(dlq).FifoQueue) !== Boolean(props(r).FifoQueue)) found.push(`${id}: FIFO and standard mixed`);
        if (retention(dlq) <= retention(r)) found.push(`${id}: dead-letter retention ${retention(dlq)} s not above ${retention(r)} s`);
        return found;
      }),
    broken: {
      Resources: {
        D: { Type: 'AWS::SQS::Queue', Properties: { MessageRetentionPeriod: 345_600 } },
        Q: { Type: 'AWS::SQS::Queue', Properties: { RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': ['D', 'Arn'] }, maxReceiveCount: 5 } } },
      },
    },
  },
  {
    name: 'no function reserves concurrency by default (Lambda keeps 100 unreserved; new accounts have a reduced quota)',
    types: ['AWS::Lambda::Function'],
    doc: 'https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html',
    violations: (t) => ofType(t, 'AWS::Lambda::Function').flatMap(([id, r]) => (props(r).ReservedConcurrentExecutions !== undefined ? [id] : [])),
    broken: { Resources: { F: { Type: 'AWS::Lambda::Function', Properties: { ReservedConcurrentExecutions: 50 } } } },
  },
  {
    name: 'an SQS event source with a batch over 10 sets MaximumBatchingWindowInSeconds',
    types: ['AWS::Lambda::EventSourceMapping'],
    doc: 'https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html',
    violations: (t) =>
      ofType(t, 'AWS::Lambda::EventSourceMapping').flatMap(([id, r]) =>
        (props(r).BatchSize ?? 10) > 10 && !(props(r).MaximumBatchingWindowInSeconds >= 1) ? [id] : [],
      ),
    broken: { Resources: { M: { Type: 'AWS::Lambda::EventSourceMapping', Properties: { BatchSize: 20 } } } },
  },
  {
    name: "a function's environment variables total at most 4 KB, deploy-time values at their longest",
    types: ['AWS::Lambda::Function'],
    doc: 'https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html',
    violations: (t) =>
      ofType(t, 'AWS::Lambda::Function').flatMap(([id, r]) => {
        const variables = resolveLongest(props(r).Environment?.Variables ?? {}) as Record<string, unknown>;
        // Lambda counts keys and values; JSON's quotes and commas make this an overestimate.
        return JSON.stringify(variables).length > 4096 ? [id] : [];
      }),
    broken: { Resources: { F: { Type: 'AWS::Lambda::Function', Properties: { Environment: { Variables: { A: { Ref: 'X' }, B: 'x'.repeat(4000) } } } } } },
  },
  {
    name: "a function behind an HTTP API times out before the integration's 30 seconds",
    types: ['AWS::ApiGatewayV2::Integration'],
    doc: 'https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html',
    violations: (t) =>
      ofType(t, 'AWS::ApiGatewayV2::Integration').flatMap(([id, r]) => {
        const fn = t.Resources[target(props(r).IntegrationUri) ?? ''];
        const limit = (props(r).TimeoutInMillis ?? 30_000) / 1000;
        return fn && (props(fn).Timeout ?? 3) >= limit ? [`${id}: function timeout ${props(fn).Timeout} s`] : [];
      }),
    broken: {
      Resources: {
        F: { Type: 'AWS::Lambda::Function', Properties: { Timeout: 60 } },
        I: { Type: 'AWS::ApiGatewayV2::Integration', Properties: { IntegrationUri: { 'Fn::GetAtt': ['F', 'Arn'] } } },
      },
    },
  },
  {
    name: "a function behind a REST API times out before its integration's timeout (at most 29 seconds by default)",
    types: ['AWS::ApiGateway::Method'],
    doc: 'https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html',
    violations: (t) =>
      ofType(t, 'AWS::ApiGateway::Method').flatMap(([id, r]) => {
        const integration = props(r).Integration ?? {};
        const uri = JSON.stringify(integration.Uri ?? '');
        const fn = Object.entries(t.Resources).find(([fnId, f]) => f.Type === 'AWS::Lambda::Function' && uri.includes(`"${fnId}"`))?.[1];
        const limit = (integration.TimeoutInMillis ?? 29_000) / 1000;
        return fn && (props(fn).Timeout ?? 3) >= limit ? [`${id}: function timeout ${props(fn).Timeout} s`] : [];
      }),
    broken: {
      Resources: {
        F: { Type: 'AWS::Lambda::Function', Properties: { Timeout: 30 } },
        M: { Type: 'AWS::ApiGateway::Method', Properties: { Integration: { Uri: { 'Fn::Join': ['', ['arn:', { 'Fn::GetAtt': ['F', 'Arn'] }]] } } } },
      },
    },
  },
  {
    name: 'a REST API access log format includes $context.requestId or $context.extendedRequestId',
    types: ['AWS::ApiGateway::Stage', 'AWS::ApiGateway::Deployment'],
    doc: 'https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-apigateway-stage-accesslogsetting.html',
    violations: (t) =>
      ofType(t, 'AWS::ApiGateway::Stage').flatMap(([id, r]) => {
        const format = props(r).AccessLogSetting?.Format;
        return format !== undefined && !/\$context\.(requestId|extendedRequestId)/.test(String(format)) ? [id] : [];
      }),
    broken: { Resources: { S: { Type: 'AWS::ApiGateway::Stage', Properties: { AccessLogSetting: { Format: '{"status":"$context.status"}' } } } } },
  },
  {
    name: 'at most one AWS::ApiGateway::Account in a template: it sets the one CloudWatch role of the account and Region',
    types: ['AWS::ApiGateway::Account'],
    doc: 'https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-apigateway-account.html',
    violations: (t) => (ofType(t, 'AWS::ApiGateway::Account').length > 1 ? ofType(t, 'AWS::ApiGateway::Account').map(([id]) => id) : []),
    broken: { Resources: { A: { Type: 'AWS::ApiGateway::Account', Properties: {} }, B: { Type: 'AWS::ApiGateway::Account', Properties: {} } } },
  },
  {
    name: 'a gateway response status code is a 3-digit HTTP status (CloudFormation takes it as a string)',
    types: ['AWS::ApiGateway::GatewayResponse'],
    doc: 'https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-apigateway-gatewayresponse.html',
    violations: (t) => ofType(t, 'AWS::ApiGateway::GatewayResponse').flatMap(([id, r]) => (/^[1-5]\d\d$/.test(String(props(r).StatusCode ?? '')) ? [] : [id])),
    broken: { Resources: { G: { Type: 'AWS::ApiGateway::GatewayResponse', Properties: { ResponseType: 'THROTTLED', StatusCode: '5xx' } } } },
  },
  {
    name: "a web ACL's rate-based rules count at least 10 requests over 60, 120, 300 or 600 seconds, and its custom responses are 200 to 599",
    types: ['AWS::WAFv2::WebACL'],
    doc: 'https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-statement-type-rate-based-high-level-settings.html',
    violations: (t) =>
      ofType(t, 'AWS::WAFv2::WebACL').flatMap(([id, r]) => {
        const found: string[] = [];
        for (const rule of (props(r).Rules ?? []) as Json[]) {
          const rate = rule.Statement?.RateBasedStatement;
          if (rate && (rate.Limit < 10 || ![60, 120, 300, 600].includes(rate.EvaluationWindowSec ?? 300))) found.push(`${id}: ${rule.Name} rate`);
          const code = rule.Action?.Block?.CustomResponse?.ResponseCode;
          if (code !== undefined && (code < 200 || code > 599)) found.push(`${id}: ${rule.Name} response ${code}`);
        }
        const defaultCode = props(r).DefaultAction?.Block?.CustomResponse?.ResponseCode;
        if (defaultCode !== undefined && (defaultCode < 200 || defaultCode > 599)) found.push(`${id}: default response ${defaultCode}`);
        return found;
      }),
    broken: {
      Resources: {
        W: { Type: 'AWS::WAFv2::WebACL', Properties: { Rules: [{ Name: 'R', Statement: { RateBasedStatement: { Limit: 5, EvaluationWindowSec: 180 } } }] } },
      },
    },
  },
  {
    name: 'a regional web ACL is associated with a REST API stage (arn:...:apigateway:<region>::/restapis/<id>/stages/<name>), never with an HTTP API',
    types: ['AWS::WAFv2::WebACLAssociation'],
    doc: 'https://docs.aws.amazon.com/waf/latest/developerguide/waf-web-acl-associating-aws-resource.html',
    violations: (t) =>
      ofType(t, 'AWS::WAFv2::WebACLAssociation').flatMap(([id, r]) => {
        const arn = JSON.stringify(props(r).ResourceArn ?? '');
        const acl = t.Resources[target(props(r).WebACLArn) ?? ''];
        return arn.includes('/restapis/') && arn.includes('/stages/') && (!acl || props(acl).Scope === 'REGIONAL') ? [] : [id];
      }),
    broken: {
      Resources: { A: { Type: 'AWS::WAFv2::WebACLAssociation', Properties: { ResourceArn: 'arn:aws:apigateway:eu-west-1::/apis/abc', WebACLArn: 'x' } } },
    },
  },
  {
    name: 'an IP set holds CIDRs of its own IP version only',
    types: ['AWS::WAFv2::IPSet'],
    doc: 'https://docs.aws.amazon.com/waf/latest/APIReference/API_IPSet.html',
    violations: (t) =>
      ofType(t, 'AWS::WAFv2::IPSet').flatMap(([id, r]) => {
        const v6 = props(r).IPAddressVersion === 'IPV6';
        return ((props(r).Addresses ?? []) as string[]).filter((a) => a.includes(':') !== v6 || !a.includes('/')).map((a) => `${id}: ${a}`);
      }),
    broken: { Resources: { I: { Type: 'AWS::WAFv2::IPSet', Properties: { IPAddressVersion: 'IPV4', Addresses: ['2001:db8::/32'] } } } },
  },
  {
    name: 'a custom domain for an API is regional with the TLS 1.2 security policy',
    types: ['AWS::ApiGateway::DomainName', 'AWS::ApiGatewayV2::DomainName'],
    doc: 'https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-custom-domain-tls-version.html',
    violations: (t) => [
      ...ofType(t, 'AWS::ApiGateway::DomainName').flatMap(([id, r]) =>
        JSON.stringify(props(r).EndpointConfiguration?.Types) === '["REGIONAL"]' && props(r).SecurityPolicy === 'TLS_1_2' && props(r).RegionalCertificateArn
          ? []
          : [id],
      ),
      ...ofType(t, 'AWS::ApiGatewayV2::DomainName').flatMap(([id, r]) =>
        ((props(r).DomainNameConfigurations ?? []) as Json[]).every((c) => c.EndpointType === 'REGIONAL' && c.SecurityPolicy === 'TLS_1_2') ? [] : [id],
      ),
    ],
    broken: {
      Resources: { D: { Type: 'AWS::ApiGateway::DomainName', Properties: { EndpointConfiguration: { Types: ['EDGE'] }, SecurityPolicy: 'TLS_1_0' } } },
    },
  },
  {
    name: 'an HTTP API access log format includes $context.requestId',
    types: ['AWS::ApiGatewayV2::Stage'],
    doc: 'https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-apigatewayv2-stage-accesslogsettings.html',
    violations: (t) =>
      ofType(t, 'AWS::ApiGatewayV2::Stage').flatMap(([id, r]) => {
        const format = props(r).AccessLogSettings?.Format;
        return format !== undefined && !String(format).includes('$context.requestId') ? [id] : [];
      }),
    broken: { Resources: { S: { Type: 'AWS::ApiGatewayV2::Stage', Properties: { AccessLogSettings: { Format: '{"status":"$context.status"}' } } } } },
  },
  {
    name: 'HTTP API access logs go to a log group of the stack named under /aws/vendedlogs/ (the account resource policy has 5,120 characters)',
    types: ['AWS::ApiGatewayV2::Stage', 'AWS::Logs::LogGroup'],
    doc: 'https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/AWS-logs-and-resource-policy.html',
    violations: (t) =>
      ofType(t, 'AWS::ApiGatewayV2::Stage').flatMap(([id, r]) => {
        const destination = props(r).AccessLogSettings?.DestinationArn;
        if (destination === undefined) return [];
        const group = t.Resources[target(destination) ?? ''];
        const name = group?.Type === 'AWS::Logs::LogGroup' ? props(group).LogGroupName : undefined;
        return typeof name === 'string' && name.startsWith('/aws/vendedlogs/') ? [] : [`${id}: log group ${JSON.stringify(name)}`];
      }),
    broken: {
      Resources: {
        G: { Type: 'AWS::Logs::LogGroup', Properties: {} },
        S: {
          Type: 'AWS::ApiGatewayV2::Stage',
          Properties: { AccessLogSettings: { DestinationArn: { 'Fn::GetAtt': ['G', 'Arn'] }, Format: '$context.requestId' } },
        },
      },
    },
  },
  {
    name: 'a log group has at most 100 metric filters',
    types: ['AWS::Logs::MetricFilter'],
    // "The maximum number of metric filters that can be associated with a log group is 100."
    doc: 'https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutMetricFilter.html',
    violations: (t) => {
      const count = new Map<string, number>();
      for (const [, r] of ofType(t, 'AWS::Logs::MetricFilter')) {
        const key = JSON.stringify(props(r).LogGroupName);
        count.set(key, (count.get(key) ?? 0) + 1);
      }
      return [...count].filter(([, n]) => n > 100).map(([group, n]) => `${group}: ${n}`);
    },
    broken: {
      Resources: Object.fromEntries(
        Array.from({ length: 101 }, (_, i) => [`F${i}`, { Type: 'AWS::Logs::MetricFilter', Properties: { LogGroupName: { Ref: 'G' } } }]),
      ),
    },
  },
  {
    name: 'alarm names are unique (one alarm per name in a Region: a second one replaces the first)',
    types: ['AWS::CloudWatch::Alarm'],
    doc: 'https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html',
    violations: (t) => {
      const names = ofType(t, 'AWS::CloudWatch::Alarm').map(([, r]) => JSON.stringify(props(r).AlarmName));
      return names.filter((n, i) => n !== undefined && names.indexOf(n) !== i);
    },
    broken: { Resources: { A: alarm({ AlarmName: 'a' }).Resources.A, B: alarm({ AlarmName: 'a' }).Resources.A } },
  },
  {
    name: 'an alarm needs at most EvaluationPeriods datapoints (DatapointsToAlarm is the M of M out of N)',
    types: ['AWS::CloudWatch::Alarm'],
    doc: 'https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html',
    violations: (t) => ofType(t, 'AWS::CloudWatch::Alarm').flatMap(([id, r]) => ((props(r).DatapointsToAlarm ?? 0) > props(r).EvaluationPeriods ? [id] : [])),
    broken: alarm({ DatapointsToAlarm: 3, EvaluationPeriods: 1, Period: 60 }),
  },
  {
    name: 'an alarm evaluates at most 7 days (1 day for periods under an hour): Period x EvaluationPeriods',
    types: ['AWS::CloudWatch::Alarm'],
    doc: 'https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html',
    violations: (t) =>
      ofType(t, 'AWS::CloudWatch::Alarm').flatMap(([id, r]) => {
        const period = alarmPeriod(props(r));
        if (period === undefined) return [`${id}: no period`];
        const total = period * props(r).EvaluationPeriods;
        return total > (period < 3600 ? 86_400 : 604_800) ? [`${id}: ${total} s`] : [];
      }),
    broken: alarm({ Period: 300, EvaluationPeriods: 289 }),
  },
  {
    name: 'a metric-math alarm returns exactly one time series (ReturnData true on one query)',
    types: ['AWS::CloudWatch::Alarm'],
    doc: 'https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDataQuery.html',
    violations: (t) =>
      ofType(t, 'AWS::CloudWatch::Alarm').flatMap(([id, r]) => {
        const metrics = props(r).Metrics as Json[] | undefined;
        // ReturnData defaults to true when omitted.
        return metrics && metrics.filter((m) => m.ReturnData !== false).length !== 1 ? [id] : [];
      }),
    broken: alarm({
      Metrics: [
        { Id: 'a', Expression: 'b' },
        { Id: 'b', MetricStat: { Period: 60 } },
      ],
      EvaluationPeriods: 1,
    }),
  },
  {
    name: 'alarms notify a topic whose KMS key lets CloudWatch use it (else notifications are dropped)',
    types: ['AWS::CloudWatch::Alarm', 'AWS::SNS::Topic'],
    doc: 'https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services',
    violations: (t) =>
      ofType(t, 'AWS::CloudWatch::Alarm').flatMap(([id, r]) =>
        [props(r).AlarmActions ?? [], props(r).OKActions ?? []].flat().flatMap((action: unknown) => {
          const topic = t.Resources[target(action) ?? ''];
          const key = topic && t.Resources[target(props(topic).KmsMasterKeyId) ?? ''];
          if (!topic || !key) return [];
          const allowed = (a: string) =>
            statements(props(key).KeyPolicy).some(
              (s) =>
                s.Effect === 'Allow' &&
                [s.Principal?.Service].flat().includes('cloudwatch.amazonaws.com') &&
                [s.Action].flat().some((x: string) => x === a || (x.endsWith('*') && a.startsWith(x.slice(0, -1)))),
            );
          return allowed('kms:Decrypt') && allowed('kms:GenerateDataKey') ? [] : [`${id}: ${target(action)}`];
        }),
      ),
    broken: {
      Resources: {
        K: { Type: 'AWS::KMS::Key', Properties: { KeyPolicy: { Statement: [] } } },
        T: { Type: 'AWS::SNS::Topic', Properties: { KmsMasterKeyId: { 'Fn::GetAtt': ['K', 'Arn'] } } },
        A: alarm({ AlarmActions: [{ Ref: 'T' }] }).Resources.A,
      },
    },
  },
  {
    name: 'queues EventBridge delivers to (rule targets and their dead-letter queues) use SSE-SQS or a key that lets EventBridge use it',
    types: ['AWS::Events::Rule'],
    doc: 'https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html',
    violations: (t) =>
      ofType(t, 'AWS::Events::Rule').flatMap(([id, r]) =>
        ((props(r).Targets ?? []) as Json[])
          .flatMap((x) => [x.Arn, x.DeadLetterConfig?.Arn])
          .flatMap((arn) => {
            const queue = t.Resources[target(arn) ?? ''];
            if (queue?.Type !== 'AWS::SQS::Queue' || props(queue).KmsMasterKeyId === undefined) return [];
            const key = t.Resources[target(props(queue).KmsMasterKeyId) ?? ''];
            const grants = key && statements(props(key).KeyPolicy).some((s) => [s.Principal?.Service].flat().includes('events.amazonaws.com'));
            return grants ? [] : [`${id}: ${target(arn)}`];
          }),
      ),
    broken: {
      Resources: {
        K: { Type: 'AWS::KMS::Key', Properties: { KeyPolicy: { Statement: [] } } },
        Q: { Type: 'AWS::SQS::Queue', Properties: { KmsMasterKeyId: { 'Fn::GetAtt': ['K', 'Arn'] } } },
        R: { Type: 'AWS::Events::Rule', Properties: { Targets: [{ Id: 't', Arn: { 'Fn::GetAtt': ['Q', 'Arn'] } }] } },
      },
    },
  },
  {
    name: 'an EventBridge archive without a customer key omits KmsKeyIdentifier (an empty one is refused in some Regions)',
    types: ['AWS::Events::Archive'],
    doc: 'https://docs.aws.amazon.com/eventbridge/latest/userguide/encryption-archives.html',
    violations: (t) => ofType(t, 'AWS::Events::Archive').flatMap(([id, r]) => (props(r).KmsKeyIdentifier === '' ? [id] : [])),
    broken: { Resources: { A: { Type: 'AWS::Events::Archive', Properties: { KmsKeyIdentifier: '' } } } },
  },
  {
    name: "a role's inline policies total at most 10,240 characters (AWS::IAM::Policy resources attached to it count)",
    types: ['AWS::IAM::Role', 'AWS::IAM::Policy'],
    doc: 'https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html',
    violations: (t) => {
      const total = new Map<string, number>();
      const add = (role: string, document: unknown) => total.set(role, (total.get(role) ?? 0) + sizeOf(document));
      for (const [id, r] of ofType(t, 'AWS::IAM::Role')) for (const p of props(r).Policies ?? []) add(id, p.PolicyDocument);
      for (const [, r] of ofType(t, 'AWS::IAM::Policy'))
        for (const role of props(r).Roles ?? []) add(target(role) ?? JSON.stringify(role), props(r).PolicyDocument);
      return [...total].filter(([, n]) => n > 10_240).map(([role, n]) => `${role}: ${n}`);
    },
    broken: {
      Resources: {
        R: { Type: 'AWS::IAM::Role', Properties: {} },
        P: { Type: 'AWS::IAM::Policy', Properties: { Roles: [{ Ref: 'R' }], PolicyDocument: { Statement: manyStatements(200) } } },
      },
    },
  },
  {
    name: "a role's trust policy is at most 2,048 characters, and it has at most 10 managed policies",
    types: ['AWS::IAM::Role'],
    doc: 'https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html',
    violations: (t) =>
      ofType(t, 'AWS::IAM::Role').flatMap(([id, r]) =>
        sizeOf(props(r).AssumeRolePolicyDocument) > 2048 || (props(r).ManagedPolicyArns ?? []).length > 10 ? [id] : [],
      ),
    broken: { Resources: { R: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: {}, ManagedPolicyArns: Array(11).fill('arn') } } } },
  },
  {
    name: 'a dashboard sets no DashboardName (dashboards are global to the account: a fixed name clashes between Regions)',
    types: ['AWS::CloudWatch::Dashboard'],
    doc: 'https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutDashboard.html',
    violations: (t) => ofType(t, 'AWS::CloudWatch::Dashboard').flatMap(([id, r]) => (props(r).DashboardName !== undefined ? [id] : [])),
    broken: { Resources: { D: { Type: 'AWS::CloudWatch::Dashboard', Properties: { DashboardName: 'FaceSign', DashboardBody: '{"widgets":[]}' } } } },
  },
  {
    name: 'a dashboard body has at most 500 widgets',
    types: ['AWS::CloudWatch::Dashboard'],
    doc: 'https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html',
    violations: (t) =>
      ofType(t, 'AWS::CloudWatch::Dashboard').flatMap(([id, r]) => {
        const body = JSON.parse(String(resolveLongest(props(r).DashboardBody))) as { widgets?: unknown[] };
        return (body.widgets ?? []).length > 500 ? [`${id}: ${body.widgets!.length} widgets`] : [];
      }),
    broken: { Resources: { D: { Type: 'AWS::CloudWatch::Dashboard', Properties: { DashboardBody: JSON.stringify({ widgets: Array(501).fill({}) }) } } } },
  },
  {
    name: 'a template is at most 1 MB (uploaded to S3) with at most 200 outputs',
    types: [],
    doc: 'https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html',
    violations: (t) => [
      ...(JSON.stringify(t).length > 1_000_000 ? [`${JSON.stringify(t).length} bytes`] : []),
      ...(Object.keys(t.Outputs ?? {}).length > 200 ? ['outputs'] : []),
    ],
    broken: { Resources: {}, Outputs: Object.fromEntries(Array.from({ length: 201 }, (_, i) => [`O${i}`, { Value: 'x' }])) },
  },
];

let templates: DeployedTemplate[];

beforeAll(() => {
  templates = deployedTemplates();
});

describe('every deployed template meets what AWS documents and neither CDK nor cfn-lint checks', () => {
  it('reads the app (with and without an alarm e-mail, and with every data-protection option) and both integration test stacks', () => {
    expect(templates.map((t) => t.stackName)).toEqual([
      'FaceSignWebhooks',
      'FaceSignWebhooks (alarmEmail)',
      'FaceSignWebhooks (objectLock, auditMediaReads)',
      'FaceSignWebhooks (rest-api-waf, custom domain)',
      'FaceSignWebhooks (http-api, custom domain)',
      'FaceSignWebhooksInteg',
      'FaceSignWebhooksIntegAssertions',
    ]);
  });

  it.each(CONSTRAINTS.map((c) => [c.name, c] as const))('%s', (_name, constraint) => {
    for (const { stackName, template } of templates) expect(constraint.violations(template), `${stackName} (${constraint.doc})`).toEqual([]);
  });
});

describe('each check finds the violation it is for', () => {
  it.each(CONSTRAINTS.map((c) => [c.name, c] as const))('%s', (_name, constraint) => {
    expect(constraint.violations(constraint.broken).length).toBeGreaterThan(0);
  });
});

/**
 * Resource types whose CloudFormation reference and quotas were read and state nothing that CDK or
 * cfn-lint leaves unchecked here, with what was read. A type in no constraint and not here fails
 * the coverage test below: a resource type new to a template must be read.
 */
const READ_WITHOUT_FINDINGS: Record<string, string> = {
  'AWS::DynamoDB::Table': 'key schema and attribute definitions agree (CDK), billing mode, TTL attribute, PITR (schema, cfn-lint)',
  'AWS::Events::EventBus': 'policy: none; a customer key is not set. Its name is required: the name row above',
  'AWS::Lambda::Permission': "principal, action and source ARN: written by CDK's integration; schema by cfn-lint",
  'AWS::ApiGatewayV2::Api': 'protocol and name: schema (cfn-lint)',
  'AWS::ApiGatewayV2::Route': 'route key `POST /webhooks/facesign` and target: schema (cfn-lint)',
  'AWS::ApiGatewayV2::ApiMapping': 'API, domain and stage: written by CDK; schema (cfn-lint)',
  'AWS::ApiGateway::RestApi': 'endpoint type REGIONAL and binary media types: schema (cfn-lint); the template tests hold their values',
  'AWS::ApiGateway::Resource': 'path parts `webhooks`, `facesign`: schema (cfn-lint)',
  'AWS::ApiGateway::BasePathMapping': 'domain, API and stage: written by CDK; schema (cfn-lint)',
  'AWS::Route53::RecordSet': 'an alias A record to the API domain, written by CDK: schema (cfn-lint)',
  'AWS::SNS::Topic': 'KMS key usable by CloudWatch: the alarm row above',

  'AWS::SNS::Subscription': 'protocol and endpoint: schema (cfn-lint); an e-mail subscription waits for confirmation (README)',
  'AWS::SecretsManager::Secret': 'SecretStringTemplate with GenerateStringKey together: checked by CDK',
  'AWS::StepFunctions::StateMachine': 'made by integ-tests-alpha for its waiting assertions; definition far below the 1 MB quota',
  'Custom::': 'custom resources of CDK (S3AutoDeleteObjects) and integ-tests-alpha: a ServiceToken each (cfn-lint)',
};

/** The constraints on names that depend on what a user chooses (stack name, construct path, run id): built at their longest. */
const NAME_LIMITS = {
  alarmName: {
    name: 'keeps every alarm name within 255 characters for a 128-character stack name and a 40-character onEvent id',
    doc: 'https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html',
  },
  logGroupName: {
    name: 'names the access log group within 512 characters of [.-_/#A-Za-z0-9], for a 128-character stack name and a path of any characters',
    doc: 'https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html',
  },
  logGroupUnique: {
    name: 'gives each deployment its own access log group: two constructs in a stack, one construct path in two stacks',
    doc: 'https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html',
  },
  busNameUnique: {
    name: "gives each deployment its own event bus name, within 256 characters of [.-_A-Za-z0-9]: one app under two stack names (CloudFormation requires the name; CDK's default leaves the stack name out)",
    doc: 'https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_CreateEventBus.html',
  },
  bucketName: {
    name: "names the integration test's fixture bucket within S3's rules for the longest run id and Region name",
    doc: 'https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html',
  },
} as const;

/**
 * Constraints of the same reading that cfn-lint 1.51 does check on these templates (each was
 * confirmed by breaking it in a copy of the app's template): test/lib/cfn-lint.test.ts holds them.
 */
const CFN_LINT_HOLDS: ReadonlyArray<readonly [constraint: string, rule: string]> = [
  ["an SQS event source queue's visibility timeout is at least the function timeout", 'E3505'],
  ["a function's literal environment variables total at most 4 KB", 'E3697'],
  ['lengths of literal names and texts: alarm name 255 and description 1,024, log group name 512, archive name 48, metric filter pattern 1,024', 'E3033'],
  ['patterns of literal names (log group names)', 'E3031'],
  ['alarm Period is 10, 20, 30 or a multiple of 60, and not beside Metrics', 'E3615, E3020'],
  ['a metric filter has at most 3 dimensions', 'E3032'],
  ['lifecycle rule ids are unique in a bucket', 'E3037'],
  ['at most 500 resources in a template', 'E3010'],
];

/** docs/cloudformation-constraints.md, generated from the lists above (`-u` rewrites it). */
function constraintsDoc(): string {
  const row = (cells: string[]) => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [
    '# CloudFormation and service constraints',
    '',
    "What AWS documents about the resources in the app's and the integration test's templates, and where each is held.",
    'Generated by `test/lib/cloudformation-constraints.test.ts` from its lists; after changing them, rewrite this file with',
    '`npx vitest run --project unit test/lib/cloudformation-constraints.test.ts -u`. Each constraint below is a test of that',
    'file (in "every deployed template meets..." on all four stacks, and in "each check finds the violation it is for" on a',
    'template that breaks it). Deploy-time values (a `Ref`, a `GetAtt`) count as 160 characters, pseudo parameters at their longest.',
    'Assumed where AWS is silent: a name CloudFormation generates (rules, the archive, queues, functions, roles, topics, tables)',
    "fits its service's limit, so the construct names only what must be named (the access log group under `/aws/vendedlogs/`, and",
    'the event bus, whose name CloudFormation requires).',
    '',
    row(["constraint (the test's name)", 'AWS documentation']),
    row(['---', '---']),
    ...CONSTRAINTS.map((c) => row([c.name, c.doc])),
    ...Object.values(NAME_LIMITS).map((c) => row([c.name, c.doc])),
    '',
    'cfn-lint 1.51 checks these on the same templates (`test/lib/cfn-lint.test.ts`), so they have no test of their own:',
    '',
    row(['constraint', 'cfn-lint rule']),
    row(['---', '---']),
    ...CFN_LINT_HOLDS.map(([constraint, rule]) => row([constraint, rule])),
    '',
    'Resource types read without a further constraint:',
    '',
    row(['resource type', 'what was read']),
    row(['---', '---']),
    ...Object.entries(READ_WITHOUT_FINDINGS).map(([type, what]) => row([type === 'Custom::' ? '`Custom::*`' : `\`${type}\``, what])),
    '',
  ].join('\n');
}

describe('reading', () => {
  it('covers every resource type of every deployed template: a constraint about it, or what was read and found nothing', () => {
    const covered = new Set([...CONSTRAINTS.flatMap((c) => c.types), ...Object.keys(READ_WITHOUT_FINDINGS)]);
    const types = new Set(templates.flatMap(({ template }) => Object.values(template.Resources).map((r) => r.Type)));
    expect([...types].filter((type) => !covered.has(type) && !(type.startsWith('Custom::') && covered.has('Custom::')))).toEqual([]);
  });
});

describe('docs/cloudformation-constraints.md', () => {
  it('is the table generated from this file', async () => {
    await expect(constraintsDoc()).toMatchFileSnapshot('../../docs/cloudformation-constraints.md');
  });
});

describe('names at their longest', () => {
  /** CloudFormation's longest stack name: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html */
  const LONGEST_STACK_NAME = `S${'-a1'.repeat(42)}x`;

  it(NAME_LIMITS.alarmName.name, () => {
    expect(LONGEST_STACK_NAME).toHaveLength(128);
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new FaceSignWebhooksStack(app, 'Long', { stackName: LONGEST_STACK_NAME });
    stack.webhooks.onEvent(`On${'X'.repeat(38)}`, { eventTypes: ['session.status'], target: new targets.SqsQueue(new sqs.Queue(stack, 'Target')) });
    const template = app.synth().getStackByName(LONGEST_STACK_NAME).template as CfnTemplate;
    const names = ofType(template, 'AWS::CloudWatch::Alarm').map(([, r]) => String(resolveLongest(props(r).AlarmName)));
    expect(names.length).toBeGreaterThan(20);
    expect(names.filter((n) => n.length > 255)).toEqual([]);
  });

  /** The access log groups' names in a synthesized stack. */
  const vendedLogGroups = (template: CfnTemplate) =>
    ofType(template, 'AWS::Logs::LogGroup')
      .map(([, r]) => props(r).LogGroupName)
      .filter((name): name is string => typeof name === 'string' && name.startsWith('/aws/vendedlogs/'));

  it(NAME_LIMITS.logGroupName.name, () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Deep', { stackName: LONGEST_STACK_NAME });
    let scope: Construct = stack;
    // As deep as the metrics' `deployment` dimension (stack name and path, at most 255) allows.
    for (let i = 0; i < 2; i += 1) scope = new Construct(scope, `Level ${i} with spaces and ünïcode ${'y'.repeat(14)}`);
    new FaceSignWebhooks(scope, 'Webhooks');
    const names = vendedLogGroups(app.synth().getStackByName(LONGEST_STACK_NAME).template as CfnTemplate);
    expect(names).toHaveLength(1);
    expect(names[0].length).toBeLessThanOrEqual(512);
    expect(names[0]).toMatch(/^\/aws\/vendedlogs\/[.\-_/#A-Za-z0-9]+$/);
  });

  it(NAME_LIMITS.logGroupUnique.name, () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    // Stack names that differ only in a character the name leaves out.
    for (const stackName of ['Webhooks-One', 'WebhooksOne']) new FaceSignWebhooks(new Stack(app, stackName), 'FaceSign');
    const two = new Stack(app, 'Two');
    new FaceSignWebhooks(two, 'First');
    new FaceSignWebhooks(two, 'Second', { alarmNamePrefix: 'Second' });
    const assembly = app.synth();
    const names = ['Webhooks-One', 'WebhooksOne', 'Two'].flatMap((name) => vendedLogGroups(assembly.getStackByName(name).template as CfnTemplate));
    expect(names).toHaveLength(4);
    expect(new Set(names).size).toBe(4);
  });

  it(NAME_LIMITS.busNameUnique.name, () => {
    // The same app deployed twice in one account and Region under its own stack names, as docs/operations.md
    // ("Deployments kept apart") allows: a second bus of the same name fails that stack's first deploy.
    const busNames = (stackName?: string) => {
      const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
      const stack = new FaceSignWebhooksStack(app, 'FaceSignWebhooks', stackName === undefined ? {} : { stackName });
      return ofType(app.synth().getStackByName(stack.stackName).template as CfnTemplate, 'AWS::Events::EventBus').map(([, r]) => props(r).Name);
    };
    const names = [busNames('FaceSignWebhooks-staging'), busNames('FaceSignWebhooks-prod'), busNames(LONGEST_STACK_NAME), busNames()].flat();
    expect(names).toHaveLength(4);
    expect(new Set(names).size).toBe(4);
    for (const name of names) {
      expect(name.length).toBeLessThanOrEqual(256);
      expect(name).toMatch(/^[.\-_A-Za-z0-9]+$/);
    }
    // A stack with the name CDK gives it (this repository's app, the integration test, a stack in a
    // Stage) keeps the bus name it had: a new one would replace the bus, its archive and their events.
    expect(busNames()).toEqual(['FaceSignWebhooksEventBusD213486F']);
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const staged = new FaceSignWebhooksStack(new Stage(app, 'Prod'), 'FaceSignWebhooks');
    const stagedBus = ofType(Template.fromStack(staged).toJSON() as CfnTemplate, 'AWS::Events::EventBus').map(([, r]) => props(r).Name);
    expect(stagedBus).toEqual(['ProdFaceSignWebhooksEventBus39B4BA76']);
  });

  it(NAME_LIMITS.bucketName.name, () => {
    // 3 to 63 characters: lowercase letters, digits, dots and hyphens, beginning and ending with a letter or digit.
    const name = integFixtureBucketName({ runId: 'abcdefghijkl', account: '123456789012', region: 'ap-southeast-5' });
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name).toMatch(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/);
  });
});
