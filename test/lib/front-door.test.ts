/**
 * The front door on the synthesized template: the REST API door (the default) answers every
 * throttle and block with a retryable 503, carries the WAF web ACL and passes the body byte for
 * byte; the HTTP API door stays as it was; a custom domain serves the webhook URL on either.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { describe, expect, it } from 'vitest';
import {
  FaceSignWebhooks,
  FaceSignWebhooksStack,
  type FaceSignWebhooksProps,
  type FrontDoor,
  type FrontDoorMetrics,
  type FrontDoorType,
  type SigningSecretWatch,
  type WebhookWebAcl,
} from '../../lib';
import { RETRYABLE_GATEWAY_RESPONSES } from '../../lib/front-door/front-door';

function synth(props?: FaceSignWebhooksProps, build?: (stack: Stack) => Partial<FaceSignWebhooksProps>) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Door', { env: { account: '123456789012', region: 'eu-west-1' } });
  const webhooks = new FaceSignWebhooks(stack, 'FaceSign', { ...props, ...build?.(stack) });
  return { webhooks, stack, template: Template.fromStack(stack) };
}

const domain = (stack: Stack, withZone = true): Partial<FaceSignWebhooksProps> => ({
  domainName: 'hooks.example.com',
  certificate: acm.Certificate.fromCertificateArn(stack, 'Cert', 'arn:aws:acm:eu-west-1:123456789012:certificate/abc'),
  ...(withZone ? { hostedZone: route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z123', zoneName: 'example.com' }) } : {}),
});

const only = (template: Template, type: string) => {
  const found = Object.entries(template.findResources(type));
  expect(found, type).toHaveLength(1);
  return { id: found[0][0], properties: found[0][1].Properties };
};

describe('the REST API door (the default)', () => {
  const { template, webhooks } = synth();

  it('is a regional REST API, and nothing of an HTTP API is created', () => {
    expect(webhooks.frontDoor.type).toBe('rest-api-waf');
    template.hasResourceProperties('AWS::ApiGateway::RestApi', { EndpointConfiguration: { Types: ['REGIONAL'] } });
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 0);
    template.resourceCountIs('AWS::ApiGatewayV2::Stage', 0);
  });

  it('types its public fields with what the package exports (a user can name them)', () => {
    const door: FrontDoor = webhooks.frontDoor;
    const type: FrontDoorType = door.type;
    const metrics: FrontDoorMetrics = door;
    const acl: WebhookWebAcl | undefined = door.webAcl;
    const watch: SigningSecretWatch | undefined = webhooks.signingSecretWatch;
    expect([type, metrics.throttlesAreRetried, acl !== undefined, watch !== undefined]).toEqual(['rest-api-waf', true, true, true]);
  });

  it.each(['rest-api-waf', 'http-api'] as const)('keeps the execute-api endpoint without a custom domain (%s)', (frontDoor) => {
    const type = frontDoor === 'rest-api-waf' ? 'AWS::ApiGateway::RestApi' : 'AWS::ApiGatewayV2::Api';
    expect(only(synth({ frontDoor }).template, type).properties.DisableExecuteApiEndpoint).toBeUndefined();
  });

  it('passes every body base64-encoded (binary media type */*), so the verifier hashes exactly the bytes FaceSign signed', () => {
    expect(only(template, 'AWS::ApiGateway::RestApi').properties.BinaryMediaTypes).toEqual(['*/*']);
  });

  it('routes POST /webhooks/facesign to the verifier as a Lambda proxy within 29 s, and only that', () => {
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method'));
    expect(methods).toHaveLength(1);
    expect(methods[0].Properties).toMatchObject({ HttpMethod: 'POST', AuthorizationType: 'NONE', Integration: { Type: 'AWS_PROXY', TimeoutInMillis: 29000 } });
    const paths = Object.values(template.findResources('AWS::ApiGateway::Resource')).map((r) => r.Properties.PathPart);
    expect(paths.sort()).toEqual(['facesign', 'webhooks']);
    // Invoked only through the stage's POST method, never by the console's test invoke.
    const permissions = Object.values(template.findResources('AWS::Lambda::Permission', { Properties: { Principal: 'apigateway.amazonaws.com' } }));
    expect(permissions).toHaveLength(1);
    expect(JSON.stringify(permissions[0].Properties.SourceArn)).toContain('/POST/webhooks/facesign');
    expect(JSON.stringify(permissions[0].Properties.SourceArn)).not.toContain('test-invoke-stage');
  });

  it.each(RETRYABLE_GATEWAY_RESPONSES)('answers %s with 503 and Retry-After (FaceSign retries a 5xx, never a 4xx)', (type) => {
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: type,
      StatusCode: '503',
      ResponseParameters: { 'gatewayresponse.header.Retry-After': "'60'" },
    });
  });

  it('leaves the other 4xx answers alone: a wrong path or an over-size body would fail on every retry', () => {
    const types = Object.values(template.findResources('AWS::ApiGateway::GatewayResponse')).map((r) => r.Properties.ResponseType);
    expect(types.sort()).toEqual([...RETRYABLE_GATEWAY_RESPONSES].sort());
  });

  it('associates a regional web ACL with the stage: a per-source-IP rate rule whose block is a 503, everything else allowed', () => {
    const acl = only(template, 'AWS::WAFv2::WebACL');
    expect(acl.properties).toMatchObject({
      Scope: 'REGIONAL',
      DefaultAction: { Allow: {} },
      VisibilityConfig: { CloudWatchMetricsEnabled: true, SampledRequestsEnabled: true },
    });
    expect(acl.properties.Rules).toEqual([
      expect.objectContaining({
        Name: 'RateLimitPerSourceIp',
        Statement: { RateBasedStatement: { Limit: 50000, EvaluationWindowSec: 300, AggregateKeyType: 'IP' } },
        Action: {
          Block: { CustomResponse: { ResponseCode: 503, CustomResponseBodyKey: 'retryable', ResponseHeaders: [{ Name: 'Retry-After', Value: '60' }] } },
        },
      }),
    ]);
    const stage = only(template, 'AWS::ApiGateway::Stage');
    const association = only(template, 'AWS::WAFv2::WebACLAssociation').properties;
    expect(association.WebACLArn).toEqual({ 'Fn::GetAtt': [acl.id, 'Arn'] });
    expect(JSON.stringify(association.ResourceArn)).toContain(`{"Ref":"${stage.id}"}`);
    expect(JSON.stringify(association.ResourceArn)).toContain('/restapis/');
  });

  it('does not throttle the stage unless asked, and logs each request without any header, with the gateway response type and WAF verdict', () => {
    const stage = only(template, 'AWS::ApiGateway::Stage').properties;
    expect(stage.MethodSettings).toBeUndefined();
    const format = stage.AccessLogSetting.Format as string;
    expect(format).not.toMatch(/header/i);
    expect(JSON.parse(format)).toMatchObject({
      status: '$context.status',
      responseType: '$context.error.responseType',
      wafResponseCode: '$context.wafResponseCode',
    });
    const groups = template.findResources('AWS::Logs::LogGroup', { Properties: { LogGroupName: Match.stringLikeRegexp('^/aws/vendedlogs/apigateway/') } });
    expect(stage.AccessLogSetting.DestinationArn).toEqual({ 'Fn::GetAtt': [Object.keys(groups)[0], 'Arn'] });
  });

  it('counts throttles from the access log whatever status they were answered with, and warns (delayed, not lost)', () => {
    const filter = only(template, 'AWS::Logs::MetricFilter').properties;
    expect(filter.FilterPattern).toContain('$.status = "429"');
    expect(filter.FilterPattern).toContain('$.responseType = "THROTTLED"');
    expect(filter.FilterPattern).toContain('$.responseType = "QUOTA_EXCEEDED"');
    expect(filter.MetricTransformations[0]).toMatchObject({ MetricName: 'RequestsThrottled', MetricValue: '1', Unit: 'Count' });
    const names = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a) => String(a.Properties.AlarmName));
    expect(names.filter((n) => n.endsWith('-Api-Throttled-Warning'))).toHaveLength(1);
    expect(names.filter((n) => n.endsWith('-Api-Throttled-Critical'))).toHaveLength(0);
  });

  it('exposes the web ACL blocks as a metric (AWS/WAFV2 BlockedRequests of the whole web ACL)', () => {
    const metric = webhooks.frontDoor.webAcl!.metricBlockedRequests();
    expect(metric.namespace).toBe('AWS/WAFV2');
    expect(metric.metricName).toBe('BlockedRequests');
    expect(metric.dimensions).toMatchObject({ Rule: 'ALL', Region: 'eu-west-1', WebACL: only(template, 'AWS::WAFv2::WebACL').properties.Name });
  });

  it('warns at the first web ACL block and pages when blocks come back in 3 of 12 five-minute periods (a blocked FaceSign loses events)', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);
    const blocked = (suffix: string) => {
      const found = alarms.filter((a) => String(a.AlarmName).endsWith(suffix));
      expect(found, suffix).toHaveLength(1);
      return found[0];
    };
    const acl = only(template, 'AWS::WAFv2::WebACL').properties.Name;
    const dimensions = [
      { Name: 'Region', Value: 'eu-west-1' },
      { Name: 'WebACL', Value: acl },
      { Name: 'Rule', Value: 'ALL' },
    ];
    const metric = { Namespace: 'AWS/WAFV2', MetricName: 'BlockedRequests', Statistic: 'Sum', Period: 300, Threshold: 1 };
    const warning = blocked('-Api-WafBlocked-Warning');
    expect(warning).toMatchObject({ ...metric, EvaluationPeriods: 1, TreatMissingData: 'notBreaching' });
    expect(warning.Dimensions).toEqual(expect.arrayContaining(dimensions));
    expect(warning.Dimensions).toHaveLength(3);
    const critical = blocked('-Api-WafBlockedPersistent-Critical');
    expect(critical).toMatchObject({ ...metric, EvaluationPeriods: 12, DatapointsToAlarm: 3, TreatMissingData: 'notBreaching' });
    expect(critical.Dimensions).toEqual(warning.Dimensions);
    // One runbook section for both.
    for (const a of [warning, critical]) expect(a.AlarmDescription).toMatch(/#api-wafblocked$/);
    expect(webhooks.monitoring.alarms.apiWafBlocked).toBeDefined();
    expect(webhooks.monitoring.alarms.apiWafBlockedPersistent).toBeDefined();
  });

  it('gives FaceSign the execute-api URL of the webhook route', () => {
    const url = JSON.stringify(Stack.of(webhooks).resolve(webhooks.webhookUrl));
    expect(url).toContain('.execute-api.');
    const stage = only(synth().template, 'AWS::ApiGateway::Stage').id;
    expect(url).toContain(`{"Ref":"${stage}"},"/webhooks/facesign"`);
  });
});

describe('REST API door settings', () => {
  it('throttles the stage when asked, answered 503 like any throttle', () => {
    const { template } = synth({ throttlingRateLimit: 7, throttlingBurstLimit: 9 });
    expect(only(template, 'AWS::ApiGateway::Stage').properties.MethodSettings).toEqual([
      expect.objectContaining({ HttpMethod: '*', ResourcePath: '/*', ThrottlingRateLimit: 7, ThrottlingBurstLimit: 9 }),
    ]);
  });

  it('applies wafRateLimit and wafRateLimitWindow', () => {
    const { template } = synth({ wafRateLimit: 1200, wafRateLimitWindow: Duration.minutes(1) });
    const [rule] = only(template, 'AWS::WAFv2::WebACL').properties.Rules;
    expect(rule.Statement.RateBasedStatement).toMatchObject({ Limit: 1200, EvaluationWindowSec: 60 });
  });

  it('with allowedSourceIps, allows only those sources (one IP set per IP version) and blocks the rest with a 503', () => {
    const { template } = synth({ allowedSourceIps: ['192.0.2.0/24', ' 198.51.100.7/32', '2001:db8::/32'] });
    template.hasResourceProperties('AWS::WAFv2::IPSet', { Scope: 'REGIONAL', IPAddressVersion: 'IPV4', Addresses: ['192.0.2.0/24', '198.51.100.7/32'] });
    template.hasResourceProperties('AWS::WAFv2::IPSet', { Scope: 'REGIONAL', IPAddressVersion: 'IPV6', Addresses: ['2001:db8::/32'] });
    const acl = only(template, 'AWS::WAFv2::WebACL').properties;
    expect(acl.DefaultAction).toEqual({ Block: { CustomResponse: expect.objectContaining({ ResponseCode: 503 }) } });
    expect(acl.Rules.map((r: { Name: string }) => r.Name)).toEqual(['RateLimitPerSourceIp', 'AllowListedSources']);
    expect(acl.Rules[1]).toMatchObject({ Action: { Allow: {} } });
    expect(acl.Rules[1].Statement.OrStatement.Statements).toHaveLength(2);
  });
});

describe('the HTTP API door', () => {
  const { template, webhooks } = synth({ frontDoor: 'http-api' });

  it('routes POST /webhooks/facesign on an HTTP API to the verifier with payload format 2.0, and creates no REST API or web ACL', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP' });
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'POST /webhooks/facesign' });
    template.hasResourceProperties('AWS::ApiGatewayV2::Integration', { IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0' });
    for (const type of ['AWS::ApiGateway::RestApi', 'AWS::WAFv2::WebACL', 'AWS::ApiGateway::Account']) template.resourceCountIs(type, 0);
    expect(webhooks.frontDoor.webAcl).toBeUndefined();
  });

  it('does not throttle the $default stage unless asked (a 429 is never retried), and logs without any header to /aws/vendedlogs/', () => {
    const stage = only(template, 'AWS::ApiGatewayV2::Stage');
    expect(stage.properties).toMatchObject({ StageName: '$default', AutoDeploy: true });
    expect(stage.properties.DefaultRouteSettings).toBeUndefined();
    expect(stage.properties.AccessLogSettings.Format).not.toMatch(/header/i);
    const group = template.findResources('AWS::Logs::LogGroup', { Properties: { LogGroupName: Match.stringLikeRegexp('^/aws/vendedlogs/apigateway/') } });
    expect(stage.properties.AccessLogSettings.DestinationArn).toEqual({ 'Fn::GetAtt': [Object.keys(group)[0], 'Arn'] });
  });

  it('pages on a throttle: a 429 loses the delivery', () => {
    const names = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a) => String(a.Properties.AlarmName));
    expect(names.filter((n) => n.endsWith('-Api-Throttled-Critical'))).toHaveLength(1);
  });

  it('has no web ACL alarm (no web ACL)', () => {
    const names = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a) => String(a.Properties.AlarmName));
    expect(names.filter((n) => n.includes('-Api-WafBlocked'))).toEqual([]);
    expect(webhooks.monitoring.alarms.apiWafBlocked).toBeUndefined();
  });

  it('throttles the stage with just the limits given', () => {
    const stage = only(synth({ frontDoor: 'http-api', throttlingBurstLimit: 500 }).template, 'AWS::ApiGatewayV2::Stage').properties;
    expect(stage.DefaultRouteSettings).toEqual({ ThrottlingBurstLimit: 500 });
  });
});

describe('a custom domain', () => {
  it.each(['rest-api-waf', 'http-api'] as const)('serves the webhook URL on it with TLS 1.2, a regional endpoint and an alias record (%s)', (frontDoor) => {
    const { template, webhooks } = synth({ frontDoor }, domain);
    const rest = frontDoor === 'rest-api-waf';
    const domainType = rest ? 'AWS::ApiGateway::DomainName' : 'AWS::ApiGatewayV2::DomainName';
    const created = only(template, domainType);
    if (rest) {
      expect(created.properties).toMatchObject({ DomainName: 'hooks.example.com', EndpointConfiguration: { Types: ['REGIONAL'] }, SecurityPolicy: 'TLS_1_2' });
      expect(created.properties.RegionalCertificateArn).toBe('arn:aws:acm:eu-west-1:123456789012:certificate/abc');
      template.hasResourceProperties('AWS::ApiGateway::BasePathMapping', { DomainName: { Ref: created.id } });
      expect(only(template, 'AWS::ApiGateway::RestApi').properties.DisableExecuteApiEndpoint).toBe(true);
    } else {
      expect(created.properties).toMatchObject({
        DomainName: 'hooks.example.com',
        DomainNameConfigurations: [
          { CertificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/abc', EndpointType: 'REGIONAL', SecurityPolicy: 'TLS_1_2' },
        ],
      });
      template.hasResourceProperties('AWS::ApiGatewayV2::ApiMapping', { DomainName: { Ref: created.id } });
      expect(only(template, 'AWS::ApiGatewayV2::Api').properties.DisableExecuteApiEndpoint).toBe(true);
    }
    template.hasResourceProperties('AWS::Route53::RecordSet', {
      Name: 'hooks.example.com.',
      Type: 'A',
      HostedZoneId: 'Z123',
      AliasTarget: Match.objectLike({}),
    });
    expect(webhooks.webhookUrl).toBe('https://hooks.example.com/webhooks/facesign');
  });

  it('makes no record without a hosted zone', () => {
    synth({}, (stack) => domain(stack, false)).template.resourceCountIs('AWS::Route53::RecordSet', 0);
  });

  it('puts the custom URL in the WebhookUrl output', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new FaceSignWebhooksStack(app, 'Out', {
      webhooks: {
        domainName: 'hooks.example.com',
        certificate: acm.Certificate.fromCertificateArn(new Stack(app, 'CertStack'), 'Cert', 'arn:aws:acm:eu-west-1:123456789012:certificate/abc'),
      },
    });
    Template.fromStack(stack).hasOutput('WebhookUrl', { Value: 'https://hooks.example.com/webhooks/facesign' });
  });
});

describe('front door props refused with the value received', () => {
  it.each<[string, FaceSignWebhooksProps | ((stack: Stack) => FaceSignWebhooksProps), RegExp]>([
    ['an unknown door', { frontDoor: 'cloudfront' as never }, /frontDoor must be 'rest-api-waf' or 'http-api', got "cloudfront"/],
    ['a web ACL setting on the HTTP API door', { frontDoor: 'http-api', wafRateLimit: 100 }, /wafRateLimit needs a web ACL.*got frontDoor 'http-api'/],
    ["a rate limit under WAF's least", { wafRateLimit: 5 }, /wafRateLimit must be an integer from 10 to 2000000000.*got 5/],
    ['a window WAF does not offer', { wafRateLimitWindow: Duration.minutes(3) }, /wafRateLimitWindow must be 1, 2, 5 or 10 minutes.*got 3 minutes/],
    ['a source that is not a CIDR', { allowedSourceIps: ['192.0.2.1'] }, /allowedSourceIps entries must be CIDRs.*got "192.0.2.1"/],
    ['an octet over 255', { allowedSourceIps: ['192.0.2.256/32'] }, /got "192.0.2.256\/32"/],
    ['an empty allowlist', { allowedSourceIps: [] }, /at least one CIDR.*got \[\]/],
    ['a domain without a certificate', { domainName: 'hooks.example.com' }, /domainName needs certificate.*got domainName "hooks.example.com" alone/],
    [
      'a hosted zone without a domain',
      (stack) => ({ hostedZone: route53.HostedZone.fromHostedZoneAttributes(stack, 'Z', { hostedZoneId: 'Z1', zoneName: 'example.com' }) }),
      /hostedZone belongs to a custom domain: set domainName too/,
    ],
  ])('refuses %s', (_name, props, message) => {
    expect(() => synth({}, (stack) => (typeof props === 'function' ? props(stack) : props))).toThrow(message);
  });
});
