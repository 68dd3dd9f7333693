#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { FaceSignWebhooksStack } from '../lib';

const app = new App();
// `npx cdk deploy -c alarmEmail=oncall@example.com`: someone is paged from the first deploy on.
const alarmEmail: string | undefined = app.node.tryGetContext('alarmEmail');
new FaceSignWebhooksStack(app, 'FaceSignWebhooks', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  webhooks: alarmEmail ? { alarmEmail } : undefined,
});
