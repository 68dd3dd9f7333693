/**
 * Tamper evidence and read auditing on the created bucket: optional versioning with governance-mode
 * Object Lock (and the processor needing no permission more for it), and the optional trail of
 * media reads.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { FaceSignWebhooks, type FaceSignWebhooksProps } from '../../lib';

function build(props: FaceSignWebhooksProps | ((stack: Stack) => FaceSignWebhooksProps) = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Locked');
  const webhooks = new FaceSignWebhooks(stack, 'FaceSign', typeof props === 'function' ? props(stack) : props);
  return { stack, webhooks, template: Template.fromStack(stack) };
}

function archiveBucket(template: Template) {
  const buckets = Object.entries(template.findResources('AWS::S3::Bucket', { Properties: { LoggingConfiguration: Match.anyValue() } }));
  expect(buckets).toHaveLength(1);
  return { id: buckets[0][0], properties: buckets[0][1].Properties };
}

/** The processor role's statements, with the role's logical id taken out so two templates compare. */
function processorStatements(template: Template): unknown[] {
  const fns = template.findResources('AWS::Lambda::Function', {
    Properties: { Environment: { Variables: { POWERTOOLS_SERVICE_NAME: 'facesign-processor' } } },
  });
  const roleId = Object.values(fns)[0].Properties.Role['Fn::GetAtt'][0];
  const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } });
  return Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement);
}

describe('Object Lock', () => {
  it('keeps the bucket policy on the bucket it guards when the bucket is replaced (adding Object Lock) or the stack deleted', () => {
    const { template } = build({ objectLockRetention: Duration.days(7) });
    const { id } = archiveBucket(template);
    const policies = Object.values(template.findResources('AWS::S3::BucketPolicy', { Properties: { Bucket: { Ref: id } } }));
    expect(policies).toHaveLength(1);
    expect(policies[0]).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    // It is the policy holding the media-read Deny.
    expect(JSON.stringify(policies[0].Properties.PolicyDocument)).toContain('"Effect":"Deny"');
  });

  it('is off by default: no versioning, no lock', () => {
    const { properties } = archiveBucket(build().template);
    expect(properties.ObjectLockEnabled).toBeUndefined();
    expect(properties.ObjectLockConfiguration).toBeUndefined();
    expect(properties.VersioningConfiguration).toBeUndefined();
  });

  it('with objectLockRetention: versioning, Object Lock in governance mode for that many days, and expired delete markers removed', () => {
    const { properties } = archiveBucket(build({ objectLockRetention: Duration.days(7) }).template);
    expect(properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(properties.ObjectLockEnabled).toBe(true);
    expect(properties.ObjectLockConfiguration).toEqual({ ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 7 } } });
    const abort = properties.LifecycleConfiguration.Rules.find((r: { Id: string }) => r.Id === 'AbortIncompleteMultipartUploads');
    expect(abort.ExpiredObjectDeleteMarker).toBe(true);
  });

  it('asks nothing more of the processor: its IAM is the same with and without the lock', () => {
    expect(processorStatements(build({ objectLockRetention: Duration.days(30) }).template)).toEqual(processorStatements(build().template));
  });

  it('refuses a lock longer than mediaRetention, not whole days, or beside bucketProps that set versioning or a lock', () => {
    expect(() => build({ objectLockRetention: Duration.days(31) })).toThrow(
      /objectLockRetention must be whole days from 1 day to mediaRetention \(30 days\).*got 31 days/,
    );
    expect(() => build({ objectLockRetention: Duration.days(40), mediaRetention: Duration.days(60) })).not.toThrow();
    expect(() => build({ objectLockRetention: Duration.hours(36) })).toThrow(/whole days.*got 1 day 12 hours/);
    expect(() => build({ objectLockRetention: Duration.days(7), bucketProps: { versioned: false } })).toThrow(
      /bucketProps.versioned cannot be set with objectLockRetention/,
    );
    expect(() => build({ objectLockRetention: Duration.days(7), bucketProps: { objectLockEnabled: true } })).toThrow(/bucketProps.objectLockEnabled/);
  });

  it.each(['objectLockRetention', 'auditMediaReads'] as const)('refuses %s with an existing bucket', (name) => {
    const value = name === 'objectLockRetention' ? Duration.days(7) : true;
    expect(() => build((stack) => ({ existingBucketObj: s3.Bucket.fromBucketName(stack, 'Mine', 'my-archive'), [name]: value }))).toThrow(
      new RegExp(`${name} applies to a created bucket only`),
    );
  });
});

describe('read auditing', () => {
  it('is off by default', () => {
    const { template, webhooks } = build();
    template.resourceCountIs('AWS::CloudTrail::Trail', 0);
    expect(webhooks.mediaReadTrail).toBeUndefined();
  });

  it('with auditMediaReads: a single-Region trail of read data events on media/ only, no management events, into the access-log bucket', () => {
    const { template } = build({ auditMediaReads: true });
    const { id: bucketId } = archiveBucket(template);
    const [logBucketId] = Object.keys(template.findResources('AWS::S3::Bucket', { Properties: { LoggingConfiguration: Match.absent() } }));
    const trails = Object.values(template.findResources('AWS::CloudTrail::Trail'));
    expect(trails).toHaveLength(1);
    expect(trails[0].Properties).toEqual({
      EnableLogFileValidation: true,
      EventSelectors: [
        {
          DataResources: [{ Type: 'AWS::S3::Object', Values: [{ 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/media/']] }] }],
          IncludeManagementEvents: false,
          ReadWriteType: 'ReadOnly',
        },
      ],
      IncludeGlobalServiceEvents: false,
      IsLogging: true,
      IsMultiRegionTrail: false,
      S3BucketName: { Ref: logBucketId },
      S3KeyPrefix: 'cloudtrail',
    });
  });
});
