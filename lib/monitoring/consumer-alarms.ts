import { Duration, Fn, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { AlarmSpec } from './alarm-factory';
import { retentionOf } from './queue-signals';

/** One onEvent consumer as the monitoring sees it. */
export interface ConsumerSignalProps {
  /** PascalCase, unique among consumers; part of the alarm name `<prefix>-Consumer<name>-FailedDeliveries-Critical`. */
  readonly name: string;
  readonly rule: events.IRule;
  readonly eventBus: events.IEventBus;
  /** The queue EventBridge sends what it could not deliver to (and a Lambda target its failed async invocations). */
  readonly deadLetterQueue?: sqs.IQueue;
}

/** A consumer's alarms, and the lines the dashboard's consumer widget draws. */
export interface ConsumerSignals {
  readonly alarms: AlarmSpec[];
  readonly failures: cloudwatch.MathExpression;
  readonly deadLetters?: cloudwatch.Metric;
}

/**
 * Alarms when a consumer does not take an event: EventBridge's failed invocations and its sends to
 * (or failures to send to) the dead-letter queue, and every message that reaches that queue, which
 * also counts what a Lambda target's on-failure destination sends there. EventBridge invokes Lambda
 * asynchronously, so a function that fails after Lambda accepted the event is no FailedInvocation
 * (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html); only its destination sees it.
 */
export function consumerSignals(props: ConsumerSignalProps): ConsumerSignals {
  const key = `consumer${props.name}`;
  const five = Duration.minutes(5);
  const ruleName = plainRuleName(props.rule);
  const usingMetrics: Record<string, cloudwatch.IMetric> = {
    ...ruleMetrics(key, 'FailedInvocations', 1, props.eventBus, ruleName),
    ...ruleMetrics(key, 'InvocationsSentToDlq', 2, props.eventBus, ruleName),
    ...ruleMetrics(key, 'InvocationsFailedToBeSentToDlq', 3, props.eventBus, ruleName),
  };
  const terms = [1, 2, 3].map((n) => `FILL(${ruleMetricId(key, 'bus', n)}, 0) + FILL(${ruleMetricId(key, 'rule', n)}, 0)`);
  if (props.deadLetterQueue) {
    // Sent by EventBridge (already in InvocationsSentToDlq) or by Lambda's on-failure destination (in nothing else).
    usingMetrics[`${key}Sent`] = props.deadLetterQueue.metricNumberOfMessagesSent({ statistic: 'Sum', period: five });
    terms.push(`FILL(${key}Sent, 0)`);
  }
  const failures = new cloudwatch.MathExpression({ expression: terms.join(' + '), usingMetrics, label: `${props.name}: failed deliveries`, period: five });
  const alarms: AlarmSpec[] = [
    {
      key,
      resource: `Consumer${props.name}`,
      metric: 'FailedDeliveries',
      severity: 'Critical',
      source: failures,
      summary: `An event did not reach the ${props.name} target, or its Lambda function failed it after retries; it is in the target's dead-letter queue and the event archive.`,
      runbook: 'Consumer-FailedDeliveries',
    },
  ];
  if (props.deadLetterQueue) {
    // EventBridge and Lambda send with SendMessage, so the age counts from the failure and matches the retention.
    const retention = retentionOf(props.deadLetterQueue);
    const threshold = Duration.seconds(Math.max(3600, retention.toSeconds() - Duration.days(2).toSeconds()));
    alarms.push({
      key: `${key}DeadLetterAge`,
      resource: `Consumer${props.name}`,
      metric: 'DeadLetterAge',
      severity: 'Critical',
      source: props.deadLetterQueue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period: five }),
      summary: `An event ${props.name} could not take has waited ${threshold.toDays({ integral: false }).toFixed(1)} days in its dead-letter queue; SQS deletes it after ${retention.toDays({ integral: false }).toFixed(0)}.`,
      runbook: 'Consumer-DeadLetterAge',
      threshold: threshold.toSeconds(),
    });
  }
  const deadLetters = props.deadLetterQueue?.metricApproximateNumberOfMessagesVisible({
    statistic: 'Maximum',
    period: Duration.minutes(1),
    label: `${props.name}: dead letters`,
  });
  return { alarms, failures, deadLetters };
}

/**
 * Id of one rule metric in the consumer's math expression: unique per consumer (`key`), so several
 * consumers' lines can share the dashboard widget.
 */
function ruleMetricId(key: string, kind: 'bus' | 'rule', n: number): string {
  return `${key}${kind === 'bus' ? 'Bus' : 'Rule'}${n}`;
}

/**
 * One AWS/Events metric of a rule, twice: rules on a custom bus report with EventBusName and
 * RuleName, on the default bus with RuleName alone
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-monitoring.html); the alarm sums both.
 */
function ruleMetrics(key: string, metricName: string, n: number, eventBus: events.IEventBus, ruleName: string): Record<string, cloudwatch.Metric> {
  const metric = (dimensionsMap: Record<string, string>) =>
    new cloudwatch.Metric({ namespace: 'AWS/Events', metricName, dimensionsMap, statistic: 'Sum', period: Duration.minutes(5) });
  return {
    [ruleMetricId(key, 'bus', n)]: metric({ EventBusName: eventBus.eventBusName, RuleName: ruleName }),
    [ruleMetricId(key, 'rule', n)]: metric({ RuleName: ruleName }),
  };
}

/**
 * The rule's own name, as the AWS/Events metrics carry it. For a rule on a custom bus, the
 * CloudFormation `Ref` that `rule.ruleName` resolves to is `<bus name>|<rule name>`
 * (https://github.com/aws-cloudformation/cloudformation-coverage-roadmap/issues/1131); on the
 * default bus it is the bare name. Joining the Ref to itself with `|` and taking element 1 gives
 * the bare name in both cases: `bus|rule|bus|rule` and `rule|rule`.
 */
export function plainRuleName(rule: events.IRule): string {
  if (!Token.isUnresolved(rule.ruleName)) return rule.ruleName;
  return Fn.select(1, Fn.split('|', Fn.join('|', [rule.ruleName, rule.ruleName])));
}

/**
 * The signing-secret watch's rule (lib/data-protection.ts, on the default bus) could not publish
 * its page: EventBridge counts a target it could not invoke, after its retries, as
 * `FailedInvocations` (AWS/Events, dimension RuleName; https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-monitoring.html).
 * A refused publish (the role, the topic's policy, its key's policy) is such a failure. Critical,
 * and told on the alarm topic too: the page that did not arrive was the Critical topic's, so that
 * topic may be the one refusing.
 */
export function secretWatchAlarm(rule: events.IRule, alarmTopic: sns.ITopic): AlarmSpec {
  return {
    key: 'signingSecretWatchFailures',
    resource: 'SigningSecretWatch',
    metric: 'FailedInvocations',
    severity: 'Critical',
    source: new cloudwatch.Metric({
      namespace: 'AWS/Events',
      metricName: 'FailedInvocations',
      dimensionsMap: { RuleName: plainRuleName(rule) },
      statistic: 'Sum',
      period: Duration.minutes(5),
    }),
    summary: 'The signing secret changed, but the watch could not publish its page (role, topic or key policy): check who changed the secret.',
    alsoNotify: alarmTopic,
  };
}
