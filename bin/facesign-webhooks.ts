#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { FaceSignWebhooksStack } from '../lib';

const app = new App();
// `npx cdk deploy -c alarmEmail=oncall@example.com`: someone is paged from the first deploy on.
const alarmEmail: string | undefined = app.node.tryGetContext('alarmEmail');
// `-c verifierReservedConcurrency=50`, once the account's Lambda quota allows it (README "Deploy to AWS").
const reserved: unknown = app.node.tryGetContext('verifierReservedConcurrency');
new FaceSignWebhooksStack(app, 'FaceSignWebhooks', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  webhooks: {
    ...(alarmEmail ? { alarmEmail } : {}),
    // The construct refuses anything but a whole number in its bounds, naming the value.
    ...(reserved !== undefined ? { verifierReservedConcurrency: Number(reserved) } : {}),
  },
});
