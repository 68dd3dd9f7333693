import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';

/** How urgent an alarm is: Critical alarms notify the Critical topic (a pager), Warnings the alarm topic. */
export type Severity = 'Critical' | 'Warning';

/**
 * One alarm as data (cdk-monitoring-constructs' `AlarmFactory` shape): its name parts, its signal,
 * its threshold and periods, a one-line summary and the runbook heading that holds the long text.
 */
export interface AlarmSpec {
  /** Stable short name: the key in {@link WebhookMonitoring.alarms} and the construct id (`<Key>Alarm`). */
  readonly key: string;
  /** Second part of the alarm name `<prefix>-<resource>-<metric>-<severity>`. */
  readonly resource: string;
  /** Third part of the alarm name. */
  readonly metric: string;
  readonly severity: Severity;
  readonly source: cloudwatch.IMetric;
  /** One or two sentences: what happened and whether anything is being lost. The runbook link is appended. */
  readonly summary: string;
  /**
   * The heading of the alarm's section in docs/operations.md ("Alarms"), whose anchor the link uses.
   * @default `<resource>-<metric>`
   */
  readonly runbook?: string;
  /** @default 1 */
  readonly threshold?: number;
  /** @default 1 */
  readonly evaluationPeriods?: number;
  /** @default evaluationPeriods */
  readonly datapointsToAlarm?: number;
  /** @default GREATER_THAN_OR_EQUAL_TO_THRESHOLD */
  readonly comparisonOperator?: cloudwatch.ComparisonOperator;
  /** @default NOT_BREACHING */
  readonly treatMissingData?: cloudwatch.TreatMissingData;
  /** For a percentile: whether a period with too few samples is evaluated. @default - CloudWatch's default, evaluate */
  readonly evaluateLowSampleCountPercentile?: 'evaluate' | 'ignore';
  /** Topics told besides the severity's own (an alarm about a topic's own failures). */
  readonly alsoNotify?: sns.ITopic;
}

/** The runbook heading of a spec: the one the docs must carry, and the link's anchor. */
export function runbookHeading(spec: Pick<AlarmSpec, 'resource' | 'metric' | 'runbook'>): string {
  return spec.runbook ?? `${spec.resource}-${spec.metric}`;
}

/** GitHub's anchor for a heading of plain words and hyphens: lower case, spaces to hyphens. */
export function runbookAnchor(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^a-z0-9 -]/g, '')
    .replace(/ /g, '-');
}

/** Where the alarms go and what they are called: what every alarm of one monitoring construct shares. */
export interface AlarmFactoryProps {
  readonly prefix: string;
  readonly alarmTopic: sns.ITopic;
  readonly criticalAlarmTopic: sns.ITopic;
  /** The runbook page; each alarm links `<runbookBaseUrl>#<anchor>`. */
  readonly runbookBaseUrl: string;
}

/** Builds alarms from {@link AlarmSpec}s into one scope, and keeps them by key. */
export class AlarmFactory {
  /** Every alarm by key, in creation order. */
  public readonly alarms: Record<string, cloudwatch.Alarm> = {};
  /** Every alarm, read by the dashboard's status widget when it renders (so later consumer alarms show too). */
  public readonly list: cloudwatch.IAlarm[] = [];

  constructor(
    private readonly scope: Construct,
    private readonly props: AlarmFactoryProps,
  ) {}

  /** Creates the alarm: fires on any occurrence (at least 1 in one period) unless the spec says otherwise. */
  public add(spec: AlarmSpec): cloudwatch.Alarm {
    if (this.alarms[spec.key]) throw new Error(`an alarm keyed ${spec.key} already exists`);
    const evaluationPeriods = spec.evaluationPeriods ?? 1;
    const created = new cloudwatch.Alarm(this.scope, `${spec.key.charAt(0).toUpperCase()}${spec.key.slice(1)}Alarm`, {
      metric: spec.source,
      alarmDescription: `${spec.summary} Runbook: ${this.props.runbookBaseUrl}#${runbookAnchor(runbookHeading(spec))}`,
      alarmName: `${this.props.prefix}-${spec.resource}-${spec.metric}-${spec.severity}`,
      threshold: spec.threshold ?? 1,
      evaluationPeriods,
      datapointsToAlarm: spec.datapointsToAlarm,
      comparisonOperator: spec.comparisonOperator ?? cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: spec.treatMissingData ?? cloudwatch.TreatMissingData.NOT_BREACHING,
      evaluateLowSampleCountPercentile: spec.evaluateLowSampleCountPercentile,
    });
    const topics = [spec.severity === 'Critical' ? this.props.criticalAlarmTopic : this.props.alarmTopic];
    if (spec.alsoNotify && !topics.includes(spec.alsoNotify)) topics.push(spec.alsoNotify);
    for (const topic of topics) {
      created.addAlarmAction(new SnsAction(topic));
      created.addOkAction(new SnsAction(topic));
    }
    this.alarms[spec.key] = created;
    this.list.push(created);
    return created;
  }
}
