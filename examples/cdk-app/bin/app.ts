import * as path from 'node:path';
import { App, CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { FaceSignWebhooks, type FaceSignEventType } from 'facesign-webhooks';

const app = new App();
const stack = new Stack(app, 'KycService');

// The whole receiving pipeline: verified, queued, archived, media stored, alarms and a dashboard.
const webhooks = new FaceSignWebhooks(stack, 'FaceSign', {
  alarmEmail: 'oncall@example.com',
  idempotencyWindow: Duration.days(14),
});

// Your own logic: a Lambda that runs for every processed session.status event.
const onSessionStatus = new lambda.Function(stack, 'OnSessionStatus', {
  runtime: lambda.Runtime.NODEJS_24_X,
  handler: 'index.handler',
  code: lambda.Code.fromAsset(path.join(__dirname, '..', 'handlers', 'session-status')),
});
// The id names the rule (and its dead-letter queue and alarm): keep it, and the rule is kept.
const eventTypes: FaceSignEventType[] = ['session.status'];
webhooks.onEvent('OnSessionStatus', { eventTypes, target: new targets.LambdaFunction(onSessionStatus) });

new CfnOutput(stack, 'WebhookUrl', { value: webhooks.webhookUrl });
new CfnOutput(stack, 'SigningSecretArn', { value: webhooks.signingSecret.secretArn });
