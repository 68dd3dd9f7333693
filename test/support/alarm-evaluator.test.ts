import { describe, expect, it } from 'vitest';
import { aggregate, alarmSpecFromTemplate, evaluateAlarm, evaluateMath, metricDataFromEmf, type AlarmSpec, type MetricDatum } from './alarm-evaluator';

const MINUTE = 60_000;
// A whole hour, so period starts are easy to read.
const T0 = Date.UTC(2026, 0, 1, 10, 0, 0);
const DIMS = { service: 'svc', deployment: 'D' };
const datum = (minute: number, value = 1, dimensions: Record<string, string> = DIMS, extra: Partial<MetricDatum> = {}): MetricDatum => ({
  namespace: 'NS',
  metricName: 'Errors',
  dimensions,
  timestampMs: T0 + minute * MINUTE + 30_000,
  value,
  storageResolution: 60,
  ...extra,
});
const spec = (over: Partial<AlarmSpec> = {}, metric: Partial<AlarmSpec['metric']> = {}): AlarmSpec => ({
  metric: { namespace: 'NS', metricName: 'Errors', dimensions: DIMS, statistic: 'Sum', periodSeconds: 60, ...metric },
  threshold: 1,
  comparison: 'GreaterThanOrEqualToThreshold',
  evaluationPeriods: 1,
  datapointsToAlarm: 1,
  treatMissingData: 'notBreaching',
  ...over,
});

describe('metricDataFromEmf', () => {
  it('makes one datum per dimension set and metric, with the line’s values, and skips other lines', () => {
    const lines = [
      { level: 'INFO', message: 'not a metric' },
      {
        _aws: {
          Timestamp: T0,
          CloudWatchMetrics: [
            {
              Namespace: 'NS',
              Dimensions: [['service'], ['service', 'Reason']],
              Metrics: [
                { Name: 'Errors', Unit: 'Count' },
                { Name: 'Fast', Unit: 'Count', StorageResolution: 1 },
              ],
            },
          ],
        },
        service: 'svc',
        Reason: 'r',
        Errors: 2,
        Fast: [1, 3],
      },
    ];
    const data = metricDataFromEmf(lines);
    expect(data).toHaveLength(6);
    expect(data).toContainEqual({ namespace: 'NS', metricName: 'Errors', dimensions: { service: 'svc' }, timestampMs: T0, value: 2, storageResolution: 60 });
    expect(data).toContainEqual({
      namespace: 'NS',
      metricName: 'Errors',
      dimensions: { service: 'svc', Reason: 'r' },
      timestampMs: T0,
      value: 2,
      storageResolution: 60,
    });
    expect(data.filter((d) => d.metricName === 'Fast').map((d) => [d.value, d.storageResolution])).toEqual([
      [1, 1],
      [3, 1],
      [1, 1],
      [3, 1],
    ]);
  });

  it('refuses a directive whose dimension or metric value the line does not carry', () => {
    const directive = { Namespace: 'NS', Dimensions: [['service']], Metrics: [{ Name: 'Errors' }] };
    expect(() => metricDataFromEmf([{ _aws: { Timestamp: T0, CloudWatchMetrics: [directive] }, Errors: 1 }])).toThrow(/dimension service has no string value/);
    expect(() => metricDataFromEmf([{ _aws: { Timestamp: T0, CloudWatchMetrics: [directive] }, service: 's' }])).toThrow(/metric Errors has no numeric value/);
    expect(() => metricDataFromEmf([{ _aws: { CloudWatchMetrics: [directive] }, service: 's', Errors: 1 }])).toThrow(/without a numeric _aws.Timestamp/);
  });
});

describe('aggregate', () => {
  it('reads only the metric with exactly the alarm’s dimensions, bucketed by period', () => {
    const data = [datum(0), datum(0), datum(1, 5), datum(0, 7, { ...DIMS, Reason: 'r' }), datum(0, 9, { service: 'svc', deployment: 'Other' })];
    expect([...aggregate(data, spec().metric)]).toEqual([
      [T0, 2],
      [T0 + MINUTE, 5],
    ]);
    expect([...aggregate(data, spec({}, { periodSeconds: 300 }).metric)]).toEqual([[T0, 7]]);
    expect([...aggregate(data, spec({}, { dimensions: { ...DIMS, Reason: 'r' } }).metric)]).toEqual([[T0, 7]]);
  });

  it.each([
    ['Sum', 9],
    ['SampleCount', 3],
    ['Average', 3],
    ['Minimum', 1],
    ['Maximum', 6],
  ] as const)('computes %s', (statistic, expected) => {
    const data = [datum(0, 1), datum(0, 2), datum(0, 6)];
    expect(aggregate(data, spec({}, { statistic }).metric).get(T0)).toBe(expected);
  });

  it('stores standard-resolution points per minute and refuses a sub-minute period for them', () => {
    const high = (ms: number) => datum(0, 1, DIMS, { timestampMs: T0 + ms, storageResolution: 1 });
    expect([...aggregate([high(5_000), high(15_000)], spec({}, { periodSeconds: 10 }).metric)]).toEqual([
      [T0, 1],
      [T0 + 10_000, 1],
    ]);
    expect(() => aggregate([datum(0)], spec({}, { periodSeconds: 10 }).metric)).toThrow(/needs high-resolution data/);
  });
});

describe('evaluateAlarm', () => {
  it('fires once the period holding the first point is complete, not before, and goes OK after it', () => {
    const data = [datum(3)];
    expect(evaluateAlarm(spec(), data, { atMs: T0 + 3 * MINUTE + 59_000 }).state).toBe('OK');
    const fired = evaluateAlarm(spec(), data, { atMs: T0 + 4 * MINUTE });
    expect(fired.state).toBe('ALARM');
    expect(fired.periods).toEqual([{ startMs: T0 + 3 * MINUTE, value: 1, breaching: true }]);
    expect(evaluateAlarm(spec(), data, { atMs: T0 + 5 * MINUTE }).state).toBe('OK');
  });

  it.each([
    ['GreaterThanOrEqualToThreshold', 10, 'ALARM'],
    ['GreaterThanThreshold', 10, 'OK'],
    ['GreaterThanThreshold', 9, 'ALARM'],
    ['LessThanThreshold', 11, 'ALARM'],
    ['LessThanThreshold', 10, 'OK'],
    ['LessThanOrEqualToThreshold', 10, 'ALARM'],
  ] as const)('%s %d against a sum of 10 is %s', (comparison, threshold, state) => {
    expect(evaluateAlarm(spec({ comparison, threshold }), [datum(0, 10)], { atMs: T0 + MINUTE }).state).toBe(state);
  });

  it('needs M of the N most recent periods to breach', () => {
    const twoOfThree = spec({ evaluationPeriods: 3, datapointsToAlarm: 2 });
    expect(evaluateAlarm(twoOfThree, [datum(0), datum(2)], { atMs: T0 + 3 * MINUTE }).state).toBe('ALARM');
    expect(evaluateAlarm(twoOfThree, [datum(0)], { atMs: T0 + 3 * MINUTE }).state).toBe('OK');
    // The first point has left the range.
    expect(evaluateAlarm(twoOfThree, [datum(0), datum(2)], { atMs: T0 + 4 * MINUTE }).state).toBe('OK');
  });

  it('counts a missing period as TreatMissingData says', () => {
    const silence = (treatMissingData: AlarmSpec['treatMissingData']) =>
      spec({ treatMissingData, comparison: 'LessThanThreshold', evaluationPeriods: 3, datapointsToAlarm: 3 });
    const at = { atMs: T0 + 3 * MINUTE };
    expect(evaluateAlarm(silence('breaching'), [], at).state).toBe('ALARM');
    expect(evaluateAlarm(silence('breaching'), [datum(1)], at).state).toBe('OK');
    expect(evaluateAlarm(silence('notBreaching'), [], at).state).toBe('OK');
    expect(evaluateAlarm(silence('missing'), [], at).state).toBe('INSUFFICIENT_DATA');
    expect(evaluateAlarm(silence('ignore'), [], { ...at, previousState: 'ALARM' }).state).toBe('ALARM');
    // With some data, missing and ignore judge the periods that have it.
    expect(evaluateAlarm(spec({ treatMissingData: 'missing', evaluationPeriods: 3 }), [datum(2)], at).state).toBe('ALARM');
  });

  it('refuses DatapointsToAlarm above EvaluationPeriods', () => {
    expect(() => evaluateAlarm(spec({ evaluationPeriods: 1, datapointsToAlarm: 2 }), [], { atMs: T0 })).toThrow(/got 2 of 1/);
  });
});

describe('alarmSpecFromTemplate', () => {
  const props = {
    AlarmName: 'A',
    Namespace: 'NS',
    MetricName: 'Errors',
    Dimensions: [
      { Name: 'service', Value: 'svc' },
      { Name: 'deployment', Value: 'D' },
    ],
    Statistic: 'Sum',
    Period: 60,
    Threshold: 1,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    EvaluationPeriods: 3,
    TreatMissingData: 'notBreaching',
  };

  it('reads every field that decides the state, with CloudWatch’s defaults for the optional ones', () => {
    expect(alarmSpecFromTemplate(props)).toEqual(spec({ evaluationPeriods: 3, datapointsToAlarm: 3 }));
    expect(alarmSpecFromTemplate({ ...props, DatapointsToAlarm: 1, TreatMissingData: undefined })).toMatchObject({
      datapointsToAlarm: 1,
      treatMissingData: 'missing',
    });
  });

  it.each([
    [
      'metric math returning two series',
      {
        Metrics: [
          { Id: 'a', Expression: '1' },
          { Id: 'b', Expression: '2' },
        ],
      },
      /returns exactly one query, got 2/,
    ],
    ['a percentile', { Statistic: undefined, ExtendedStatistic: 'p99' }, /got "p99"/],
    ['an anomaly band', { ComparisonOperator: 'LessThanLowerOrGreaterThanUpperThreshold' }, /unsupported ComparisonOperator/],
    ['a dimension that is a token', { Dimensions: [{ Name: 'FunctionName', Value: { Ref: 'Fn' } }] }, /dimension FunctionName is not a literal/],
  ])('refuses %s by name', (_name, over, message) => {
    expect(() => alarmSpecFromTemplate({ ...props, ...over })).toThrow(message);
  });
});

describe('metric math', () => {
  // Five one-minute periods; m has data at minutes 2 and 4 only (an idle series' leading gap).
  const range = [0, 1, 2, 3, 4].map((k) => T0 + k * MINUTE);
  const data = [datum(2, 3), datum(4, 5)];
  const m = { namespace: 'NS', metricName: 'Errors', dimensions: DIMS, statistic: 'Sum' as const, periodSeconds: 60 };
  const run = (expression: string) =>
    evaluateMath(
      {
        queries: [
          { id: 'm', metric: m },
          { id: 'e', expression },
        ],
        returnId: 'e',
        periodSeconds: 60,
      },
      data,
      range,
    );

  it.each([
    ['m', [undefined, undefined, 3, undefined, 5]],
    ['FILL(m, 0)', [0, 0, 3, 0, 5]],
    ['FILL(m, REPEAT)', [undefined, undefined, 3, 3, 5]],
    ['DIFF(m)', [undefined, undefined, undefined, undefined, 2]],
    ['DIFF(FILL(m, REPEAT))', [undefined, undefined, undefined, 0, 2]],
    ['DIFF(FILL(FILL(m, REPEAT), 0))', [undefined, 0, 3, 0, 2]],
    ['IF(FILL(m, 0) > 3 AND 1 == 1, 10, 2 * 3 - 1)', [5, 5, 5, 5, 10]],
    ['m + 1', [undefined, undefined, 4, undefined, 6]],
    ['MAX([FILL(m, 0), 4 / 2])', [2, 2, 3, 2, 5]],
  ])('%s', (expression, expected) => {
    expect(run(expression)).toEqual(expected);
  });

  it('refuses a function it does not know, and an id that is no query', () => {
    expect(() => run('RATE(m)')).toThrow('does not know RATE');
    expect(() => run('n + 1')).toThrow('names n, which is no query');
  });

  it('evaluates a metric-math alarm read from a template over its own range, M of N', () => {
    const alarm = alarmSpecFromTemplate({
      AlarmName: 'math',
      Metrics: [
        {
          Id: 'm',
          ReturnData: false,
          MetricStat: {
            Metric: {
              Namespace: 'NS',
              MetricName: 'Errors',
              Dimensions: [
                { Name: 'service', Value: 'svc' },
                { Name: 'deployment', Value: 'D' },
              ],
            },
            Stat: 'Sum',
            Period: 60,
          },
        },
        { Id: 'e', Expression: 'FILL(m, 0)', Period: 60 },
      ],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 3,
      DatapointsToAlarm: 1,
      TreatMissingData: 'notBreaching',
    });
    expect(evaluateAlarm(alarm, data, { atMs: T0 + 3 * MINUTE }).state).toBe('ALARM');
    // No data at all: FILL gives zeros, so the alarm says OK rather than keeping its state.
    expect(evaluateAlarm(alarm, [], { atMs: T0 + 3 * MINUTE })).toMatchObject({ state: 'OK', periods: [{ value: 0 }, { value: 0 }, { value: 0 }] });
  });
});
