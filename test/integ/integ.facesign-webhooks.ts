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
  throw new Error('the integration test deploys into the account and region of your AWS credentials; none were found (CDK_DEFAULT_ACCOUNT / CDK_DEFAULT_REGION are unset)');
}
const runId = String(app.node.tryGetContext('integ:runId') ?? '');
buildIntegApp(app, { account, region, runId });
