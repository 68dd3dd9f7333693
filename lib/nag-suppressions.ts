/**
 * cdk-nag (AwsSolutions) acknowledgements: each finding that has no fix, on the one resource it
 * concerns, with its reason. Written in the forms cdk-nag reads, so users of the construct need no cdk-nag.
 */
import { CfnResource, Stack, Validations } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type { FrontDoor } from './front-door/front-door';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct, IConstruct } from 'constructs';
import { BUCKET_PREFIX, HELD_PREFIX } from '../contract/bucket-layout';

/**
 * The name cdk-nag gives a wildcard resource finding: `Resource::` and the resolved ARN, with
 * `Ref` written `<Name>` and `Fn::GetAtt` written `<Name.Attr>`.
 */
export function nagResource(scope: Construct, arn: string): string {
  const render = (value: unknown): string => {
    if (typeof value === 'string') return value;
    const v = value as Record<string, unknown>;
    if (v.Ref) return `<${v.Ref as string}>`;
    if (v['Fn::GetAtt']) return `<${(v['Fn::GetAtt'] as string[]).join('.')}>`;
    if (v['Fn::Join']) {
      const [separator, parts] = v['Fn::Join'] as [string, unknown[]];
      return parts.map(render).join(separator);
    }
    throw new Error(`cannot name a cdk-nag finding for ${JSON.stringify(value)}`);
  };
  return `Resource::${render(Stack.of(scope).resolve(arn))}`;
}

/** One acknowledged finding. */
export interface NagSuppression {
  readonly id: string;
  readonly reason: string;
  readonly appliesTo?: string[];
}

/**
 * Acknowledges cdk-nag findings on one resource, in both forms cdk-nag reads: CDK's native
 * `Validations.of().acknowledge()` (cdk-nag 3; IAM findings as `IAM5[<finding>]`) and the
 * `cdk_nag` metadata with `appliesTo` (cdk-nag 2). Users of the construct need neither installed.
 */
export function suppressNag(target: IConstruct | undefined, suppressions: NagSuppression[]): void {
  const resource = target instanceof CfnResource ? target : target?.node.defaultChild;
  if (!(resource instanceof CfnResource)) throw new Error(`cannot suppress cdk-nag findings on ${target?.node.path ?? 'a missing resource'}`);
  const existing = (resource.getMetadata('cdk_nag')?.rules_to_suppress ?? []) as NagSuppression[];
  resource.addMetadata('cdk_nag', { rules_to_suppress: [...existing, ...suppressions] });
  for (const { id, reason, appliesTo } of suppressions) {
    const ids = appliesTo ? appliesTo.map((finding) => `${id}[${finding}]`) : [id];
    Validations.of(resource).acknowledge(...ids.map((rule) => ({ id: `AwsSolutions::${rule}`, reason })));
  }
}

/** The construct's resources that carry acknowledged findings. */
export interface NaggedResources {
  /** The construct: findings name resources relative to its stack. */
  readonly scope: Construct;
  readonly frontDoor: FrontDoor;
  /** The signing secret the construct created; undefined when one was passed in (it is the user's). */
  readonly createdSigningSecret?: secretsmanager.Secret;
  readonly verifier: lambda.Function;
  readonly verifierLogGroup: logs.ILogGroup;
  readonly processor: lambda.Function;
  readonly processorLogGroup: logs.ILogGroup;
  readonly reverifier: lambda.Function;
  readonly reverifierLogGroup: logs.ILogGroup;
  readonly bucket: s3.IBucket;
  /** The server access log bucket, when the construct created the bucket. */
  readonly accessLogsBucket?: s3.Bucket;
}

/** The construct's findings that have no fix, each on one resource with its reason. */
export function suppressJustifiedNagFindings(r: NaggedResources): void {
  const hmacOnly =
    'FaceSign cannot send API Gateway credentials; every request is authenticated by its HMAC signature, verified in the verifier Lambda before anything is trusted.';
  const routeType = r.frontDoor.type === 'http-api' ? 'AWS::ApiGatewayV2::Route' : 'AWS::ApiGateway::Method';
  const route = r.frontDoor.api.node.findAll().find((c) => c instanceof CfnResource && c.cfnResourceType === routeType);
  suppressNag(route, [
    { id: 'AwsSolutions-APIG4', reason: hmacOnly },
    ...(r.frontDoor.type === 'http-api' ? [] : [{ id: 'AwsSolutions-COG4', reason: hmacOnly }]),
  ]);
  if (r.frontDoor.type === 'rest-api-waf') suppressRestApiFindings(r.frontDoor);
  if (r.createdSigningSecret) {
    suppressNag(r.createdSigningSecret, [
      {
        id: 'AwsSolutions-SMG4',
        reason:
          'FaceSign issues the signing secret; it is rotated in the FaceSign dashboard, and the {"secrets":[...]} form lets both values be active during the switch. A rotation Lambda cannot mint FaceSign secrets.',
      },
    ]);
  }
  for (const [fn, logGroup] of [
    [r.verifier, r.verifierLogGroup],
    [r.processor, r.processorLogGroup],
    [r.reverifier, r.reverifierLogGroup],
  ] as const) {
    suppressNag(fn.role?.node.tryFindChild('DefaultPolicy')?.node.defaultChild, [
      {
        id: 'AwsSolutions-IAM5',
        reason: 'X-Ray PutTraceSegments and PutTelemetryRecords support no resource-level permissions.',
        appliesTo: ['Resource::*'],
      },
      {
        id: 'AwsSolutions-IAM5',
        reason: "Log streams are created by Lambda with generated names; the grant is limited to the function's own log group.",
        appliesTo: [nagResource(r.scope, `${logGroup.logGroupArn}:*`)],
      },
      ...(fn === r.processor
        ? [
            {
              id: 'AwsSolutions-IAM5',
              reason:
                'Object keys are per event and per media file; the grant is limited to the events/, media/, quarantine/ and conflicts/ prefixes of the archive bucket (reads: media/ only).',
              appliesTo: [...Object.values(BUCKET_PREFIX).map((prefix) => nagResource(r.scope, r.bucket.arnForObjects(`${prefix}*`)))],
            },
          ]
        : []),
      ...(fn === r.verifier || fn === r.reverifier
        ? [
            {
              id: 'AwsSolutions-IAM5',
              reason:
                fn === r.verifier
                  ? 'Held deliveries are keyed by arrival time and body hash; the verifier may only PutObject under held/ (no read, no list), and update only the hold-rate# counter keys.'
                  : 'Held deliveries are keyed by arrival time and body hash; the reverifier may only read and remove objects under held/.',
              appliesTo: [nagResource(r.scope, r.bucket.arnForObjects(`${HELD_PREFIX}*`))],
            },
          ]
        : []),
    ]);
  }
  if (r.accessLogsBucket) {
    suppressNag(r.accessLogsBucket, [{ id: 'AwsSolutions-S1', reason: 'This is the server access log bucket; logging it into itself would loop.' }]);
  }
}

/** The REST API door's findings that have no fix. */
function suppressRestApiFindings(door: FrontDoor): void {
  const api = door.api as apigateway.RestApi;
  suppressNag(api, [
    {
      id: 'AwsSolutions-APIG2',
      reason:
        'The body is checked by the verifier: its HMAC first, then its JSON and envelope; an API Gateway model would refuse with a 400 (never retried) authentic events whose shape FaceSign changed, which the verifier quarantines instead.',
    },
  ]);
  suppressNag(api.deploymentStage, [
    {
      id: 'AwsSolutions-APIG6',
      reason:
        'Every request is in the access log (status, gateway response type, WAF verdict, integration error); execution logs would add a log group outside the stack, with no retention, that API Gateway creates itself.',
    },
  ]);
  const role = api.node.tryFindChild('CloudWatchRole');
  suppressNag(role, [
    {
      id: 'AwsSolutions-IAM4',
      reason:
        "The account's API Gateway CloudWatch Logs role, which REST API access logging needs; AWS documents AmazonAPIGatewayPushToCloudWatchLogs as its policy (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html).",
      appliesTo: ['Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs'],
    },
  ]);
}
