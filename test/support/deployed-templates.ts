/**
 * The two templates this repository deploys, synthesized offline as `cdk deploy` would send them
 * to CloudFormation: the app's stack (bin/facesign-webhooks.ts, with and without an alarm e-mail,
 * and with every optional data-protection resource: Object Lock, the media read trail)
 * and the integration test's two stacks (test/integ/integ-app.ts). The constraint tests and the
 * cfn-lint test read them from here, so both check the same templates.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
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
 * and with `-c alarmEmail=...`), and both integration test stacks.
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
  const integ = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const built = buildIntegApp(integ, { account: ACCOUNT, region: REGION, runId: 'constraints' });
  const integAssembly = integ.synth();
  return [
    templateOf(plain, plainStack),
    { ...templateOf(withEmail, withEmailStack), stackName: `${withEmailStack.stackName} (alarmEmail)` },
    { ...templateOf(guarded, guardedStack), stackName: `${guardedStack.stackName} (objectLock, auditMediaReads)` },
    ...[built.stack, built.assertionStack].map((s) => ({
      stackName: s.stackName,
      template: integAssembly.getStackByName(s.stackName).template as CfnTemplate,
    })),
  ];
}
