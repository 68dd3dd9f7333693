/**
 * Walks a synthesized template the way CloudWatch's notification would travel: alarm → action →
 * SNS topic → topic policy → KMS key policy, and says where any link would refuse it. A small IAM
 * evaluator (explicit Deny wins, then an Allow is needed) over exactly the policy features the
 * template uses; anything it does not understand is reported as a problem, never passed.
 */

/** The account and region the walker pretends to deploy into. */
export const ACCOUNT = '111122223333';
export const REGION = 'eu-west-1';

type Json = Record<string, unknown>;
interface Resource {
  Type: string;
  Properties?: Json;
}
interface Statement {
  Effect: 'Allow' | 'Deny';
  Principal?: unknown;
  Action?: string | string[];
  Resource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
  NotAction?: unknown;
  NotResource?: unknown;
  NotPrincipal?: unknown;
}

/** Renders a CloudFormation value as the string it would be in the walker's account and region. */
export function resolveValue(value: unknown, resources: Record<string, Resource>): string {
  if (typeof value === 'string') return value;
  const v = value as Json;
  if (typeof v.Ref === 'string') {
    const ref = v.Ref;
    const pseudo: Record<string, string> = { 'AWS::AccountId': ACCOUNT, 'AWS::Region': REGION, 'AWS::Partition': 'aws', 'AWS::URLSuffix': 'amazonaws.com' };
    if (pseudo[ref]) return pseudo[ref];
    const type = resources[ref]?.Type;
    if (type === 'AWS::SNS::Topic') return `arn:aws:sns:${REGION}:${ACCOUNT}:${ref}`;
    if (type === 'AWS::KMS::Key') return `key-id-${ref}`;
    return `ref:${ref}`;
  }
  if (Array.isArray(v['Fn::GetAtt'])) {
    const [id, attr] = v['Fn::GetAtt'] as [string, string];
    if (resources[id]?.Type === 'AWS::KMS::Key' && attr === 'Arn') return `arn:aws:kms:${REGION}:${ACCOUNT}:key/key-id-${id}`;
    if (resources[id]?.Type === 'AWS::SNS::Topic' && attr === 'TopicArn') return `arn:aws:sns:${REGION}:${ACCOUNT}:${id}`;
    return `getatt:${id}.${attr}`;
  }
  if (Array.isArray(v['Fn::Join'])) {
    const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map((p) => resolveValue(p, resources)).join(sep);
  }
  throw new Error(`cannot resolve ${JSON.stringify(value)}`);
}

const list = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);
const glob = (pattern: string, value: string, caseInsensitive = false) =>
  new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\?/g, '.'))
      .join('.*')}$`,
    caseInsensitive ? 'i' : '',
  ).test(value);

/** A request made by a service principal on behalf of one of its resources. */
export interface ServiceRequest {
  readonly service: string;
  readonly action: string;
  readonly resource: string;
  readonly context: Readonly<Record<string, string>>;
}

/** 'allowed', 'explicitly denied' or 'not allowed', or a description of what could not be evaluated. */
export function evaluate(statements: Statement[], request: ServiceRequest, resources: Record<string, Resource>): string {
  let allowed = false;
  for (const st of statements) {
    if (st.NotAction || st.NotResource || st.NotPrincipal) return `unsupported statement ${JSON.stringify(st)}`;
    const principalMatches = (() => {
      const p = st.Principal;
      if (p === '*') return true;
      const obj = p as Json | undefined;
      if (!obj) return false;
      if (list(obj.AWS as string | string[]).includes('*')) return true;
      return list(obj.Service as string | string[]).includes(request.service);
    })();
    if (!principalMatches) continue;
    if (!list(st.Action).some((a) => glob(a, request.action, true))) continue;
    if (!list(st.Resource).some((r) => glob(resolveValue(r, resources), request.resource))) continue;
    let conditionsHold = true;
    for (const [rawOp, entries] of Object.entries(st.Condition ?? {})) {
      const ifExists = rawOp.endsWith('IfExists');
      const op = rawOp.replace(/IfExists$/, '');
      for (const [key, expected] of Object.entries(entries)) {
        const actual = request.context[key];
        if (actual === undefined) {
          if (!ifExists) conditionsHold = false;
          continue;
        }
        const values = list(expected as unknown).map((e) => resolveValue(e, resources));
        const match = (() => {
          switch (op) {
            case 'StringEquals':
            case 'ArnEquals':
            case 'Bool':
              return values.some((e) => e === actual);
            case 'StringLike':
            case 'ArnLike':
              return values.some((e) => glob(e, actual));
            case 'StringNotEquals':
              return values.every((e) => e !== actual);
            default:
              return undefined;
          }
        })();
        if (match === undefined) return `unsupported condition operator ${rawOp}`;
        if (!match) conditionsHold = false;
      }
    }
    if (!conditionsHold) continue;
    if (st.Effect === 'Deny') return 'explicitly denied';
    allowed = true;
  }
  return allowed ? 'allowed' : 'not allowed';
}

/** What the walk found: how many alarms and actions it followed, and every link that would refuse CloudWatch. */
export interface DeliveryReport {
  readonly alarms: number;
  readonly actions: number;
  readonly problems: string[];
}

/** Follows every alarm action of the template to its topic, topic policy and key policy. */
export function walkAlarmDelivery(template: { Resources: Record<string, Resource> }): DeliveryReport {
  const resources = template.Resources;
  const problems: string[] = [];
  let alarms = 0;
  let actions = 0;
  const topics = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::SNS::Topic');
  const policies = Object.values(resources).filter((r) => r.Type === 'AWS::SNS::TopicPolicy');
  for (const [alarmId, alarm] of Object.entries(resources).filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm')) {
    alarms++;
    const props = alarm.Properties ?? {};
    const name = props.AlarmName;
    if (typeof name !== 'string') {
      problems.push(`${alarmId}: no literal AlarmName, so its ARN (aws:SourceArn) cannot be checked`);
      continue;
    }
    const alarmArn = `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${name}`;
    const context = { 'aws:SourceAccount': ACCOUNT, 'aws:SourceArn': alarmArn, 'aws:SecureTransport': 'true' };
    const targets = [...list(props.AlarmActions as unknown[]), ...list(props.OKActions as unknown[])];
    if (targets.length === 0) problems.push(`${name}: no action`);
    for (const target of targets) {
      actions++;
      const arn = resolveValue(target, resources);
      const topicEntry = topics.find(([id]) => `arn:aws:sns:${REGION}:${ACCOUNT}:${id}` === arn);
      if (!topicEntry) {
        problems.push(`${name}: action ${arn} is not a topic of this template, so it cannot be checked`);
        continue;
      }
      const [topicId, topic] = topicEntry;
      const topicPolicies = policies.filter((p) => list(p.Properties?.Topics as unknown[]).some((t) => resolveValue(t, resources) === arn));
      if (topicPolicies.length > 1) problems.push(`${name}: topic ${topicId} has ${topicPolicies.length} topic policies; only one takes effect`);
      if (topicPolicies.length === 1) {
        const statements = list((topicPolicies[0].Properties?.PolicyDocument as Json)?.Statement as Statement[]);
        const verdict = evaluate(statements, { service: 'cloudwatch.amazonaws.com', action: 'sns:Publish', resource: arn, context }, resources);
        if (verdict !== 'allowed') problems.push(`${name}: topic policy of ${topicId}: sns:Publish ${verdict}`);
      }
      // No policy of its own: SNS's default policy lets the owner account's alarms publish.
      const keyRef = topic.Properties?.KmsMasterKeyId;
      if (keyRef === undefined) continue;
      const keyValue = resolveValue(keyRef, resources);
      const keyEntry = Object.entries(resources).find(
        ([id, r]) => r.Type === 'AWS::KMS::Key' && (keyValue === `key-id-${id}` || keyValue.endsWith(`key/key-id-${id}`)),
      );
      if (!keyEntry) {
        problems.push(
          `${name}: topic ${topicId} is encrypted with ${keyValue}, not a key of this template (CloudWatch cannot use the AWS-managed alias/aws/sns key)`,
        );
        continue;
      }
      const keyStatements = list((keyEntry[1].Properties?.KeyPolicy as Json)?.Statement as Statement[]);
      for (const action of ['kms:GenerateDataKey', 'kms:Decrypt']) {
        const verdict = evaluate(
          keyStatements,
          { service: 'cloudwatch.amazonaws.com', action, resource: `arn:aws:kms:${REGION}:${ACCOUNT}:key/${keyValue}`, context },
          resources,
        );
        if (verdict !== 'allowed') problems.push(`${name}: key policy of ${keyEntry[0]}: ${action} ${verdict}`);
      }
    }
  }
  return { alarms, actions, problems };
}
