import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { FaceSignWebhooksStack } from '../../lib';
import { alarmSpecFromTemplate, evaluateAlarm, type AlarmSpec, type AlarmState, type MetricDatum, type MetricStatSpec } from '../support/alarm-evaluator';

/**
 * Loss path → alarm → time to page, evaluated on the SYNTHESIZED alarms (read from the template)
 * over synthetic metric series, at low volume (a few deliveries an hour: idle queues between them)
 * and high volume (deliveries every minute). docs/loss-paths.md is generated from it (`-u` rewrites it).
 */
const MINUTE = 60_000;
const T0 = Date.UTC(2026, 0, 5, 0, 0, 0);
/** The loss happens at minute 120 of the simulated time; before it, two hours of history. */
const LOSS = 120;

const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
const stack = new FaceSignWebhooksStack(app, 'Ops', {});
const consumerFn = new lambda.Function(stack, 'Consumer', {
  runtime: lambda.Runtime.NODEJS_24_X,
  handler: 'index.handler',
  code: lambda.Code.fromInline('export const handler = async () => {}'),
});
stack.webhooks.onEvent('Crm', { eventTypes: ['session.status'], target: new targets.LambdaFunction(consumerFn) });
const template = Template.fromStack(stack);
const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((r) => r.Properties as Record<string, unknown>);

/** Queues, buses and rules by logical id: the evaluator needs literal dimension values. */
function literal(value: unknown): string | undefined {
  const v = value as { 'Fn::GetAtt'?: [string, string]; Ref?: string; 'Fn::Select'?: unknown };
  if (v['Fn::GetAtt']) return v['Fn::GetAtt'][0];
  if (v.Ref) return v.Ref;
  if (v['Fn::Select']) return 'rule';
  return undefined;
}

function spec(name: string): AlarmSpec {
  const found = alarms.find((a) => a.AlarmName === name);
  if (!found) throw new Error(`no alarm ${name}`);
  return alarmSpecFromTemplate(found, literal);
}

/** The metric a query of the alarm reads (its id in the template), or the alarm's own metric. */
function metricOf(alarm: AlarmSpec, id?: string): MetricStatSpec {
  if (!id) return alarm.metric;
  const q = alarm.math?.queries.find((x) => x.id === id);
  if (!q || !('metric' in q)) throw new Error(`no metric query ${id}`);
  return q.metric;
}

/** One point a minute (mid-minute) of the metric, for each [minute, value]. */
function points(metric: MetricStatSpec, values: Array<[number, number]>): MetricDatum[] {
  return values.map(([minute, value]) => ({
    namespace: metric.namespace,
    metricName: metric.metricName,
    dimensions: metric.dimensions,
    timestampMs: T0 + minute * MINUTE + 30_000,
    value,
    storageResolution: 60,
  }));
}

const range = (from: number, to: number, value: (minute: number) => number): Array<[number, number]> =>
  Array.from({ length: to - from }, (_, i) => [from + i, value(from + i)]);

/**
 * Minutes from the loss to the first evaluation in ALARM, evaluating at the end of each `step`
 * (the alarm's period), up to `within` minutes; undefined when it never pages.
 */
function timeToPage(alarm: AlarmSpec, data: MetricDatum[], within = 60): number | undefined {
  const step = alarm.metric.periodSeconds / 60;
  let state: AlarmState = 'OK';
  for (let end = Math.ceil((LOSS + 1) / step) * step; end <= LOSS + within; end += step) {
    state = evaluateAlarm(alarm, data, { atMs: T0 + end * MINUTE, previousState: state }).state;
    if (state === 'ALARM') return end - LOSS;
  }
  return undefined;
}

/** The same alarm with one expression replaced: what the template said before a fix. */
function withExpression(alarm: AlarmSpec, id: string, expression: string): AlarmSpec {
  return { ...alarm, math: { ...alarm.math!, queries: alarm.math!.queries.map((q) => (q.id === id ? { id, expression } : q)) } };
}

interface Row {
  readonly path: string;
  readonly alarm: string;
  readonly low?: number;
  readonly high?: number;
  readonly before: string;
}

const fmt = (minutes: number | undefined) => (minutes === undefined ? 'never' : minutes >= 1440 ? `${minutes / 1440} d` : `${minutes} min`);

function rows(): Row[] {
  const out: Row[] = [];
  // A. SQS moves a message into the DLQ itself (crash, timeout, OOM on the last receive).
  {
    const name = 'Ops-DeadLetterQueue-NewMessages-Critical';
    const a = spec(name);
    const depth = metricOf(a, 'depth');
    const idle = points(
      depth,
      range(LOSS, LOSS + 60, () => 1),
    ); // no depth data before: the DLQ was idle
    const busy = points(depth, [...range(0, LOSS, () => 3), ...range(LOSS, LOSS + 60, () => 4)]);
    const old = withExpression(a, 'change', 'DIFF(FILL(depth, REPEAT))');
    out.push({
      path: 'SQS moves an event into the dead-letter queue (crash, timeout or OOM on the last receive)',
      alarm: name,
      low: timeToPage(a, idle),
      high: timeToPage(a, busy),
      before: `low ${fmt(timeToPage(old, idle))}, high ${fmt(timeToPage(old, busy))}`,
    });
  }
  // B. The processor dead-letters an event itself: three signals, one message.
  {
    const name = 'Ops-DeadLetterQueue-NewMessages-Critical';
    const a = spec(name);
    const one = (base: number) => [
      ...points(metricOf(a, 'depth'), [...range(base === 0 ? LOSS : 0, LOSS, () => base), ...range(LOSS, LOSS + 60, () => base + 1)]),
      ...points(metricOf(a, 'sent'), [[LOSS, 1]]),
      ...points(metricOf(a, 'failed'), [[LOSS, 1]]),
    ];
    const low = evaluateAlarm(a, one(0), { atMs: T0 + (LOSS + 1) * MINUTE });
    // Counted once, not three times (the dashboard's "new" line is the same expression).
    expect(low.periods.at(-1)?.value).toBe(1);
    out.push({
      path: 'The processor dead-letters an event',
      alarm: name,
      low: timeToPage(a, one(0)),
      high: timeToPage(a, one(3)),
      before: 'same time (counted up to 3 times)',
    });
  }
  // C. Dead letters read 3 times in triage leave ApproximateAgeOfOldestMessage; SQS deletes them at expiry.
  {
    const name = 'Ops-DeadLetterQueue-HeldLong-Critical';
    const a = spec(name);
    const age = spec('Ops-DeadLetterQueue-OldestMessageAge-Critical');
    const days = 10 * 1440;
    const hourly = (from: number, to: number, v: number): Array<[number, number]> =>
      range(0, Math.floor((to - from) / 60), () => v).map(([i]) => [from + i * 60, v]);
    const held = points(metricOf(a, 'visible'), hourly(LOSS, LOSS + days, 1));
    const blinded = points(age.metric, hourly(LOSS, LOSS + days, 0)); // the only dead letter is excluded: age 0
    expect(timeToPage(age, blinded, days)).toBeUndefined();
    out.push({
      path: 'Dead letters read 3 times during triage, then left until SQS deletes them',
      alarm: name,
      low: timeToPage(a, held, days),
      high: timeToPage(a, held, days),
      before: 'never (the age alarm is blind to them)',
    });
  }
  // D. Retry loop: every message fails and is retried; each leaves the age metric after 3 receives in its first minute.
  {
    const name = 'Ops-Queue-NothingDeleted-Critical';
    const a = spec(name);
    const age = spec('Ops-Queue-OldestMessageAge-Critical');
    const loop = (perMinute: number) => [
      ...points(
        metricOf(a, 'visible'),
        range(LOSS, LOSS + 60, () => perMinute),
      ),
      ...points(
        metricOf(a, 'inFlight'),
        range(LOSS, LOSS + 60, (m) => perMinute * (m - LOSS + 1)),
      ),
      ...points(
        metricOf(a, 'deleted'),
        range(0, LOSS, () => perMinute * (perMinute > 1 ? 1 : 0)),
      ),
      // Only a message in its first minute (fewer than 3 receives) is in the age metric.
      ...points(
        age.metric,
        range(LOSS, LOSS + 60, () => (perMinute > 1 ? 59 : 0)),
      ),
    ];
    expect(timeToPage(age, loop(10))).toBeUndefined();
    out.push({
      path: 'Retry loop: every event fails and is retried (a dependency down)',
      alarm: name,
      low: timeToPage(a, loop(1)),
      high: timeToPage(a, loop(10)),
      before: 'never (age alarm blind after 3 receives)',
    });
  }
  // E. Backlog: the processor is throttled or too slow; the oldest message ages a minute a minute.
  {
    const name = 'Ops-Queue-OldestMessageAge-Critical';
    const a = spec(name);
    const backlog = points(
      a.metric,
      range(LOSS, LOSS + 60, (m) => (m - LOSS + 1) * 60),
    );
    const old = { ...a, threshold: 300 };
    out.push({
      path: 'Backlog: the processor is throttled or too slow',
      alarm: name,
      low: timeToPage(a, backlog),
      high: timeToPage(a, backlog),
      before: `${fmt(timeToPage(old, backlog))} (5-minute threshold)`,
    });
  }
  // F. A Lambda consumer fails an event after Lambda's own retries: its on-failure destination sends it to the consumer DLQ.
  {
    const name = 'Ops-ConsumerCrm-FailedDeliveries-Critical';
    const a = spec(name);
    const failed = points(metricOf(a, 'consumerCrmSent'), [[LOSS, 1]]);
    const withoutDestination = {
      ...a,
      math: { ...a.math!, queries: a.math!.queries.map((q) => (q.id === 'consumerCrmSent' ? { id: q.id, expression: '0' } : q)) },
    };
    out.push({
      path: 'A Lambda consumer fails an event after Lambda retried it',
      alarm: name,
      low: timeToPage(a, failed),
      high: timeToPage(a, failed),
      before: `${fmt(timeToPage(withoutDestination, failed))} (EventBridge saw a delivery)`,
    });
  }
  // G. The verifier refuses an authentic delivery (FaceSign never retries a 4xx).
  {
    const name = 'Ops-Verifier-RequestsRejected-Critical';
    const a = spec(name);
    const refused = points(a.metric, [[LOSS, 1]]);
    out.push({
      path: 'An authentic delivery is refused (400, 413, 401 after its signature matched)',
      alarm: name,
      low: timeToPage(a, refused),
      high: timeToPage(a, refused),
      before: 'same',
    });
  }
  // H. The web ACL blocks FaceSign itself (an allowlist missing its address): every retry is blocked too.
  {
    const name = 'Ops-Api-WafBlockedPersistent-Critical';
    const a = spec(name);
    const first = spec('Ops-Api-WafBlocked-Warning');
    // Low volume: one delivery, retried on an exponential back-off (FaceSign publishes no schedule: 1, 2, 4, 8, 16 min apart assumed).
    const backoff = points(
      a.metric,
      [0, 1, 3, 7, 15, 31].map((m) => [LOSS + m, 1]),
    );
    // High volume: a delivery (or retry) blocked every minute.
    const steady = points(
      a.metric,
      range(LOSS, LOSS + 60, () => 3),
    );
    // A one-off burst from some other source: the Warning only.
    const burst = points(a.metric, [[LOSS, 50]]);
    expect(timeToPage(first, burst)).toBe(5);
    expect(timeToPage(a, burst)).toBeUndefined();
    out.push({
      path: 'The web ACL blocks FaceSign (allowlist or rate rule): every retry is blocked too',
      alarm: name,
      low: timeToPage(a, backoff),
      high: timeToPage(a, steady),
      before: 'never (no alarm on web ACL blocks)',
    });
  }
  // I. The signing-secret watch could not publish its page (a lost page, not a lost event).
  {
    const name = 'Ops-SigningSecretWatch-FailedInvocations-Critical';
    const a = spec(name);
    const refused = points(a.metric, [[LOSS, 1]]);
    out.push({
      path: "The signing-secret watch's page is refused (role, topic or key policy)",
      alarm: name,
      low: timeToPage(a, refused),
      high: timeToPage(a, refused),
      before: 'never (no alarm)',
    });
  }
  return out;
}

/** After DynamoDB throttling stops: minutes until the alarm sends OK, now and with the bare metric (TreatMissingData ignored). */
function dynamoRecovery(): { now?: number; before?: number } {
  const a = spec('Ops-IdempotencyTable-Throttles-Warning');
  const metricIds = a.math!.queries.filter((q) => 'metric' in q).map((q) => q.id);
  const throttles = metricIds.flatMap((id) =>
    points(
      metricOf(a, id),
      range(LOSS, LOSS + 5, () => 2),
    ),
  );
  const okAfter = (alarm: AlarmSpec) => {
    let state: AlarmState = 'ALARM';
    for (let end = LOSS + 10; end <= LOSS + 120; end += 5) {
      state = evaluateAlarm(alarm, throttles, { atMs: T0 + end * MINUTE, previousState: state }).state;
      if (state === 'OK') return end - (LOSS + 5);
    }
    return undefined;
  };
  // CloudWatch ignores TreatMissingData for AWS/DynamoDB: a bare-metric alarm keeps its state.
  const bare: AlarmSpec = { ...a, math: undefined, metric: metricOf(a, metricIds[0]), treatMissingData: 'ignore' };
  return { now: okAfter(a), before: okAfter(bare) };
}

function doc(table: Row[]): string {
  const recovery = dynamoRecovery();
  return `# Loss paths

Generated by test/lib/loss-path-table.test.ts (\`npx vitest run --project unit test/lib/loss-path-table.test.ts -u\`
rewrites it) from the synthesized alarms of the default stack, evaluated by test/support/alarm-evaluator.ts
over synthetic metric series. Time to page counts from the minute the loss happens to the end of the
first evaluation period in ALARM. Low volume: a few deliveries an hour, so the queues are idle (SQS
publishes nothing) before the loss; high volume: deliveries every minute.

| loss path | alarm | low volume | high volume | before issue 19 |
|---|---|---|---|---|
${table.map((r) => `| ${r.path} | \`${r.alarm.replace(/^Ops-/, '<prefix>-')}\` | ${fmt(r.low)} | ${fmt(r.high)} | ${r.before} |`).join('\n')}

The DynamoDB alarms read \`FILL(m, 0)\`: after throttling stops, \`IdempotencyTable-Throttles\` sends OK
after ${fmt(recovery.now)}; on the bare metric (CloudWatch ignores \`TreatMissingData\` for AWS/DynamoDB
and keeps the state) it ${recovery.before === undefined ? 'would never send OK' : `would send OK after ${fmt(recovery.before)}`}.

## Assumptions (where AWS is silent)

- A data point is readable at the end of its minute. CloudWatch's own delay (AWS metrics, EMF lines
  processed by CloudWatch Logs) comes on top; the 1-of-3 alarms exist for that
  ([EMF alarms](https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Alarms.html)).
- An alarm's metric math is evaluated over its own evaluation range (N periods) and nothing before:
  \`FILL(m, 0)\` gives every period of that range a value, \`FILL(m, REPEAT)\` leaves a leading gap empty,
  and \`DIFF\` has no value for the first data point of the range
  ([metric math functions](https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html)).
- An idle queue publishes nothing, and a queue holding messages publishes its depth every minute
  ([SQS metrics](https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html)).
- A message received 3 times or more is left out of \`ApproximateAgeOfOldestMessage\` (same page); when it is
  the only one, the metric reads 0. A looping message is received 3 times within its first minute.
- A message SQS moves after \`maxReceiveCount\` is not in the dead-letter queue's \`NumberOfMessagesSent\`
  ([dead-letter queues](https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html));
  a Lambda on-failure destination's record is (it is a SendMessage).
- Periods are aligned to multiples of the period since the epoch, and only complete periods are evaluated.
- FaceSign retries a 5xx with exponential back-off but publishes no schedule; the web ACL row assumes
  retries 1, 2, 4, 8 and 16 minutes apart. WAF publishes \`BlockedRequests\` only for minutes with a
  block ([WAF metrics](https://docs.aws.amazon.com/waf/latest/developerguide/waf-metrics.html) says it
  reports once a minute; that it sends no zeros is assumed).
`;
}

describe('loss paths', () => {
  const table = rows();

  it('pages every loss path, at low and high volume, within its bound', () => {
    const bound: Record<string, number> = {
      'Ops-DeadLetterQueue-NewMessages-Critical': 1,
      'Ops-DeadLetterQueue-HeldLong-Critical': 7 * 1440 + 60,
      'Ops-Queue-NothingDeleted-Critical': 6,
      'Ops-Queue-OldestMessageAge-Critical': 3,
      'Ops-ConsumerCrm-FailedDeliveries-Critical': 5,
      'Ops-Verifier-RequestsRejected-Critical': 5,
      'Ops-Api-WafBlockedPersistent-Critical': 30,
      'Ops-SigningSecretWatch-FailedInvocations-Critical': 5,
    };
    for (const row of table) {
      for (const t of [row.low, row.high]) {
        expect(t, `${row.path} (${row.alarm})`).toBeDefined();
        expect(t!, `${row.path} (${row.alarm})`).toBeLessThanOrEqual(bound[row.alarm]);
      }
    }
  });

  it('would have missed the idle-DLQ move, the blinded age and a Lambda consumer before the fixes', () => {
    expect(table[0].before).toBe('low never, high 1 min');
    expect(table.find((r) => r.alarm.includes('Consumer'))!.before).toMatch(/^never/);
    const recovery = dynamoRecovery();
    expect(recovery.now).toBeDefined();
    expect(recovery.before).toBeUndefined();
  });

  it('is the table in docs/loss-paths.md', async () => {
    await expect(doc(table)).toMatchFileSnapshot('../../docs/loss-paths.md');
  });
});
