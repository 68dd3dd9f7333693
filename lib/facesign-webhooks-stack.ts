import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { FaceSignWebhooks } from './facesign-webhooks';
import type { FaceSignWebhooksProps } from './facesign-webhooks-props';

/** Properties of {@link FaceSignWebhooksStack}. */
export interface FaceSignWebhooksStackProps extends StackProps {
  /**
   * Properties of the one {@link FaceSignWebhooks} construct in the stack, or a function of the
   * stack returning them (for props that import into the stack, such as a certificate by ARN).
   * @default - the construct's defaults
   */
  readonly webhooks?: FaceSignWebhooksProps | ((stack: Stack) => FaceSignWebhooksProps);
}

/** The deployable app's stack: one {@link FaceSignWebhooks} and the outputs an operator needs. */
export class FaceSignWebhooksStack extends Stack {
  /** The construct. */
  public readonly webhooks: FaceSignWebhooks;

  constructor(scope: Construct, id: string, props: FaceSignWebhooksStackProps = {}) {
    super(scope, id, props);
    this.webhooks = new FaceSignWebhooks(this, 'FaceSignWebhooks', typeof props.webhooks === 'function' ? props.webhooks(this) : props.webhooks);

    new CfnOutput(this, 'WebhookUrl', { value: this.webhooks.webhookUrl, description: 'Give this URL to FaceSign' });
    new CfnOutput(this, 'SigningSecretArn', {
      value: this.webhooks.signingSecret.secretArn,
      description: 'Put the FaceSign signing secret here (aws secretsmanager put-secret-value)',
    });
    new CfnOutput(this, 'ReverifierFunctionName', {
      value: this.webhooks.reverifier.functionName,
      description: 'After fixing the signing secret: npm run reverify -- --function <this>',
    });
    new CfnOutput(this, 'BucketName', { value: this.webhooks.bucket.bucketName, description: 'Archived events and stored media' });
    new CfnOutput(this, 'QueueUrl', { value: this.webhooks.queue.queueUrl });
    new CfnOutput(this, 'QueueArn', { value: this.webhooks.queue.queueArn });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: this.webhooks.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'DeadLetterQueueArn', { value: this.webhooks.deadLetterQueue.queueArn });
    new CfnOutput(this, 'DashboardUrl', {
      value: `https://${this.region}.console.aws.amazon.com/cloudwatch/home?region=${this.region}#dashboards/dashboard/${this.webhooks.monitoring.dashboard.dashboardName}`,
    });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.webhooks.monitoring.alarmTopic.topicArn, description: 'Subscribe to be told about alarms' });
    const { alarmTopic, criticalAlarmTopic } = this.webhooks.monitoring;
    if (criticalAlarmTopic !== alarmTopic) {
      new CfnOutput(this, 'CriticalAlarmTopicArn', {
        value: criticalAlarmTopic.topicArn,
        description: 'Critical alarms notify this topic (a pager); Warning alarms the AlarmTopicArn topic',
      });
    }
    new CfnOutput(this, 'EventBusArn', { value: this.webhooks.eventBus.eventBusArn, description: 'Processed events are published here' });
    new CfnOutput(this, 'EventArchiveArn', {
      value: this.webhooks.eventArchive.archiveArn,
      description: 'Replay published events from here (aws events start-replay)',
    });
  }
}
