/**
 * Bench 5: cost per million events on AWS, from the durations measured by the load bench, the
 * construct's configured memory sizes and batch size, and public list prices.
 *
 * Prices: US East (N. Virginia), on-demand list prices from the AWS pricing pages
 * (aws.amazon.com/lambda/pricing, /api-gateway/pricing, /sqs/pricing, /dynamodb/pricing/on-demand,
 * /s3/pricing, /eventbridge/pricing, /cloudwatch/pricing, /xray/pricing, /secrets-manager/pricing),
 * Lambda's figures were checked against a stored copy of its pricing page on 2026-11-26; the others
 * are the 2025 list prices as we know them and were not re-checked here. Free tiers are ignored.
 * Re-check before quoting; they change.
 */
import { SETTINGS } from '../contract/settings';
import { measuredLoad } from './load';
import type { BenchRow } from './stats';

export const PRICES = {
  httpApiPerMillion: 1.0,
  lambdaRequestPerMillion: 0.2,
  lambdaArmPerGbSecond: 0.0000133334,
  sqsPerMillionRequests: 0.4,
  dynamoWritePerMillionWru: 0.625,
  s3PutPer1000: 0.005,
  eventBridgePerMillion: 1.0,
  logsIngestionPerGb: 0.5,
  xrayPerMillionTracesRecorded: 5.0,
} as const;

const VERIFIER_GB = SETTINGS.verifierMemorySize.default / 1024;
const PROCESSOR_GB = SETTINGS.processorMemorySize.default / 1024;
const BATCH_SIZE = SETTINGS.processorBatchSize.default;

/** A hosted webhook gateway's published price, for scale (from its plans page in our reference copy). */
const HOSTED_GATEWAY = {
  name: 'HookDeploy Team plan (hookdeploy-marketing.pages.dev/docs/billing/plans)',
  text: "$19/month for 500,000 requests; 1 M/month needs its custom Enterprise plan. Hookdeck's and Svix's current prices could not be checked here.",
};

export interface CostBreakdown {
  readonly lines: Array<[string, number]>;
  readonly total: number;
}

/** Dollars per million events, media or not. A media event stores one file of at most 5 MiB (one PUT). */
export function costPerMillion(
  d: { verifierMs: number; processorMsPerEvent: number; logBytesPerEvent: number },
  withMedia: boolean,
  mediaMs = 0,
): CostBreakdown {
  const billed = (ms: number) => Math.ceil(ms);
  const lines: Array<[string, number]> = [
    ['HTTP API requests', PRICES.httpApiPerMillion],
    ['verifier: requests', PRICES.lambdaRequestPerMillion],
    ['verifier: duration', 1e6 * VERIFIER_GB * (billed(d.verifierMs) / 1000) * PRICES.lambdaArmPerGbSecond],
    ['processor: requests (one per batch)', PRICES.lambdaRequestPerMillion / BATCH_SIZE],
    ['processor: duration', 1e6 * PROCESSOR_GB * ((d.processorMsPerEvent + mediaMs) / 1000) * PRICES.lambdaArmPerGbSecond],
    ['SQS: send + receive/delete per batch', (1 + 2 / BATCH_SIZE) * PRICES.sqsPerMillionRequests],
    ['DynamoDB: 2 writes (in progress, completed)', 2 * PRICES.dynamoWritePerMillionWru],
    [withMedia ? 'S3: 2 PUTs (archive, media)' : 'S3: 1 PUT (archive)', (withMedia ? 2 : 1) * 1000 * PRICES.s3PutPer1000],
    ['EventBridge: 1 custom event', PRICES.eventBridgePerMillion],
    ['CloudWatch Logs ingestion', ((1e6 * d.logBytesPerEvent) / 1024 ** 3) * PRICES.logsIngestionPerGb],
    ['X-Ray: traces recorded (if all sampled)', PRICES.xrayPerMillionTracesRecorded],
  ];
  return { lines, total: lines.reduce((sum, [, v]) => sum + v, 0) };
}

export async function runCostBench(): Promise<BenchRow[]> {
  const { durations } = await measuredLoad();
  // A 1 MiB photo at the processor's measured streaming rate in the media bench (~60 MiB/s for
  // 100 MiB on this machine); in AWS the media host's speed decides.
  const mediaMs = 1000 / 60;
  const rows: BenchRow[] = [];
  for (const [label, withMedia] of [
    ['without media', false],
    ['with a 1 MiB media file each', true],
  ] as const) {
    const cost = costPerMillion(durations, withMedia, withMedia ? mediaMs : 0);
    for (const [line, dollars] of cost.lines) rows.push({ bench: 'cost', case: label, measure: line, value: `$${dollars.toFixed(2)}` });
    rows.push({ bench: 'cost', case: label, measure: 'TOTAL per million events', value: `$${cost.total.toFixed(2)}` });
  }
  rows.push(
    {
      bench: 'cost',
      case: 'inputs',
      measure: 'verifier / processor ms per event (load bench)',
      value: `${durations.verifierMs.toFixed(1)} / ${durations.processorMsPerEvent.toFixed(1)}`,
    },
    // 31 alarms reading 45 metrics in all (metric-math alarms are billed per metric they read); a test counts them.
    {
      bench: 'cost',
      case: 'fixed per month',
      measure: 'secret, 2 KMS keys (alarm topic, data), 31 alarms (45 alarm metrics), dashboard',
      value: '$0.40 + $2.00 + $4.50 + $3.00',
    },
    // S3 Bucket Keys and SQS's 5-minute data key reuse make KMS requests a matter of time, not of
    // events: about one GenerateDataKey/Decrypt per execution environment per 5 minutes.
    { bench: 'cost', case: 'fixed per month', measure: 'KMS requests ($0.03 per 10,000), 10 busy environments', value: '~$0.26' },
    { bench: 'cost', case: 'hosted gateway', measure: HOSTED_GATEWAY.name, value: HOSTED_GATEWAY.text },
  );
  return rows;
}
