/**
 * A small CloudWatch alarm evaluator for tests: the data points a handler really printed (EMF
 * lines), aggregated the way CloudWatch stores and reads them, and one synthesized alarm's
 * threshold, comparison, periods, M of N and missing-data treatment applied to them.
 *
 * What it models, from AWS's documentation:
 * - EMF: each `_aws.CloudWatchMetrics` directive makes one metric per dimension set, named by
 *   namespace, metric name and every dimension's value; a metric without `StorageResolution: 1` is
 *   standard resolution (1-minute granularity)
 *   (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
 *   A metric is identified by its namespace, name and its whole set of dimensions: an alarm on
 *   `{service, deployment}` does not see a point published with `{service, deployment, Reason}`
 *   (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#Dimension).
 * - Alarm evaluation: the N (`EvaluationPeriods`) most recent periods, ALARM when at least M
 *   (`DatapointsToAlarm`, N when absent) breach; a missing period counts as `TreatMissingData`
 *   says (`missing` when absent)
 *   (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html,
 *   https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html).
 *
 * What it assumes where AWS is silent or which it leaves out: periods are aligned to multiples of
 * the period since the epoch, and only complete periods are evaluated (CloudWatch does not
 * document either); with `missing` or `ignore` it evaluates the periods that have data and does not
 * look further back for more, as CloudWatch sometimes does; metric math (`Metrics` with
 * expressions), percentiles and anomaly detection are refused rather than guessed.
 */

/** One data point as CloudWatch would receive it. */
export interface MetricDatum {
  readonly namespace: string;
  readonly metricName: string;
  /** Every dimension of the metric, by name. */
  readonly dimensions: Readonly<Record<string, string>>;
  readonly timestampMs: number;
  readonly value: number;
  /** 1 for high resolution, 60 (the default) for standard resolution. */
  readonly storageResolution: 1 | 60;
}

/** Which metric, which statistic, over which period: one `MetricStat`. */
export interface MetricStatSpec {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly statistic: 'Sum' | 'SampleCount' | 'Average' | 'Minimum' | 'Maximum';
  readonly periodSeconds: number;
}

/** The comparisons of a static-threshold alarm. */
export type ComparisonOperator = 'GreaterThanOrEqualToThreshold' | 'GreaterThanThreshold' | 'LessThanThreshold' | 'LessThanOrEqualToThreshold';

/** How a period without data counts. */
export type TreatMissingData = 'breaching' | 'notBreaching' | 'ignore' | 'missing';

/** An alarm's state. */
export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

/** Everything that decides a static-threshold alarm's state. */
export interface AlarmSpec {
  readonly metric: MetricStatSpec;
  readonly threshold: number;
  readonly comparison: ComparisonOperator;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  readonly treatMissingData: TreatMissingData;
}

type Json = Record<string, unknown>;

/**
 * The data points in EMF log lines (other lines are skipped). Throws on a directive that names a
 * metric or dimension the line does not carry, as CloudWatch would not extract it.
 */
export function metricDataFromEmf(lines: ReadonlyArray<Json>): MetricDatum[] {
  const data: MetricDatum[] = [];
  for (const line of lines) {
    const aws = line._aws as { Timestamp?: unknown; CloudWatchMetrics?: unknown } | undefined;
    if (!aws || !Array.isArray(aws.CloudWatchMetrics)) continue;
    if (typeof aws.Timestamp !== 'number') throw new Error(`EMF line without a numeric _aws.Timestamp: ${JSON.stringify(line)}`);
    for (const directive of aws.CloudWatchMetrics as Array<{
      Namespace: string;
      Dimensions: string[][];
      Metrics: Array<{ Name: string; StorageResolution?: number }>;
    }>) {
      for (const dimensionSet of directive.Dimensions) {
        const dimensions: Record<string, string> = {};
        for (const name of dimensionSet) {
          const value = line[name];
          if (typeof value !== 'string') throw new Error(`EMF dimension ${name} has no string value in ${JSON.stringify(line)}`);
          dimensions[name] = value;
        }
        for (const metric of directive.Metrics) {
          const raw = line[metric.Name];
          const values = Array.isArray(raw) ? raw : [raw];
          if (values.length === 0 || values.some((v) => typeof v !== 'number'))
            throw new Error(`EMF metric ${metric.Name} has no numeric value in ${JSON.stringify(line)}`);
          for (const value of values as number[]) {
            data.push({
              namespace: directive.Namespace,
              metricName: metric.Name,
              dimensions,
              timestampMs: aws.Timestamp,
              value,
              storageResolution: metric.StorageResolution === 1 ? 1 : 60,
            });
          }
        }
      }
    }
  }
  return data;
}

/** True when the datum belongs to the metric: same namespace, name and exactly the same dimensions. */
function sameMetric(datum: MetricDatum, spec: MetricStatSpec): boolean {
  const want = Object.entries(spec.dimensions);
  return (
    datum.namespace === spec.namespace &&
    datum.metricName === spec.metricName &&
    Object.keys(datum.dimensions).length === want.length &&
    want.every(([name, value]) => datum.dimensions[name] === value)
  );
}

/**
 * The statistic of the metric in each period that has data, by the period's start (ms). A period
 * shorter than a minute needs high-resolution data; standard-resolution data has none.
 */
export function aggregate(data: ReadonlyArray<MetricDatum>, spec: MetricStatSpec): Map<number, number> {
  const periodMs = spec.periodSeconds * 1000;
  if (!(Number.isInteger(spec.periodSeconds) && spec.periodSeconds > 0))
    throw new Error(`period must be a positive whole number of seconds, got ${spec.periodSeconds}`);
  const buckets = new Map<number, number[]>();
  for (const datum of data) {
    if (!sameMetric(datum, spec)) continue;
    if (spec.periodSeconds < 60 && datum.storageResolution !== 1) {
      throw new Error(`a ${spec.periodSeconds} s period needs high-resolution data (StorageResolution 1); ${spec.metricName} is standard resolution`);
    }
    // Standard-resolution points are stored per minute, so they fall in the period of their minute.
    const stored = datum.storageResolution === 1 ? datum.timestampMs : Math.floor(datum.timestampMs / 60_000) * 60_000;
    const start = Math.floor(stored / periodMs) * periodMs;
    buckets.set(start, [...(buckets.get(start) ?? []), datum.value]);
  }
  const out = new Map<number, number>();
  for (const [start, values] of buckets) out.set(start, statistic(spec.statistic, values));
  return out;
}

function statistic(name: MetricStatSpec['statistic'], values: number[]): number {
  switch (name) {
    case 'Sum':
      return values.reduce((a, b) => a + b, 0);
    case 'SampleCount':
      return values.length;
    case 'Average':
      return values.reduce((a, b) => a + b, 0) / values.length;
    case 'Minimum':
      return Math.min(...values);
    case 'Maximum':
      return Math.max(...values);
  }
}

function breaches(comparison: ComparisonOperator, value: number, threshold: number): boolean {
  switch (comparison) {
    case 'GreaterThanOrEqualToThreshold':
      return value >= threshold;
    case 'GreaterThanThreshold':
      return value > threshold;
    case 'LessThanThreshold':
      return value < threshold;
    case 'LessThanOrEqualToThreshold':
      return value <= threshold;
  }
}

/** One evaluated period: its start, its value if it had data, and whether it counted as breaching. */
export interface EvaluatedPeriod {
  readonly startMs: number;
  readonly value?: number;
  /** Undefined for a missing period that `ignore` or `missing` leaves out. */
  readonly breaching?: boolean;
}

/** The alarm's state at a time, and the periods that decided it. */
export interface Evaluation {
  readonly state: AlarmState;
  readonly periods: EvaluatedPeriod[];
}

/**
 * The alarm's state when evaluated at `atMs`, over the `evaluationPeriods` most recent complete
 * periods. `previousState` is what `ignore` keeps when every period is missing.
 */
export function evaluateAlarm(
  alarm: AlarmSpec,
  data: ReadonlyArray<MetricDatum>,
  options: { readonly atMs: number; readonly previousState?: AlarmState },
): Evaluation {
  const { evaluationPeriods: n, datapointsToAlarm: m } = alarm;
  if (!(Number.isInteger(n) && n >= 1 && Number.isInteger(m) && m >= 1 && m <= n)) {
    throw new Error(`need 1 <= DatapointsToAlarm <= EvaluationPeriods, got ${m} of ${n}`);
  }
  const periodMs = alarm.metric.periodSeconds * 1000;
  const values = alarmSeries(alarm, data);
  const lastEnd = Math.floor(options.atMs / periodMs) * periodMs;
  const periods: EvaluatedPeriod[] = [];
  for (let k = n; k >= 1; k--) {
    const startMs = lastEnd - k * periodMs;
    const value = values.get(startMs);
    if (value !== undefined) periods.push({ startMs, value, breaching: breaches(alarm.comparison, value, alarm.threshold) });
    else if (alarm.treatMissingData === 'breaching') periods.push({ startMs, breaching: true });
    else if (alarm.treatMissingData === 'notBreaching') periods.push({ startMs, breaching: false });
    else periods.push({ startMs });
  }
  const counted = periods.filter((p) => p.breaching !== undefined);
  if (counted.length === 0) {
    return { state: alarm.treatMissingData === 'ignore' ? (options.previousState ?? 'INSUFFICIENT_DATA') : 'INSUFFICIENT_DATA', periods };
  }
  const breaching = counted.filter((p) => p.breaching).length;
  return { state: breaching >= m ? 'ALARM' : 'OK', periods };
}

/**
 * The value the alarm compares in each period that has one. The one place an alarm's source is
 * computed: a metric-math source (FILL, DIFF, IF over several series) would plug in here.
 */
function alarmSeries(alarm: AlarmSpec, data: ReadonlyArray<MetricDatum>): Map<number, number> {
  return aggregate(data, alarm.metric);
}

/**
 * The alarm spec of a synthesized `AWS::CloudWatch::Alarm`'s properties: one metric with a
 * standard statistic and literal dimension values. Anything else is refused by name, so a test
 * never evaluates an alarm it does not understand.
 */
export function alarmSpecFromTemplate(properties: Json): AlarmSpec {
  const name = String(properties.AlarmName ?? '(unnamed alarm)');
  if (properties.Metrics !== undefined) throw new Error(`${name}: metric math (Metrics) is not supported by this evaluator yet`);
  const stat = properties.Statistic;
  if (!['Sum', 'SampleCount', 'Average', 'Minimum', 'Maximum'].includes(stat as string)) {
    throw new Error(`${name}: only Sum, SampleCount, Average, Minimum and Maximum are supported, got ${JSON.stringify(stat ?? properties.ExtendedStatistic)}`);
  }
  const comparison = properties.ComparisonOperator as string;
  if (!['GreaterThanOrEqualToThreshold', 'GreaterThanThreshold', 'LessThanThreshold', 'LessThanOrEqualToThreshold'].includes(comparison)) {
    throw new Error(`${name}: unsupported ComparisonOperator ${JSON.stringify(comparison)}`);
  }
  const dimensions: Record<string, string> = {};
  for (const d of (properties.Dimensions ?? []) as Array<{ Name: string; Value: unknown }>) {
    if (typeof d.Value !== 'string') throw new Error(`${name}: dimension ${d.Name} is not a literal (${JSON.stringify(d.Value)}); resolve it first`);
    dimensions[d.Name] = d.Value;
  }
  const evaluationPeriods = properties.EvaluationPeriods as number;
  return {
    metric: {
      namespace: properties.Namespace as string,
      metricName: properties.MetricName as string,
      dimensions,
      statistic: stat as MetricStatSpec['statistic'],
      periodSeconds: properties.Period as number,
    },
    threshold: properties.Threshold as number,
    comparison: comparison as ComparisonOperator,
    evaluationPeriods,
    datapointsToAlarm: (properties.DatapointsToAlarm as number | undefined) ?? evaluationPeriods,
    treatMissingData: ((properties.TreatMissingData as TreatMissingData | undefined) ?? 'missing') as TreatMissingData,
  };
}
