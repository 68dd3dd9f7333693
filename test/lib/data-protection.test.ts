/**
 * Data protection in the synthesized template: the customer-managed key and what it encrypts,
 * retention, who may read the signing secret's value, and the read grants for consumers.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { describe, expect, it } from 'vitest';
import { ARCHIVE_PREFIXES, BUCKET_PREFIX } from '../../contract/bucket-layout';
import { ENV } from '../../contract/function-environment';
import { FaceSignWebhooks, type FaceSignWebhooksProps } from '../../lib';

type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: Record<string, Record<string, unknown>>; Principal?: unknown };

function build(props: FaceSignWebhooksProps = {}, extra?: (stack: Stack) => Partial<FaceSignWebhooksProps>) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Protected');
  const webhooks = new FaceSignWebhooks(stack, 'FaceSign', { ...props, ...extra?.(stack) });
  return { stack, webhooks, template: () => Template.fromStack(stack) };
}

const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const viaS3 = { StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['s3.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } } };
const viaSqs = { StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['sqs.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } } };

const DATA_KEY_DESCRIPTION = Match.stringLikeRegexp('identity media');

/** The construct's data key (the alarm topic has a key of its own). */
function dataKeyId(template: Template): string {
  const ids = Object.keys(template.findResources('AWS::KMS::Key', { Properties: { Description: DATA_KEY_DESCRIPTION } }));
  expect(ids).toHaveLength(1);
  return ids[0];
}

function statementsOfRole(template: Template, roleLogicalId: string): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleLogicalId }] } });
  return Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

function roleOf(template: Template, service: string): string {
  const fns = template.findResources('AWS::Lambda::Function', { Properties: { Environment: { Variables: { POWERTOOLS_SERVICE_NAME: service } } } });
  return Object.values(fns)[0].Properties.Role['Fn::GetAtt'][0];
}

describe('the customer-managed key', () => {
  const { webhooks, template: t } = build();
  const template = t();
  const keyId = dataKeyId(template);
  const keyArn = { 'Fn::GetAtt': [keyId, 'Arn'] };

  it("is created once (besides the alarm topic's), with rotation on, and kept when the stack is deleted", () => {
    expect(Object.keys(template.findResources('AWS::KMS::Key', { Properties: { Description: DATA_KEY_DESCRIPTION } }))).toEqual([keyId]);
    expect(template.findResources('AWS::KMS::Key')[keyId]).toMatchObject({ DeletionPolicy: 'Retain', Properties: { EnableKeyRotation: true } });
    expect(Stack.of(webhooks).resolve(webhooks.encryptionKey.keyArn)).toEqual(keyArn);
  });

  it("is the bucket's default encryption, with S3 Bucket Keys", () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn }, BucketKeyEnabled: true }],
      },
    });
  });

  it('is given to the processor, which writes every object SSE-KMS under it', () => {
    const fns = template.findResources('AWS::Lambda::Function', {
      Properties: { Environment: { Variables: { POWERTOOLS_SERVICE_NAME: 'facesign-processor' } } },
    });
    expect(Object.values(fns)[0].Properties.Environment.Variables[ENV.encryptionKeyArn]).toEqual(keyArn);
  });

  it('encrypts both queues', () => {
    const queues = Object.values(template.findResources('AWS::SQS::Queue'));
    expect(queues).toHaveLength(2);
    for (const q of queues) {
      expect(q.Properties.KmsMasterKeyId).toEqual(keyArn);
      expect(q.Properties.SqsManagedSseEnabled).toBeUndefined();
    }
  });

  it('leaves the idempotency table (ids and S3 locations only) on the AWS-managed key', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', { SSESpecification: { SSEEnabled: true } });
    const table = Object.values(template.findResources('AWS::DynamoDB::Table'))[0];
    expect(table.Properties.SSESpecification.KMSMasterKeyId).toBeUndefined();
  });

  it('gives the processor exactly what an SSE-KMS multipart upload needs, through S3 only', () => {
    const statements = statementsOfRole(template, roleOf(template, 'facesign-processor'));
    const kmsStatements = statements.filter((s) => actions(s).some((a) => a.startsWith('kms:')));
    expect(kmsStatements).toContainEqual(
      expect.objectContaining({ Effect: 'Allow', Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: keyArn, Condition: viaS3 }),
    );
    // Sending to the DLQ: through SQS only. Receiving (event source): Decrypt only.
    expect(kmsStatements).toContainEqual(expect.objectContaining({ Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: keyArn, Condition: viaSqs }));
    expect(kmsStatements).toContainEqual(expect.objectContaining({ Action: 'kms:Decrypt', Resource: keyArn }));
    for (const s of kmsStatements) {
      expect(s.Resource).toEqual(keyArn);
      expect(
        actions(s).every((a) => a === 'kms:Decrypt' || a === 'kms:GenerateDataKey'),
        JSON.stringify(s),
      ).toBe(true);
    }
  });

  it('gives the verifier only what sending to the encrypted queue (through SQS) and holding a refused delivery (through S3) need', () => {
    const statements = statementsOfRole(template, roleOf(template, 'facesign-verifier'));
    const kmsStatements = statements.filter((s) => actions(s).some((a) => a.startsWith('kms:')));
    expect(kmsStatements).toEqual([
      expect.objectContaining({ Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: keyArn, Condition: viaSqs }),
      expect.objectContaining({ Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: keyArn, Condition: viaS3 }),
    ]);
  });

  it('takes an existing key instead, and refuses one together with settings for a new one', () => {
    const { template: t2 } = build({}, (stack) => ({
      existingEncryptionKeyObj: kms.Key.fromKeyArn(stack, 'Mine', 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab'),
    }));
    const other = t2();
    expect(other.findResources('AWS::KMS::Key', { Properties: { Description: DATA_KEY_DESCRIPTION } })).toEqual({});
    other.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            ServerSideEncryptionByDefault: {
              SSEAlgorithm: 'aws:kms',
              KMSMasterKeyID: 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
            },
            BucketKeyEnabled: true,
          },
        ],
      },
    });
    expect(() =>
      build({ encryptionKeyProps: { alias: 'facesign' } }, (stack) => ({
        existingEncryptionKeyObj: kms.Key.fromKeyArn(stack, 'Mine', 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab'),
      })),
    ).toThrow(/existingEncryptionKeyObj and encryptionKeyProps are mutually exclusive/);
  });

  it('keeps rotation on whatever encryptionKeyProps say, and applies them', () => {
    const { template: t3 } = build({ encryptionKeyProps: { alias: 'alias/facesign-webhooks' } });
    t3().hasResourceProperties('AWS::KMS::Key', { Description: DATA_KEY_DESCRIPTION, EnableKeyRotation: true });
    t3().hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/facesign-webhooks' });
  });

  it("refuses bucketProps that would change the bucket's encryption", () => {
    expect(() => build({ bucketProps: { encryption: s3.BucketEncryption.S3_MANAGED } })).toThrow(
      /bucketProps.encryption is set by the construct .* got encryption in bucketProps/,
    );
    expect(() => build({ bucketProps: { bucketKeyEnabled: false } })).toThrow(/bucketProps.bucketKeyEnabled/);
  });
});

describe('retention', () => {
  const rules = (template: Template) =>
    template.findResources('AWS::S3::Bucket', {
      Properties: {
        BucketEncryption: Match.objectLike({
          ServerSideEncryptionConfiguration: [Match.objectLike({ ServerSideEncryptionByDefault: Match.objectLike({ SSEAlgorithm: 'aws:kms' }) })],
        }),
      },
    });
  const lifecycle = (template: Template) => Object.values(rules(template))[0].Properties.LifecycleConfiguration.Rules as Array<Record<string, unknown>>;

  it('keeps media 30 days and event archives 90 by default; no version or unfinished upload outlives them by more than a day', () => {
    const list = lifecycle(build().template());
    expect(list).toEqual(
      expect.arrayContaining([
        { Id: 'ExpireMedia', Prefix: 'media/', ExpirationInDays: 30, NoncurrentVersionExpiration: { NoncurrentDays: 1 }, Status: 'Enabled' },
        { Id: 'ExpireArchive', Prefix: 'events/', ExpirationInDays: 90, NoncurrentVersionExpiration: { NoncurrentDays: 1 }, Status: 'Enabled' },
        { Id: 'AbortIncompleteMultipartUploads', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' },
      ]),
    );
    // The bucket is not versioned, so it has no delete markers to remove.
    expect(list.filter((rule) => 'ExpiredObjectDeleteMarker' in rule)).toEqual([]);
  });

  it('refuses at synth a lifecycle rule of bucketProps that CloudFormation would refuse at deploy (no action)', () => {
    expect(() => build({ bucketProps: { versioned: true, lifecycleRules: [{ id: 'Markers', expiredObjectDeleteMarker: true }] } })).toThrow(
      /bucketProps.lifecycleRules rule "Markers" needs one of abortIncompleteMultipartUploadAfter, .*got \{"id":"Markers","expiredObjectDeleteMarker":true\}/,
    );
    expect(() => build({ bucketProps: { lifecycleRules: [{ prefix: 'tmp/', transitions: [] }] } })).toThrow(/rule "\(no id\)" needs one of/);
    const list = lifecycle(build({ bucketProps: { lifecycleRules: [{ id: 'Tmp', prefix: 'tmp/', expiration: Duration.days(2) }] } }).template());
    expect(list).toContainEqual(expect.objectContaining({ Id: 'Tmp', Prefix: 'tmp/', ExpirationInDays: 2 }));
  });

  it('removes expired delete markers of a versioned bucket in a rule CloudFormation accepts (with the abort action)', () => {
    const list = lifecycle(build({ bucketProps: { versioned: true } }).template());
    expect(list).toContainEqual({
      Id: 'AbortIncompleteMultipartUploads',
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
      ExpiredObjectDeleteMarker: true,
      Status: 'Enabled',
    });
    expect(list.filter((rule) => 'ExpiredObjectDeleteMarker' in rule)).toHaveLength(1);
  });

  it('expires every prefix the processor writes: quarantined and conflicting payloads with the archive', () => {
    const list = lifecycle(build({ archiveRetention: Duration.days(120) }).template());
    for (const prefix of Object.values(BUCKET_PREFIX)) {
      expect(
        list.filter((rule) => rule.Prefix === prefix && typeof rule.ExpirationInDays === 'number'),
        prefix,
      ).toHaveLength(1);
    }
    for (const prefix of ARCHIVE_PREFIXES) {
      expect(list).toContainEqual(expect.objectContaining({ Prefix: prefix, ExpirationInDays: 120, NoncurrentVersionExpiration: { NoncurrentDays: 1 } }));
    }
  });

  it('applies mediaRetention and archiveRetention', () => {
    const list = lifecycle(build({ mediaRetention: Duration.days(7), archiveRetention: Duration.days(400) }).template());
    expect(list).toContainEqual(expect.objectContaining({ Id: 'ExpireMedia', Prefix: 'media/', ExpirationInDays: 7 }));
    expect(list).toContainEqual(expect.objectContaining({ Id: 'ExpireArchive', Prefix: 'events/', ExpirationInDays: 400 }));
  });

  it.each<[string, FaceSignWebhooksProps, RegExp]>([
    ['hours', { mediaRetention: Duration.hours(36) }, /^mediaRetention must be a whole number of days, got 1 day 12 hours$/],
    ['zero', { archiveRetention: Duration.days(0) }, /^archiveRetention \(days\) must be an integer of at least 1, got 0$/],
    ['hours, event archive', { eventArchiveRetention: Duration.hours(5) }, /^eventArchiveRetention must be a whole number of days, got 5 hours$/],
  ])('refuses a retention of %s, naming the prop and showing the value', (_name, props, message) => {
    expect(() => build(props)).toThrow(message);
  });

  it("refuses retention props with an existing bucket, whose lifecycle is the owner's", () => {
    expect(() => build({ mediaRetention: Duration.days(30) }, (stack) => ({ existingBucketObj: s3.Bucket.fromBucketName(stack, 'B', 'mine') }))).toThrow(
      /mediaRetention applies to a created bucket only; set the lifecycle of existingBucketObj yourself, got mediaRetention with existingBucketObj/,
    );
  });
});

describe('the signing secret', () => {
  it("lets only the verifier's and the reverifier's roles read its value, and denies nothing else", () => {
    const template = build().template();
    const verifierRole = roleOf(template, 'facesign-verifier');
    const reverifierRole = roleOf(template, 'facesign-reverifier');
    const [secretId] = Object.keys(template.findResources('AWS::SecretsManager::Secret'));
    const policies = Object.values(template.findResources('AWS::SecretsManager::ResourcePolicy'));
    expect(policies).toHaveLength(1);
    expect(policies[0].Properties.SecretId).toEqual({ Ref: secretId });
    expect(policies[0].Properties.ResourcePolicy.Statement).toEqual([
      {
        Sid: 'OnlyTheVerifierAndReverifierReadTheValue',
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 'secretsmanager:GetSecretValue',
        Resource: '*',
        Condition: { StringNotEquals: { 'aws:PrincipalArn': [{ 'Fn::GetAtt': [verifierRole, 'Arn'] }, { 'Fn::GetAtt': [reverifierRole, 'Arn'] }] } },
      },
    ]);
  });

  it("leaves an existing secret's policy to its owner", () => {
    const template = build({}, (stack) => ({ existingSigningSecretObj: secretsmanager.Secret.fromSecretNameV2(stack, 'S', 'facesign/signing') })).template();
    template.resourceCountIs('AWS::SecretsManager::ResourcePolicy', 0);
  });

  it('leaves a secret of the same app to its owner too: no policy, no cdk-nag acknowledgement on it', () => {
    // A Secret built in the same app is still the user's (the integration test reads its own).
    const template = build({}, (stack) => ({ existingSigningSecretObj: new secretsmanager.Secret(stack, 'Mine') })).template();
    template.resourceCountIs('AWS::SecretsManager::ResourcePolicy', 0);
    const [mine] = Object.values(template.findResources('AWS::SecretsManager::Secret'));
    expect(JSON.stringify(mine.Metadata ?? {})).not.toContain('AwsSolutions-SMG4');
  });
});

describe('grantReadMedia and grantReadArchive', () => {
  it.each([
    ['grantReadMedia', ['media/*']],
    ['grantReadArchive', ['events/*', 'quarantine/*', 'conflicts/*']],
  ] as const)('%s gives s3:GetObject on %j and kms:Decrypt through S3, nothing more', (method, prefixes) => {
    const { stack, webhooks, template } = build();
    const role = new iam.Role(stack, 'Reader', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    const grant = webhooks[method](role);
    expect(grant.success).toBe(true);
    const t = template();
    const [bucketId] = Object.keys(
      t.findResources('AWS::S3::Bucket', { Properties: { BucketEncryption: Match.anyValue(), LoggingConfiguration: Match.anyValue() } }),
    );
    const keyId = dataKeyId(t);
    const statements = statementsOfRole(t, Stack.of(role).getLogicalId(role.node.defaultChild as iam.CfnRole));
    const objectArn = (prefix: string) => ({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, `/${prefix}`]] });
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: prefixes.length === 1 ? objectArn(prefixes[0]) : prefixes.map(objectArn),
      },
      { Effect: 'Allow', Action: 'kms:Decrypt', Resource: { 'Fn::GetAtt': [keyId, 'Arn'] }, Condition: viaS3 },
    ]);
  });
});
