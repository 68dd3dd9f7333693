import { Annotations, Aspects, CfnOutput, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import type { WebhookAlarmOptions } from './alarm-options';

/** The topics alarms notify, and the key made for them. */
export interface AlarmTopics {
  /** Every Warning alarm, and every Critical one unless Critical alarms have a topic of their own. */
  readonly alarmTopic: sns.ITopic;
  /** Critical alarms: {@link alarmTopic} unless `existingCriticalAlarmTopicObj` or `criticalAlarmEmail` was given. */
  readonly criticalAlarmTopic: sns.ITopic;
  /** The key encrypting the created topics (undefined when none was created, or a key was passed in). */
  readonly createdKey?: kms.Key;
}

/**
 * The alarm topics (cdk-monitoring-constructs' alarm-topic step), built into `scope` so their
 * construct ids (`AlarmTopic`, `CriticalAlarmTopic`, `AlarmTopicKey`) stay those of the monitoring
 * construct: a replaced topic loses its confirmed e-mail subscriptions.
 * @param alarmArnPattern the ARN pattern of the alarms that may publish (`…:alarm:<prefix>-*`)
 */
export function createAlarmTopics(scope: Construct, props: WebhookAlarmOptions, alarmArnPattern: string): AlarmTopics {
  const stack = Stack.of(scope);
  // CloudWatch publishes as the service principal, on behalf of the alarm: these two keys say
  // which account and which alarms (https://repost.aws/knowledge-center/cloudwatch-receive-sns-for-alarm-trigger,
  // https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-use-cases.html).
  const onBehalfOfOurAlarms = {
    StringEquals: { 'aws:SourceAccount': stack.account },
    ArnLike: { 'aws:SourceArn': alarmArnPattern },
  };
  let topicKey: kms.IKey | undefined;
  let createdKey: kms.Key | undefined;
  // One key for the created topics, made (or given its statement) only when a topic is created.
  const keyForTopics = (): kms.IKey => {
    if (topicKey) return topicKey;
    const given = props.alarmTopicProps?.masterKey;
    const key = given ?? new kms.Key(scope, 'AlarmTopicKey', { description: 'Encrypts the FaceSign webhooks alarm topic', enableKeyRotation: true });
    if (!given) createdKey = key as kms.Key;
    allowCloudWatchToUse(scope, key);
    topicKey = key;
    return key;
  };
  const createTopic = (id: string, topicProps: sns.TopicProps): sns.Topic => {
    const topic = new sns.Topic(scope, id, { ...topicProps, masterKey: keyForTopics(), enforceSSL: true });
    // Any topic policy replaces the default one, and the default is what lets same-account alarms
    // publish; enforceSSL alone leaves only a Deny, so CloudWatch needs its own Allow.
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: onBehalfOfOurAlarms,
      }),
    );
    return topic;
  };
  const alarmTopic = props.existingAlarmTopicObj ?? createTopic('AlarmTopic', props.alarmTopicProps ?? {});
  if (props.alarmEmail) alarmTopic.addSubscription(new EmailSubscription(props.alarmEmail));
  // A pager for Critical alarms: a topic of the user's, or one of ours for an e-mail of its own.
  const criticalAlarmTopic = props.existingCriticalAlarmTopicObj ?? (props.criticalAlarmEmail ? createTopic('CriticalAlarmTopic', {}) : alarmTopic);
  if (props.criticalAlarmEmail) criticalAlarmTopic.addSubscription(new EmailSubscription(props.criticalAlarmEmail));
  warnWhenNobodyIsTold(scope, props, alarmTopic, criticalAlarmTopic);
  return { alarmTopic, criticalAlarmTopic, createdKey };
}

/**
 * An encrypted topic: the publisher needs the key too, or the publish fails
 * (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services).
 * Only on behalf of this account: the topic policy already narrows it to our alarms, and a
 * condition the KMS request might not carry would silently drop every page.
 */
function allowCloudWatchToUse(scope: Construct, key: kms.IKey): void {
  const added = key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'AllowCloudWatchAlarmsOfThisAccount',
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(scope).account } },
    }),
    true,
  );
  if (!added.statementAdded) {
    Annotations.of(scope).addWarningV2(
      'facesign-webhooks:alarmTopicKeyPolicy',
      'alarmTopicProps.masterKey is not a key of this app, so its policy cannot be changed here: it must allow cloudwatch.amazonaws.com kms:Decrypt and kms:GenerateDataKey*, or no alarm can notify (docs/operations.md, "Bring your own alarm topic").',
    );
  }
}

/**
 * Warns at synth, and says so in the deploy output, when alarms reach no one: no e-mail, no topic
 * of the user's, and no subscription to the created topic anywhere in the app. Checked once the
 * app is built (an aspect), so a subscription added after the construct counts; one made outside
 * the app cannot be seen.
 */
function warnWhenNobodyIsTold(scope: Construct, props: WebhookAlarmOptions, alarmTopic: sns.ITopic, criticalAlarmTopic: sns.ITopic): void {
  let checked = false;
  Aspects.of(scope).add({
    visit: (node) => {
      // Once, though an app may be synthesized more than once (tests do).
      if (node !== scope || checked) return;
      checked = true;
      if (props.alarmEmail !== undefined || props.existingAlarmTopicObj !== undefined || subscribedInApp(scope, alarmTopic)) return;
      // A Critical topic of its own always has someone: it exists only for a given topic or e-mail.
      const who = criticalAlarmTopic === alarmTopic ? 'no alarm reaches anyone' : 'Warning alarms reach no one (Critical alarms have their own topic)';
      Annotations.of(scope).addWarningV2(
        'facesign-webhooks:noAlarmSubscriber',
        `No one is subscribed to the alarm topic, so ${who}. Set alarmEmail (in this repository's app: cdk deploy -c alarmEmail=you@example.com), pass existingAlarmTopicObj, or subscribe to the topic (AlarmTopicArn output); a subscription made outside this app is not seen here (docs/operations.md, "Who is told").`,
      );
      new CfnOutput(scope, 'AlarmsReachNoOne', {
        description: 'Set when no subscription to the alarm topic was given (docs/operations.md, "Who is told")',
        value: `No one is subscribed to the alarm topic: ${who}. Subscribe to it, or deploy with alarmEmail.`,
      });
    },
  });
}

/** True when some subscription in the app is to this topic (its ARN token is the one the subscription carries). */
function subscribedInApp(scope: Construct, topic: sns.ITopic): boolean {
  return scope.node.root.node.findAll().some((c) => c instanceof sns.CfnSubscription && c.topicArn === topic.topicArn);
}
