#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { FaceSignWebhooksStack } from '../lib';
import { webhooksPropsFromContext } from './context';

const app = new App();
// Context keys (README "Deploy to AWS"), e.g. `npx cdk deploy -c alarmEmail=oncall@example.com`:
// alarmEmail, verifierReservedConcurrency, frontDoor, domainName + certificateArn,
// hostedZoneId + hostedZoneName, mediaBreakGlassPrincipalArns (comma-separated).
new FaceSignWebhooksStack(app, 'FaceSignWebhooks', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  webhooks: webhooksPropsFromContext((key) => app.node.tryGetContext(key)),
});
