#!/usr/bin/env node
/**
 * The integration test app, for `npm run integ` (scripts/integ.ts), which runs the cdk CLI on it.
 * The account and region are the deploying credentials' own (the CLI sets CDK_DEFAULT_ACCOUNT
 * and CDK_DEFAULT_REGION); the run id comes from the `integ:runId` context.
 */
import { App } from 'aws-cdk-lib';
import { buildIntegApp } from './integ-app';

const app = new App();
const account = process.env.CDK_DEFAULT_ACCOUNT;
const region = process.env.CDK_DEFAULT_REGION;
if (!account || !region) {
  // One line, no stack trace: the usual cause is a machine with no AWS credentials or region set.
  console.error(
    'npm run integ deploys into the account and region of your AWS credentials, and found none: configure credentials (aws configure, AWS_PROFILE or AWS_ACCESS_KEY_ID...) and a region (AWS_REGION), then run it again. Nothing was deployed.',
  );
  process.exit(1);
}
const runId = String(app.node.tryGetContext('integ:runId') ?? '');
buildIntegApp(app, { account, region, runId });
