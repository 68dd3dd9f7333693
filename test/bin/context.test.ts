/**
 * The app's `-c key=value` context keys: each reaches the construct's props, and a key missing its
 * partner or an empty list entry is refused naming the key and value.
 */
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { webhooksPropsFromContext } from '../../bin/context';
import { FaceSignWebhooksStack } from '../../lib';

function synth(context: Record<string, unknown>) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } });
  const stack = new FaceSignWebhooksStack(app, 'FaceSignWebhooks', {
    env: { account: '123456789012', region: 'eu-west-1' },
    webhooks: webhooksPropsFromContext((key) => app.node.tryGetContext(key)),
  });
  return { stack, template: Template.fromStack(stack) };
}

describe('bin context keys', () => {
  it('frontDoor, domainName + certificateArn, hostedZoneId + hostedZoneName reach the construct', () => {
    const { stack, template } = synth({
      frontDoor: 'http-api',
      domainName: 'hooks.example.com',
      certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/abc',
      hostedZoneId: 'Z123',
      hostedZoneName: 'example.com',
    });
    expect(stack.webhooks.frontDoor.type).toBe('http-api');
    template.hasResourceProperties('AWS::ApiGatewayV2::DomainName', {
      DomainName: 'hooks.example.com',
      DomainNameConfigurations: [Match.objectLike({ CertificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/abc' })],
    });
    template.hasResourceProperties('AWS::Route53::RecordSet', { Name: 'hooks.example.com.', HostedZoneId: 'Z123' });
    template.hasOutput('WebhookUrl', { Value: 'https://hooks.example.com/webhooks/facesign' });
  });

  it('mediaBreakGlassPrincipalArns is split on commas into the media-read rule', () => {
    const arns = ['arn:aws:iam::123456789012:role/BreakGlass', 'arn:aws:iam::123456789012:user/auditor'];
    const { template } = synth({ mediaBreakGlassPrincipalArns: ` ${arns[0]} ,${arns[1]}` });
    const policy = JSON.stringify(template.findResources('AWS::S3::BucketPolicy'));
    for (const arn of arns) expect(policy).toContain(`"${arn}"`);
  });

  it('without keys, the construct defaults (the REST door, no domain)', () => {
    const { stack, template } = synth({});
    expect(stack.webhooks.frontDoor.type).toBe('rest-api-waf');
    template.resourceCountIs('AWS::ApiGateway::DomainName', 0);
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    [
      'a domain without a certificate',
      { domainName: 'hooks.example.com' },
      /-c domainName and -c certificateArn go together, got domainName "hooks.example.com" alone/,
    ],
    [
      'a certificate without a domain',
      { certificateArn: 'arn:aws:acm:eu-west-1:1:certificate/a' },
      /go together, got certificateArn "arn:aws:acm:eu-west-1:1:certificate\/a" alone/,
    ],
    ['a zone id without its name', { hostedZoneId: 'Z123' }, /-c hostedZoneId and -c hostedZoneName go together, got hostedZoneId "Z123" alone/],
    ['an empty list entry', { mediaBreakGlassPrincipalArns: 'arn:aws:iam::1:role/a,,' }, /no empty entry, got "arn:aws:iam::1:role\/a,,"/],
    ['an empty value', { frontDoor: '' }, /-c frontDoor must be a non-empty string, got ""/],
    ['an unknown door (refused by the construct)', { frontDoor: 'cloudfront' }, /frontDoor must be 'rest-api-waf' or 'http-api', got "cloudfront"/],
  ])('refuses %s, naming the key and value', (_name, context, message) => {
    expect(() => synth(context)).toThrow(message);
  });
});
