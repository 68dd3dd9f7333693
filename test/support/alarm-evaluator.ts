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
 * - Metric math (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html):
 *   arithmetic and comparisons per timestamp (a timestamp missing in an operand is missing in the
 *   result), AND / OR, IF(c, a, b), FILL(m, value) and FILL(m, REPEAT), DIFF(m) (each value less the
 *   preceding value of the series), MAX([..]) of an array (each timestamp's largest value).
 *
 * What it assumes where AWS is silent or which it leaves out: periods are aligned to multiples of
 * the period since the epoch, and only complete periods are evaluated (CloudWatch does not
 * document either); with `missing` or `ignore` it evaluates the periods that have data and does not
 * look further back for more, as CloudWatch sometimes does. Metric math is evaluated over exactly
 * the alarm's evaluation range (its N periods): FILL(m, 0) gives every period of that range a value
 * even when m has none, FILL(m, REPEAT) leaves leading gaps empty (there is nothing to repeat), and
 * DIFF has no value for the range's first data point (AWS does not say how far before the range an
 * alarm's query reads). Percentiles and anomaly detection are refused rather than guessed.
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

/** One metric-math query of an alarm: a metric, or an expression over other queries' ids. */
export type MathQuery = { readonly id: string; readonly metric: MetricStatSpec } | { readonly id: string; readonly expression: string };

/** An alarm's metric math: its queries, and the id whose series the alarm compares. */
export interface MathSpec {
  readonly queries: readonly MathQuery[];
  readonly returnId: string;
  readonly periodSeconds: number;
}

/** Everything that decides a static-threshold alarm's state. */
export interface AlarmSpec {
  /** The one metric the alarm reads; for a metric-math alarm, see {@link math}. */
  readonly metric: MetricStatSpec;
  /** Metric math, when the alarm reads an expression; `metric` then only carries the period. */
  readonly math?: MathSpec;
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
  const lastEnd = Math.floor(options.atMs / periodMs) * periodMs;
  const range = Array.from({ length: n }, (_, k) => lastEnd - (n - k) * periodMs);
  const values = alarmSeries(alarm, data, range);
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
 * computed: a metric, or metric math over the alarm's evaluation range.
 */
function alarmSeries(alarm: AlarmSpec, data: ReadonlyArray<MetricDatum>, range?: readonly number[]): Map<number, number> {
  if (!alarm.math) return aggregate(data, alarm.metric);
  if (!range) throw new Error('metric math needs the evaluation range');
  const values = evaluateMath(alarm.math, data, range);
  const out = new Map<number, number>();
  range.forEach((start, i) => {
    const v = values[i];
    if (v !== undefined) out.set(start, v);
  });
  return out;
}

/** A series over the evaluation range (one slot a period, undefined where missing), or a scalar. */
type Value = number | Array<number | undefined> | Value[];

/** The return query's series over `range` (period starts, oldest first). */
export function evaluateMath(math: MathSpec, data: ReadonlyArray<MetricDatum>, range: readonly number[]): Array<number | undefined> {
  const byId = new Map(math.queries.map((q) => [q.id, q]));
  const cache = new Map<string, Array<number | undefined>>();
  const series = (id: string): Array<number | undefined> => {
    const cached = cache.get(id);
    if (cached) return cached;
    const q = byId.get(id);
    if (!q) throw new Error(`metric math names ${id}, which is no query of the alarm`);
    let result: Array<number | undefined>;
    if ('metric' in q) {
      const agg = aggregate(data, q.metric);
      result = range.map((start) => agg.get(start));
    } else {
      const v = new Parser(q.expression, series, range.length).parse();
      if (typeof v === 'number') result = range.map(() => v);
      else if (isArrayOfSeries(v)) throw new Error(`${q.id}: an expression must give one series, got an array`);
      else result = v as Array<number | undefined>;
    }
    cache.set(id, result);
    return result;
  };
  return series(math.returnId);
}

function isArrayOfSeries(v: Value): v is Value[] {
  return Array.isArray(v) && v.length > 0 && Array.isArray(v[0]);
}

/** Applies `f` per timestamp; a missing operand makes the timestamp missing. */
function pointwise(a: Value, b: Value, n: number, f: (x: number, y: number) => number): Array<number | undefined> {
  const at = (v: Value, i: number) => (typeof v === 'number' ? v : (v as Array<number | undefined>)[i]);
  return Array.from({ length: n }, (_, i) => {
    const x = at(a, i);
    const y = at(b, i);
    return x === undefined || y === undefined ? undefined : f(x, y);
  });
}

const BINARY: Record<string, (x: number, y: number) => number> = {
  '+': (x, y) => x + y,
  '-': (x, y) => x - y,
  '*': (x, y) => x * y,
  '/': (x, y) => x / y,
  '>': (x, y) => Number(x > y),
  '<': (x, y) => Number(x < y),
  '>=': (x, y) => Number(x >= y),
  '<=': (x, y) => Number(x <= y),
  '==': (x, y) => Number(x === y),
  '!=': (x, y) => Number(x !== y),
  AND: (x, y) => Number(x !== 0 && y !== 0),
  OR: (x, y) => Number(x !== 0 || y !== 0),
};

/** Precedence climbing over the operators above; functions FILL, DIFF, IF, MAX; anything else is refused. */
class Parser {
  private readonly tokens: string[];
  private pos = 0;

  constructor(
    private readonly text: string,
    private readonly series: (id: string) => Array<number | undefined>,
    private readonly n: number,
  ) {
    this.tokens = text.match(/\s*(>=|<=|==|!=|[A-Za-z_][A-Za-z0-9_]*|\d+(?:\.\d+)?|[-+*/()<>,[\]])/g)?.map((t) => t.trim()) ?? [];
    if (this.tokens.join('') !== text.replace(/\s+/g, '')) throw new Error(`cannot read the expression ${JSON.stringify(text)}`);
  }

  public parse(): Value {
    const v = this.binary(0);
    if (this.pos !== this.tokens.length) throw new Error(`unexpected ${this.tokens[this.pos]} in ${JSON.stringify(this.text)}`);
    return v;
  }

  private static readonly LEVELS = [['OR'], ['AND'], ['>', '<', '>=', '<=', '==', '!='], ['+', '-'], ['*', '/']];

  private binary(level: number): Value {
    if (level === Parser.LEVELS.length) return this.primary();
    let left = this.binary(level + 1);
    while (Parser.LEVELS[level].includes(this.tokens[this.pos])) {
      const op = this.tokens[this.pos++];
      const right = this.binary(level + 1);
      left = typeof left === 'number' && typeof right === 'number' ? BINARY[op](left, right) : pointwise(left, right, this.n, BINARY[op]);
    }
    return left;
  }

  private expect(token: string): void {
    if (this.tokens[this.pos++] !== token) throw new Error(`expected ${token} in ${JSON.stringify(this.text)}`);
  }

  private args(): Value[] {
    this.expect('(');
    const out: Value[] = [];
    while (this.tokens[this.pos] !== ')') {
      if (this.tokens[this.pos] === 'REPEAT') {
        this.pos++;
        out.push(Number.NaN);
      } else out.push(this.binary(0));
      if (this.tokens[this.pos] === ',') this.pos++;
    }
    this.expect(')');
    return out;
  }

  private primary(): Value {
    const t = this.tokens[this.pos++];
    if (t === '(') {
      const v = this.binary(0);
      this.expect(')');
      return v;
    }
    if (t === '[') {
      const items: Value[] = [];
      while (this.tokens[this.pos] !== ']') {
        items.push(this.binary(0));
        if (this.tokens[this.pos] === ',') this.pos++;
      }
      this.pos++;
      return items;
    }
    if (/^\d/.test(t)) return Number(t);
    if (t === 'FILL') return this.fill(this.args());
    if (t === 'DIFF') return this.diff(this.args());
    if (t === 'IF') return this.conditional(this.args());
    if (t === 'MAX') return this.max(this.args());
    if (/^[a-z]/.test(t) && this.tokens[this.pos] !== '(') return this.series(t);
    throw new Error(`the evaluator does not know ${t} (in ${JSON.stringify(this.text)})`);
  }

  private asSeries(v: Value): Array<number | undefined> {
    if (typeof v === 'number') return Array.from({ length: this.n }, () => v);
    if (isArrayOfSeries(v)) throw new Error(`expected one series in ${JSON.stringify(this.text)}`);
    return v as Array<number | undefined>;
  }

  /** FILL(m, value): every period of the range gets a value; FILL(m, REPEAT): the last value before, if any. */
  private fill([m, with_]: Value[]): Value {
    const s = this.asSeries(m);
    if (typeof with_ === 'number' && Number.isNaN(with_)) {
      let last: number | undefined;
      return s.map((v) => (v === undefined ? last : (last = v)));
    }
    const fillers = this.asSeries(with_);
    return s.map((v, i) => v ?? fillers[i]);
  }

  /** DIFF(m): each value less the preceding value of the series; the first value has none. */
  private diff([m]: Value[]): Value {
    let previous: number | undefined;
    return this.asSeries(m).map((v) => {
      if (v === undefined) return undefined;
      const d = previous === undefined ? undefined : v - previous;
      previous = v;
      return d;
    });
  }

  private conditional([c, a, b]: Value[]): Value {
    const cond = this.asSeries(c);
    const x = this.asSeries(a);
    const y = this.asSeries(b);
    return cond.map((v, i) => (v === undefined ? undefined : v !== 0 ? x[i] : y[i]));
  }

  /** MAX([a, b, ...]): each timestamp's largest defined value. */
  private max([arr]: Value[]): Value {
    if (!isArrayOfSeries(arr) && !(Array.isArray(arr) && arr.every((v) => typeof v === 'number'))) throw new Error('MAX takes an array of series here');
    const all = (arr as Value[]).map((v) => this.asSeries(v));
    return Array.from({ length: this.n }, (_, i) => {
      const vs = all.map((s) => s[i]).filter((v): v is number => v !== undefined);
      return vs.length === 0 ? undefined : Math.max(...vs);
    });
  }
}

/**
 * The alarm spec of a synthesized `AWS::CloudWatch::Alarm`'s properties: one metric with a
 * standard statistic, or metric math over such metrics. Dimension values must be literal, or
 * `literal` must turn them into strings (a test names a queue by its logical id, say). Anything
 * else is refused by name, so a test never evaluates an alarm it does not understand.
 */
export function alarmSpecFromTemplate(properties: Json, literal: (value: unknown) => string | undefined = () => undefined): AlarmSpec {
  const name = String(properties.AlarmName ?? '(unnamed alarm)');
  const comparison = properties.ComparisonOperator as string;
  if (!['GreaterThanOrEqualToThreshold', 'GreaterThanThreshold', 'LessThanThreshold', 'LessThanOrEqualToThreshold'].includes(comparison)) {
    throw new Error(`${name}: unsupported ComparisonOperator ${JSON.stringify(comparison)}`);
  }
  const evaluationPeriods = properties.EvaluationPeriods as number;
  const rest = {
    threshold: properties.Threshold as number,
    comparison: comparison as ComparisonOperator,
    evaluationPeriods,
    datapointsToAlarm: (properties.DatapointsToAlarm as number | undefined) ?? evaluationPeriods,
    treatMissingData: ((properties.TreatMissingData as TreatMissingData | undefined) ?? 'missing') as TreatMissingData,
  };
  const dimensionsOf = (list: unknown): Record<string, string> => {
    const dimensions: Record<string, string> = {};
    for (const d of (list ?? []) as Array<{ Name: string; Value: unknown }>) {
      const value = typeof d.Value === 'string' ? d.Value : literal(d.Value);
      if (value === undefined) throw new Error(`${name}: dimension ${d.Name} is not a literal (${JSON.stringify(d.Value)}); resolve it first`);
      dimensions[d.Name] = value;
    }
    return dimensions;
  };
  const statOf = (stat: unknown): MetricStatSpec['statistic'] => {
    if (!['Sum', 'SampleCount', 'Average', 'Minimum', 'Maximum'].includes(stat as string)) {
      throw new Error(
        `${name}: only Sum, SampleCount, Average, Minimum and Maximum are supported, got ${JSON.stringify(stat ?? properties.ExtendedStatistic)}`,
      );
    }
    return stat as MetricStatSpec['statistic'];
  };
  if (properties.Metrics !== undefined) {
    type Query = { Id: string; Expression?: string; ReturnData?: boolean; Period?: number; MetricStat?: { Metric: Json; Stat: string; Period: number } };
    const raw = properties.Metrics as Query[];
    const queries: MathQuery[] = raw.map((q) =>
      q.MetricStat
        ? {
            id: q.Id,
            metric: {
              namespace: q.MetricStat.Metric.Namespace as string,
              metricName: q.MetricStat.Metric.MetricName as string,
              dimensions: dimensionsOf(q.MetricStat.Metric.Dimensions),
              statistic: statOf(q.MetricStat.Stat),
              periodSeconds: q.MetricStat.Period,
            },
          }
        : { id: q.Id, expression: q.Expression! },
    );
    const returned = raw.filter((q) => q.ReturnData !== false);
    if (returned.length !== 1) throw new Error(`${name}: an alarm returns exactly one query, got ${returned.length}`);
    const periodSeconds = returned[0].Period ?? returned[0].MetricStat?.Period ?? (raw.find((q) => q.MetricStat)?.MetricStat?.Period as number);
    const metric = { namespace: '(math)', metricName: returned[0].Id, dimensions: {}, statistic: 'Sum' as const, periodSeconds };
    return { metric, math: { queries, returnId: returned[0].Id, periodSeconds }, ...rest };
  }
  return {
    metric: {
      namespace: properties.Namespace as string,
      metricName: properties.MetricName as string,
      dimensions: dimensionsOf(properties.Dimensions),
      statistic: statOf(properties.Statistic),
      periodSeconds: properties.Period as number,
    },
    ...rest,
  };
}
