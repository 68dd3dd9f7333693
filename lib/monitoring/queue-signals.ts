import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { METRIC } from '../../contract/metric-names';
import { MAX_RETRY_DELAY_SECONDS, MEDIA_URL_LIFETIME_SECONDS } from '../../contract/time-budget';
import type { WebhookMetrics } from '../webhook-metrics';
import type { AlarmSpec } from './alarm-factory';

/** SQS keeps messages 4 days unless told otherwise. */
const SQS_DEFAULT_RETENTION = Duration.days(4);

/** The longest window CloudWatch evaluates with 1-hour periods (Period x EvaluationPeriods, PutMetricAlarm). */
const MAX_EVALUATION = Duration.days(7);

/** A queue's retention as configured on its CloudFormation resource; SQS's default when unset. */
export function retentionOf(queue: sqs.IQueue): Duration {
  const cfn = queue.node.defaultChild;
  if (cfn instanceof sqs.CfnQueue && typeof cfn.messageRetentionPeriod === 'number') return Duration.seconds(cfn.messageRetentionPeriod);
  return SQS_DEFAULT_RETENTION;
}

/**
 * New arrivals in a dead-letter queue, one line that counts each message once. Three signals,
 * because each misses something: the processor's own PermanentFailures (at once), the DLQ's
 * NumberOfMessagesSent (every SendMessage, also when the metric publish was lost), and growth in
 * depth, the only trace of a message SQS moved itself after maxReceiveCount: such moves are not in
 * NumberOfMessagesSent (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html).
 * A message the processor sends shows in all three, so the line is their per-period MAX, not their sum.
 *
 * Depth growth: FILL(REPEAT) keeps a late depth point from reading as growth; the outer FILL(0)
 * covers the leading gap of an idle DLQ. SQS publishes no metrics for an inactive queue
 * (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html),
 * so the first depth point after idleness has no predecessor, and DIFF alone gives it no value:
 * the moved message would page no one. Only growth counts, so a redrive draining the queue in the
 * same minute cannot cancel an arrival.
 */
export function newDeadLetters(deadLetterQueue: sqs.IQueue, permanentFailures: cloudwatch.IMetric): cloudwatch.MathExpression {
  const one = Duration.minutes(1);
  const change = new cloudwatch.MathExpression({
    expression: 'DIFF(FILL(FILL(depth, REPEAT), 0))',
    usingMetrics: { depth: deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: one }) },
    period: one,
  });
  return new cloudwatch.MathExpression({
    // MAX over an array of series is a series of each period's largest value
    // (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html#metric-math-syntax-functions-list).
    expression: 'MAX([FILL(sent, 0), FILL(failed, 0), FILL(IF(change > 0, change, 0), 0)])',
    usingMetrics: { sent: deadLetterQueue.metricNumberOfMessagesSent({ statistic: 'Sum', period: one }), failed: permanentFailures, change },
    label: 'new dead-letter messages',
    period: one,
  });
}

/** Messages a queue holds, visible or being read: a receive hides a message but does not remove it. */
export function heldMessages(queue: sqs.IQueue, period: Duration): cloudwatch.MathExpression {
  return new cloudwatch.MathExpression({
    expression: 'FILL(visible, 0) + FILL(inFlight, 0)',
    usingMetrics: {
      visible: queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period }),
      inFlight: queue.metricApproximateNumberOfMessagesNotVisible({ statistic: 'Maximum', period }),
    },
    label: 'messages held',
    period,
  });
}

/** What the processor's queue and its dead-letter queue need to be watched. */
export interface QueueSignalProps {
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  readonly metrics: WebhookMetrics;
  readonly queueAgeThreshold: Duration;
  /** The processor's timeout: one invocation may hold a message that long without deleting it. */
  readonly processorTimeout: Duration;
}

/**
 * The alarms on the processor's queues: every new dead letter (Critical), dead letters waiting
 * (Warning), dead letters near expiry by age and by how long the queue has held messages, and a
 * backlog by age and by a queue that holds messages while nothing is deleted (a retry loop).
 */
export function queueAlarms(props: QueueSignalProps): AlarmSpec[] {
  const { queue, deadLetterQueue, metrics } = props;
  const one = Duration.minutes(1);
  const five = Duration.minutes(5);
  const dlqRetention = retentionOf(deadLetterQueue);
  const mainRetention = retentionOf(queue);
  // For a standard queue a moved message keeps its first enqueue time, so it expires from the DLQ
  // by the DLQ's retention counted from then, while ApproximateAgeOfOldestMessage counts from the
  // move (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/setting-up-dead-letter-queue-retention.html):
  // leave room for the longest it can have spent in the main queue, and a day to act.
  const expiryRoom = Duration.seconds(Math.max(3600, dlqRetention.toSeconds() - mainRetention.toSeconds() - Duration.days(1).toSeconds()));
  // A message received 3 times or more leaves ApproximateAgeOfOldestMessage
  // (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html),
  // so reading a dead letter during triage can blind the age alarm: depth counts it still.
  const heldHours = Math.min(MAX_EVALUATION.toHours(), Math.max(1, Math.floor(expiryRoom.toHours({ integral: false }))));
  // Longer than one slow but healthy invocation (its timeout) and one retry back-off (the longest
  // delay the processor sets), so only a second round with nothing finished pages.
  const stuckSeconds = Math.max(props.queueAgeThreshold.toSeconds(), props.processorTimeout.toSeconds(), MAX_RETRY_DELAY_SECONDS);
  const minutes = Math.ceil(stuckSeconds / 60) + 1;
  const mediaLeft = Math.floor((MEDIA_URL_LIFETIME_SECONDS - props.queueAgeThreshold.toSeconds()) / 60);
  return [
    {
      key: 'deadLetterQueueNewMessages',
      resource: 'DeadLetterQueue',
      metric: 'NewMessages',
      severity: 'Critical',
      source: newDeadLetters(deadLetterQueue, metrics.metric(METRIC.permanentFailures, { period: one })),
      summary:
        'A new event reached the dead-letter queue: the processor gave up on it, or SQS moved it after a crash or timeout. It is kept there, not lost yet.',
      evaluationPeriods: 3,
      datapointsToAlarm: 1,
    },
    {
      key: 'deadLetterQueue',
      resource: 'DeadLetterQueue',
      metric: 'VisibleMessages',
      severity: 'Warning',
      source: deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: one }),
      summary: 'Events wait in the dead-letter queue for triage; each arrival also paged through DeadLetterQueue-NewMessages.',
    },
    {
      key: 'deadLetterQueueAge',
      resource: 'DeadLetterQueue',
      metric: 'OldestMessageAge',
      severity: 'Critical',
      source: deadLetterQueue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period: five }),
      summary: `A dead letter has waited ${expiryRoom.toDays({ integral: false }).toFixed(1)} days in the dead-letter queue; SQS deletes it ${dlqRetention.toDays()} days after it was first queued, which can be a day from now. Redrive it or copy it out now.`,
      threshold: expiryRoom.toSeconds(),
    },
    {
      key: 'deadLetterQueueHeld',
      resource: 'DeadLetterQueue',
      metric: 'HeldLong',
      severity: 'Critical',
      source: heldMessages(deadLetterQueue, Duration.hours(1)),
      summary: `The dead-letter queue has held messages for ${heldHours} hours without a break (read or not): the oldest may be near the ${dlqRetention.toDays()}-day expiry even when the age alarm cannot see it. Redrive or copy them out now.`,
      evaluationPeriods: heldHours,
    },
    {
      key: 'queueAge',
      resource: 'Queue',
      metric: 'OldestMessageAge',
      severity: 'Critical',
      source: queue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period: one }),
      summary: `Events have waited over ${props.queueAgeThreshold.toSeconds()} s; media URLs die ${MEDIA_URL_LIFETIME_SECONDS / 60} minutes after they are made, so about ${mediaLeft} minutes are left at best.`,
      threshold: props.queueAgeThreshold.toSeconds(),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    },
    {
      key: 'queueStuck',
      resource: 'Queue',
      metric: 'NothingDeleted',
      severity: 'Critical',
      source: new cloudwatch.MathExpression({
        expression: 'IF(FILL(visible, 0) + FILL(inFlight, 0) > 0 AND FILL(deleted, 0) == 0, 1, 0)',
        usingMetrics: {
          visible: queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: one }),
          inFlight: queue.metricApproximateNumberOfMessagesNotVisible({ statistic: 'Maximum', period: one }),
          deleted: queue.metricNumberOfMessagesDeleted({ statistic: 'Sum', period: one }),
        },
        label: 'holds messages, deletes none',
        period: one,
      }),
      summary: `The queue has held events for ${minutes} minutes and the processor finished none: a retry loop or a stopped consumer, which the age alarm cannot see once a message was received 3 times. Media URLs are running out.`,
      evaluationPeriods: minutes,
    },
  ];
}
