/**
 * Who can read stored media: the bucket policy's media rule evaluated as S3 would (a Deny wins over
 * any Allow), for the processor, grantees added before and after, a break-glass principal, an
 * administrator, the other functions, and archive grantees.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { ARCHIVE_PREFIXES, BUCKET_PREFIX, HELD_PREFIX } from '../../contract/bucket-layout';
import { FaceSignWebhooks, type FaceSignWebhooksProps } from '../../lib';
import { ACCOUNT, defaultPhysical, render, wildcardMatch } from '../support/template-values';

type Statement = { Sid?: string; Effect: string; Action: string | string[]; Resource: string | string[]; Condition?: Record<string, Record<string, unknown>> };

function build(props: FaceSignWebhooksProps = {}, after?: (stack: Stack, webhooks: FaceSignWebhooks) => void) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Media');
  const webhooks = new FaceSignWebhooks(stack, 'FaceSign', props);
  after?.(stack, webhooks);
  return { stack, webhooks, template: Template.fromStack(stack) };
}

const list = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

/** The archive bucket's logical id (the one with server access logging). */
function archiveBucketId(template: Template): string {
  const [id] = Object.keys(template.findResources('AWS::S3::Bucket', { Properties: { LoggingConfiguration: Match.anyValue() } }));
  return id;
}

/** The archive bucket policy's statements, with every intrinsic function evaluated. */
function bucketPolicy(template: Template): { bucketArn: string; statements: Statement[] } {
  const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>;
  const bucketId = archiveBucketId(template);
  const physical = defaultPhysical(resources);
  const policy = Object.values(resources).find((r) => r.Type === 'AWS::S3::BucketPolicy' && (r.Properties.Bucket as { Ref: string }).Ref === bucketId);
  if (!policy) throw new Error('the archive bucket has no policy');
  const document = render(policy.Properties.PolicyDocument, physical) as { Statement: Statement[] };
  return { bucketArn: physical(bucketId, 'Arn'), statements: document.Statement };
}

/** Whether the bucket policy denies `principalArn` the action on `key`, for a TLS 1.3 request. */
function denied(template: Template, principalArn: string, key: string, action = 's3:GetObject'): boolean {
  const { bucketArn, statements } = bucketPolicy(template);
  const request: Record<string, string> = { 'aws:SecureTransport': 'true', 's3:TlsVersion': '1.3', 'aws:PrincipalArn': principalArn };
  return statements.some((s) => {
    if (s.Effect !== 'Deny') return false;
    if (!list(s.Action).some((a) => wildcardMatch(a, action))) return false;
    if (!list(s.Resource).some((r) => wildcardMatch(r, `${bucketArn}/${key}`))) return false;
    return Object.entries(s.Condition ?? {}).every(([operator, keys]) =>
      Object.entries(keys).every(([name, values]) => {
        const actual = request[name];
        if (actual === undefined) throw new Error(`the test does not model ${name}`);
        const vs = list(values as string | string[]).map(String);
        switch (operator) {
          case 'Bool':
            return vs.includes(actual);
          case 'NumericLessThan':
            return vs.some((v) => Number(actual) < Number(v));
          case 'ArnNotLike':
            return !vs.some((v) => wildcardMatch(v, actual));
          default:
            throw new Error(`the test does not model ${operator}`);
        }
      }),
    );
  });
}

const roleArn = (template: Template, service: string): string => {
  const fns = template.findResources('AWS::Lambda::Function', { Properties: { Environment: { Variables: { POWERTOOLS_SERVICE_NAME: service } } } });
  return `arn:aws:iam::${ACCOUNT}:role/${Object.values(fns)[0].Properties.Role['Fn::GetAtt'][0]}`;
};
const logicalArn = (stack: Stack, role: iam.Role) => `arn:aws:iam::${ACCOUNT}:role/${stack.getLogicalId(role.node.defaultChild as iam.CfnRole)}`;

const PHOTO = 'media/ses_1/media.user_photo/med_1.jpg';
/** Where the processor puts a quarantined event's media (its session id, or a placeholder when it has none): under media/ either way. */
const QUARANTINED_PHOTO = 'media/_unknown-session/media.user_photo/med_2.jpg';
const ADMIN = `arn:aws:iam::${ACCOUNT}:role/Administrator`;

describe('the media rule of the bucket policy', () => {
  const { template } = build();

  it('denies every media read to an administrator, whatever its IAM policy allows, and nothing outside media/', () => {
    for (const action of ['s3:GetObject', 's3:GetObjectVersion', 's3:GetObjectVersionForReplication']) {
      expect(denied(template, ADMIN, PHOTO, action), action).toBe(true);
      expect(denied(template, ADMIN, QUARANTINED_PHOTO, action), action).toBe(true);
    }
    for (const prefix of [...ARCHIVE_PREFIXES, HELD_PREFIX]) expect(denied(template, ADMIN, `${prefix}x.json`), prefix).toBe(false);
    // Listing and writing are not reads of the bytes: the rule leaves them to IAM.
    expect(denied(template, ADMIN, PHOTO, 's3:PutObject')).toBe(false);
    expect(denied(template, ADMIN, PHOTO, 's3:DeleteObject')).toBe(false);
  });

  it('lets the processor read media (a stored file counts as done), and no other function of the construct', () => {
    expect(denied(template, roleArn(template, 'facesign-processor'), PHOTO)).toBe(false);
    expect(denied(template, roleArn(template, 'facesign-verifier'), PHOTO)).toBe(true);
    expect(denied(template, roleArn(template, 'facesign-reverifier'), PHOTO)).toBe(true);
  });

  it('is one Deny for any principal, on media/* only, naming readers by aws:PrincipalArn', () => {
    const { bucketArn, statements } = bucketPolicy(template);
    const rule = statements.filter((s) => s.Sid === 'OnlyNamedReadersReadMedia');
    expect(rule).toEqual([
      {
        Sid: 'OnlyNamedReadersReadMedia',
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: ['s3:GetObject', 's3:GetObjectVersion', 's3:GetObjectVersionForReplication'],
        Resource: `${bucketArn}/${BUCKET_PREFIX.media}*`,
        Condition: { ArnNotLike: { 'aws:PrincipalArn': [roleArn(template, 'facesign-processor')] } },
      },
    ]);
  });

  it('leaves the key policy as CDK makes it: with S3 Bucket Keys, KMS cannot tell a media read from an archive read', () => {
    const keys = template.findResources('AWS::KMS::Key', { Properties: { Description: Match.stringLikeRegexp('identity media') } });
    const [key] = Object.values(keys);
    const statements = key.Properties.KeyPolicy.Statement;
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatchObject({ Effect: 'Allow', Action: 'kms:*', Resource: '*' });
    // The account root: the account's IAM policies decide, as without a key policy of ours.
    expect(JSON.stringify(statements[0].Principal)).toContain(':root');
  });
});

describe('grantReadMedia, grantReadArchive and break-glass principals', () => {
  it('admits a grantee added after construction, and only it', () => {
    let reader!: iam.Role;
    let other!: iam.Role;
    const { stack, template } = build({}, (s, webhooks) => {
      reader = new iam.Role(s, 'Reader', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
      other = new iam.Role(s, 'Other', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
      webhooks.grantReadMedia(reader);
    });
    expect(denied(template, logicalArn(stack, reader), PHOTO)).toBe(false);
    expect(denied(template, logicalArn(stack, reader), QUARANTINED_PHOTO)).toBe(false);
    expect(denied(template, logicalArn(stack, other), PHOTO)).toBe(true);
  });

  it("admits a function's role and an imported role or user, and refuses a principal without an ARN to name", () => {
    const { webhooks, template } = build({}, (s, w) => {
      const fn = new lambda.Function(s, 'Fn', {
        runtime: lambda.Runtime.NODEJS_22_X,
        handler: 'index.handler',
        code: lambda.Code.fromInline('exports.handler = async () => {};'),
      });
      w.grantReadMedia(fn);
      // Of the stack's own account (a token): a principal of another account would need the key policy.
      w.grantReadMedia(iam.Role.fromRoleArn(s, 'Imported', `arn:aws:iam::${s.account}:role/team/photo-reviewer`));
      w.grantReadMedia(iam.User.fromUserArn(s, 'Auditor', `arn:aws:iam::${s.account}:user/auditor`));
    });
    const fnRole = Object.keys(template.findResources('AWS::IAM::Role')).find((id) => id.startsWith('FnServiceRole'))!;
    expect(denied(template, `arn:aws:iam::${ACCOUNT}:role/${fnRole}`, PHOTO)).toBe(false);
    expect(denied(template, `arn:aws:iam::${ACCOUNT}:role/team/photo-reviewer`, PHOTO)).toBe(false);
    expect(denied(template, `arn:aws:iam::${ACCOUNT}:user/auditor`, PHOTO)).toBe(false);
    expect(() => webhooks.grantReadMedia(new iam.AccountRootPrincipal())).toThrow(/grantReadMedia needs an IAM role or user .* got AccountRootPrincipal/);
    expect(() => webhooks.grantReadMedia(new iam.ServicePrincipal('lambda.amazonaws.com'))).toThrow(/got ServicePrincipal/);
  });

  it('never lets an archive grantee read media: no media/ in its grant, and the media rule does not name it', () => {
    let archiveReader!: iam.Role;
    const { stack, template } = build({}, (s, webhooks) => {
      archiveReader = new iam.Role(s, 'ArchiveReader', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
      webhooks.grantReadArchive(archiveReader);
    });
    const policies = template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: stack.getLogicalId(archiveReader.node.defaultChild as iam.CfnRole) }] },
    });
    expect(JSON.stringify(policies)).not.toContain(BUCKET_PREFIX.media);
    expect(ARCHIVE_PREFIXES.some((p) => p.startsWith(BUCKET_PREFIX.media) || BUCKET_PREFIX.media.startsWith(p))).toBe(false);
    expect(denied(template, logicalArn(stack, archiveReader), QUARANTINED_PHOTO)).toBe(true);
    expect(denied(template, logicalArn(stack, archiveReader), 'quarantine/2026/12/06/abc.json')).toBe(false);
  });

  it('admits break-glass principals, patterns included, and nobody else', () => {
    const pattern = `arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/*AWSReservedSSO_BreakGlass_*`;
    const { template } = build({ mediaBreakGlassPrincipalArns: [`arn:aws:iam::${ACCOUNT}:role/Investigator`, pattern] });
    expect(denied(template, `arn:aws:iam::${ACCOUNT}:role/Investigator`, PHOTO)).toBe(false);
    expect(denied(template, `arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_BreakGlass_0a1b2c`, PHOTO)).toBe(false);
    expect(denied(template, `arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0a1b2c`, PHOTO)).toBe(true);
  });

  it('warns that an existing bucket gets no media rule, which its owner must add', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const other = new Stack(app, 'Existing');
    new FaceSignWebhooks(other, 'FaceSign', { existingBucketObj: s3.Bucket.fromBucketName(other, 'Mine', 'my-archive') });
    const warnings = Annotations.fromStack(other).findWarning('*', Match.stringLikeRegexp('add the OnlyNamedReadersReadMedia statement yourself'));
    expect(warnings).toHaveLength(1);
  });
});

describe('a grantee of another account', () => {
  it('reads media through the bucket policy and the key policy, the key naming itself "*" (no dependency on itself)', () => {
    const reviewer = 'arn:aws:iam::444455556666:role/photo-reviewer';
    const { template } = build({}, (s, webhooks) => {
      webhooks.grantReadMedia(iam.Role.fromRoleArn(s, 'Reviewer', reviewer));
    });
    expect(denied(template, reviewer, PHOTO)).toBe(false);
    const keys = template.findResources('AWS::KMS::Key', { Properties: { Description: Match.stringLikeRegexp('identity media') } });
    const statements = Object.values(keys)[0].Properties.KeyPolicy.Statement as Array<{ Action: string; Resource: unknown; Principal: unknown }>;
    expect(statements).toContainEqual(expect.objectContaining({ Action: 'kms:Decrypt', Resource: '*', Principal: { AWS: reviewer } }));
  });
});
