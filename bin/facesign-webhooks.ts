#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { FaceSignWebhooksStack } from '../lib';

const app = new App();
new FaceSignWebhooksStack(app, 'FaceSignWebhooks', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
