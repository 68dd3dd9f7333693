/**
 * The two templates this repository deploys, synthesized offline as `cdk deploy` would send them
 * to CloudFormation: the app's stack (bin/facesign-webhooks.ts, with and without an alarm e-mail,
 * and with every optional data-protection resource: Object Lock, the media read trail)
 * and the integration test's two stacks (test/integ/integ-app.ts). The constraint tests and the
 * cfn-lint test read them from here, so both check the same templates.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { FaceSignWebhooksStack } from '../../lib';
import { buildIntegApp } from '../integ/integ-app';

/** A CloudFormation template, as much of it as the checks read. */
export interface CfnTemplate {
  readonly Resources: Record<string, CfnResourceJson>;
  readonly Outputs?: Record<string, unknown>;
  readonly [key: string]: unknown;
}

/** One resource of a {@link CfnTemplate}. */
export interface CfnResourceJson {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
  readonly DeletionPolicy?: string;
  readonly DependsOn?: string | string[];
}

/** One synthesized stack: its name (as CloudFormation sees it) and its template. */
export interface DeployedTemplate {
  readonly stackName: string;
  readonly template: CfnTemplate;
}

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';

function templateOf(app: App, stack: Stack): DeployedTemplate {
  const assembly = app.synth();
  return { stackName: stack.stackName, template: assembly.getStackByName(stack.stackName).template as CfnTemplate };
}

/**
 * Every stack this repository deploys: the app's stack as `npx cdk deploy` makes it (no context,
 * and with `-c alarmEmail=...`), the stack with each front door on a custom domain, and both
 * integration test stacks.
 */
export function deployedTemplates(): DeployedTemplate[] {
  const env = { account: ACCOUNT, region: REGION };
  const plain = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const plainStack = new FaceSignWebhooksStack(plain, 'FaceSignWebhooks', { env });
  const withEmail = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const withEmailStack = new FaceSignWebhooksStack(withEmail, 'FaceSignWebhooks', { env, webhooks: { alarmEmail: 'oncall@example.com' } });
  const guarded = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const guardedStack = new FaceSignWebhooksStack(guarded, 'FaceSignWebhooks', {
    env,
    webhooks: { objectLockRetention: Duration.days(7), auditMediaReads: true, mediaBreakGlassPrincipalArns: [`arn:aws:iam::${ACCOUNT}:role/BreakGlass`] },
  });
  // Each front door with a custom domain, an alias record and (REST) a source allowlist: every resource type a user can turn on.
  const doors = (['rest-api-waf', 'http-api'] as const).map((frontDoor) => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new FaceSignWebhooksStack(app, 'FaceSignWebhooks', {
      env,
      webhooks: {
        frontDoor,
        domainName: 'hooks.example.com',
        certificate: acm.Certificate.fromCertificateArn(
          new Stack(app, 'Imports', { env }),
          'Certificate',
          `arn:aws:acm:${REGION}:${ACCOUNT}:certificate/0b1e5a3c`,
        ),
        hostedZone: route53.HostedZone.fromHostedZoneAttributes(new Stack(app, 'Zone', { env }), 'Zone', {
          hostedZoneId: 'Z0123456789ABC',
          zoneName: 'example.com',
        }),
        ...(frontDoor === 'rest-api-waf' ? { allowedSourceIps: ['192.0.2.0/24', '2001:db8::/32'] } : {}),
      },
    });
    return { ...templateOf(app, stack), stackName: `${stack.stackName} (${frontDoor}, custom domain)` };
  });
  const integ = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const built = buildIntegApp(integ, { account: ACCOUNT, region: REGION, runId: 'constraints' });
  const integAssembly = integ.synth();
  return [
    templateOf(plain, plainStack),
    { ...templateOf(withEmail, withEmailStack), stackName: `${withEmailStack.stackName} (alarmEmail)` },
    { ...templateOf(guarded, guardedStack), stackName: `${guardedStack.stackName} (objectLock, auditMediaReads)` },
    ...doors,
    ...[built.stack, built.assertionStack].map((s) => ({
      stackName: s.stackName,
      template: integAssembly.getStackByName(s.stackName).template as CfnTemplate,
    })),
  ];
}
