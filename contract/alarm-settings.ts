/**
 * The alarm thresholds as rows of the settings table (contract/settings.ts): each prop's default,
 * bounds and unit, defined once. The construct validates a given value against its row
 * (lib/monitoring/monitoring-checks.ts) and the reference lists them. No handler reads them.
 */
import { MEDIA_URL_LIFETIME_SECONDS, type SettingRow } from './settings';

/** API Gateway's longest integration timeout: a p99 above it cannot be measured (https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html). */
const API_GATEWAY_MAX_INTEGRATION_MS = 30_000;

export const ALARM_SETTINGS = {
  queueAgeAlarmThreshold: {
    prop: true,
    functions: [],
    unit: 'seconds',
    default: 120,
    min: 1,
    // The page comes a period or two after the threshold, and media URLs die 15 minutes after they are made.
    max: MEDIA_URL_LIFETIME_SECONDS - 1,
    doc: 'Oldest-message age in the main queue that pages; under the media URL life, or media is lost before it fires.',
  },
  apiServerErrorRateThreshold: {
    prop: true,
    functions: [],
    unit: 'percent',
    default: 5,
    min: 1,
    max: 100,
    doc: 'Percentage of 5xx answers in 5 minutes that pages.',
  },
  apiServerErrorMinimumCount: {
    prop: true,
    functions: [],
    unit: 'count',
    default: 5,
    min: 1,
    doc: '5xx answers in those 5 minutes needed before the rate can page, so one retried 503 pages no one.',
  },
  apiLatencyP99Threshold: {
    prop: true,
    functions: [],
    unit: 'milliseconds',
    default: 1000,
    min: 1,
    max: API_GATEWAY_MAX_INTEGRATION_MS,
    doc: 'Webhook p99 latency that warns (2 of 3 five-minute periods); more than 0, or it always fires.',
  },
  signatureFailureAlarmThreshold: {
    prop: true,
    functions: [],
    unit: 'count',
    default: 10,
    min: 1,
    doc: 'Signature failures in 5 minutes above which it warns.',
  },
} as const satisfies Record<string, SettingRow>;

export type AlarmSettingName = keyof typeof ALARM_SETTINGS;
