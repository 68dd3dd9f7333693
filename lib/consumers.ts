import { Annotations, Duration, Stack, Token } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { FACESIGN_EVENT_TYPES } from '../contract/event';
import { EVENT_BRIDGE_SOURCE } from '../contract/event-bridge';
import { DEAD_LETTER_RETENTION_DAYS } from '../contract/construct-settings';
import type { OnEventOptions } from './facesign-webhooks-props';
import type { WebhookMonitoring } from './monitoring/webhook-monitoring';
import { suppressNag } from './nag-suppressions';

/**
 * EventBridge's bounds on a target's retry policy, which are also onEvent's defaults (its most):
 * https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_RetryPolicy.html
 */
const EVENTBRIDGE_RETRY_POLICY = {
  maxRetryAttempts: 185,
  minEventAge: Duration.seconds(60),
  maxEventAge: Duration.hours(24),
} as const;

/** What a consumer is added to: the construct (its scope), its bus, and its monitoring. */
export interface ConsumerHost {
  readonly scope: Construct;
  readonly eventBus: events.IEventBus;
  readonly monitoring: WebhookMonitoring;
}

/** The rule, dead-letter queue, Lambda on-failure destination and alarms of one onEvent call (see FaceSignWebhooks.onEvent). */
export function addConsumer(host: ConsumerHost, id: string, options: OnEventOptions): events.Rule {
  if (!/^[A-Z][A-Za-z0-9]*$/.test(id)) throw new Error(`onEvent id must be PascalCase letters and digits, got ${JSON.stringify(id)}`);
  refuseTakenOnEventId(host.scope, id);
  const types = [...options.eventTypes];
  if (types.length === 0 || types.some((t) => t.trim() === '')) {
    throw new Error(`onEvent needs eventTypes, one or more event type names, got ${JSON.stringify(types)}`);
  }
  const retryAttempts = options.retryAttempts ?? EVENTBRIDGE_RETRY_POLICY.maxRetryAttempts;
  const maxEventAgeSeconds = checkedMaxEventAge(options.maxEventAge ?? EVENTBRIDGE_RETRY_POLICY.maxEventAge);
  if (
    !Token.isUnresolved(retryAttempts) &&
    !(Number.isInteger(retryAttempts) && retryAttempts >= 0 && retryAttempts <= EVENTBRIDGE_RETRY_POLICY.maxRetryAttempts)
  ) {
    throw new Error(
      `onEvent retryAttempts must be an integer from 0 to ${EVENTBRIDGE_RETRY_POLICY.maxRetryAttempts} (EventBridge's limits), got ${retryAttempts}`,
    );
  }
  const rule = new events.Rule(host.scope, id, {
    eventBus: host.eventBus,
    description: options.description ?? `FaceSign ${types.join(', ')} events`,
    eventPattern: { source: [EVENT_BRIDGE_SOURCE], detailType: types },
  });
  // A warning, never an error: FaceSign may send types it has not documented yet, and a rule for one is legitimate.
  const documented: readonly string[] = FACESIGN_EVENT_TYPES;
  for (const type of types.filter((t) => !documented.includes(t))) {
    Annotations.of(rule).addWarningV2(
      'facesign-webhooks:onEventUndocumentedType',
      `onEvent "${id}": "${type}" is not a documented FaceSign event type (${FACESIGN_EVENT_TYPES.join(', ')}); the rule matches it exactly as written, so check its spelling`,
    );
  }
  let deadLetterQueue: sqs.IQueue | undefined;
  // Rule.addTarget binds at once, so after it we know whether the target brought its own settings.
  rule.addTarget({
    bind: (boundRule, targetId) => {
      const config = options.target.bind(boundRule, targetId);
      let deadLetterConfig = config.deadLetterConfig;
      if (!deadLetterConfig) {
        deadLetterQueue = options.deadLetterQueue ?? consumerDeadLetterQueue(host.scope, `${id}DeadLetterQueue`);
        // What EventBridge needs to send there (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html).
        deadLetterQueue.addToResourcePolicy(
          new iam.PolicyStatement({
            sid: `AllowEventRule${id}`,
            principals: [new iam.ServicePrincipal('events.amazonaws.com')],
            actions: ['sqs:SendMessage'],
            resources: [deadLetterQueue.queueArn],
            conditions: { ArnEquals: { 'aws:SourceArn': rule.ruleArn } },
          }),
        );
        deadLetterConfig = { arn: deadLetterQueue.queueArn };
        catchLambdaFailures(host.scope, id, config.targetResource, deadLetterQueue);
      }
      const retryPolicy = config.retryPolicy ?? { maximumRetryAttempts: retryAttempts, maximumEventAgeInSeconds: maxEventAgeSeconds };
      return { ...config, deadLetterConfig, retryPolicy };
    },
  });
  host.monitoring.monitorConsumer(id, rule, host.eventBus, deadLetterQueue);
  return rule;
}

/**
 * EventBridge invokes a Lambda target asynchronously: once Lambda has queued the event, EventBridge
 * counts it delivered, and what the function then fails Lambda retries twice and drops
 * (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html,
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html). An on-failure
 * destination keeps it: the consumer's dead-letter queue, which the consumer alarm watches. Only
 * for a function of this stack with no asynchronous invocation settings yet; for any other, a
 * warning says what to add.
 */
function catchLambdaFailures(scope: Construct, id: string, target: unknown, deadLetterQueue: sqs.IQueue): void {
  if (!(target instanceof lambda.Function || target instanceof lambda.Alias || target instanceof lambda.Version)) return;
  const fn = target instanceof lambda.Function ? target : target.lambda;
  const configured = fn.node.tryFindChild('EventInvokeConfig') !== undefined || target.node.tryFindChild('EventInvokeConfig') !== undefined;
  if (configured || Stack.of(target) !== Stack.of(scope)) {
    Annotations.of(scope).addWarningV2(
      'facesign-webhooks:onEventLambdaOnFailure',
      `onEvent "${id}": the Lambda target ${target.node.path} already has asynchronous invocation settings or lives in another stack, so no on-failure destination was added; give it one (the ${id} dead-letter queue, or your own), or events it fails are dropped after Lambda's retries`,
    );
    return;
  }
  (target as lambda.Function | lambda.Alias | lambda.Version).configureAsyncInvoke({ onFailure: new SqsDestination(deadLetterQueue) });
}

/**
 * Refuses an onEvent id whose rule or dead-letter queue name is already a child of this
 * construct (an earlier onEvent call, or the construct's own resources).
 */
function refuseTakenOnEventId(scope: Construct, id: string): void {
  for (const name of [id, `${id}DeadLetterQueue`]) {
    if (!scope.node.tryFindChild(name)) continue;
    const what = name === id ? `onEvent id "${id}"` : `onEvent id "${id}" would name its dead-letter queue "${name}", which`;
    throw new Error(`${what} is already taken in this construct (by an earlier onEvent call or one of its own resources); choose another id`);
  }
}

/**
 * A dead-letter queue for one onEvent target: SSL only, 14 days, SSE-SQS. What it holds is the
 * published detail (no signed URL, no media), so the customer key and the key-policy grant to
 * EventBridge it would need are not used here.
 */
function consumerDeadLetterQueue(scope: Construct, id: string): sqs.Queue {
  const queue = new sqs.Queue(scope, id, {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(DEAD_LETTER_RETENTION_DAYS),
  });
  suppressNag(queue, [
    {
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself a dead-letter queue: EventBridge sends it the events an onEvent target could not take (a rule target DLQ, which cdk-nag does not recognise as one).',
    },
  ]);
  return queue;
}

/** A retry policy's maximum event age in whole seconds, refused outside EventBridge's bounds with the value received. */
function checkedMaxEventAge(maxEventAge: Duration): number {
  const seconds = maxEventAge.toSeconds({ integral: false });
  if (Token.isUnresolved(seconds)) return maxEventAge.toSeconds();
  const { minEventAge, maxEventAge: most } = EVENTBRIDGE_RETRY_POLICY;
  if (!Number.isInteger(seconds) || seconds < minEventAge.toSeconds() || seconds > most.toSeconds()) {
    throw new Error(
      `onEvent maxEventAge must be whole seconds from ${minEventAge.toHumanString()} to ${most.toHumanString()} (EventBridge's limits), got ${maxEventAge.toHumanString()}`,
    );
  }
  return seconds;
}
