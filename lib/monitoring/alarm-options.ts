import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { packageRoot } from '../handler-code';

/**
 * This package's docs/operations.md, for the version that is installed: on its GitHub repository
 * when package.json names one, else on unpkg (the package ships docs/). Read from package.json,
 * so the link follows the release.
 */
export function defaultRunbookBaseUrl(root: string = packageRoot()): string {
  const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    name: string;
    version: string;
    repository?: string | { url?: string };
  };
  const repo = typeof manifest.repository === 'string' ? manifest.repository : manifest.repository?.url;
  const github = repo?.match(/github\.com[/:]([^/]+\/[^/.]+)/);
  if (github) return `https://github.com/${github[1]}/blob/v${manifest.version}/docs/operations.md`;
  return `https://unpkg.com/${manifest.name}@${manifest.version}/docs/operations.md`;
}

/** The alarm settings, shared by {@link FaceSignWebhooksProps} and {@link WebhookMonitoringProps}. */
export interface WebhookAlarmOptions {
  /**
   * An existing SNS topic every alarm notifies, on alarm and on recovery. Its policy must let
   * `cloudwatch.amazonaws.com` call `sns:Publish` (a topic with no policy of its own has the default
   * policy, which does), and if it is encrypted, its KMS key policy must let
   * `cloudwatch.amazonaws.com` use `kms:Decrypt` and `kms:GenerateDataKey*`; the construct changes
   * neither (docs/operations.md, "Bring your own alarm topic").
   * @default - a topic encrypted with a new customer-managed KMS key, with a policy that lets this stack's alarms publish
   */
  readonly existingAlarmTopicObj?: sns.ITopic;
  /**
   * Settings for the created topic. A `masterKey` given here replaces the created key; when it is a
   * key of this app, the construct adds the statement CloudWatch needs to its policy.
   * @default - a generated name, a new customer-managed KMS key
   */
  readonly alarmTopicProps?: Pick<sns.TopicProps, 'topicName' | 'displayName' | 'masterKey'>;
  /**
   * An email address subscribed to the alarm topic. Without it, an existing topic, or a
   * subscription added in the app, synthesis warns and the stack outputs that no one is told.
   * @default - no subscription
   */
  readonly alarmEmail?: string;
  /**
   * An existing SNS topic that Critical alarms notify instead of the alarm topic: a pager's topic.
   * Warning alarms still notify the alarm topic. It needs what `existingAlarmTopicObj` needs (a
   * policy and key policy that let CloudWatch publish); the construct changes neither.
   * @default - Critical alarms notify the alarm topic, or a created Critical topic when `criticalAlarmEmail` is given
   */
  readonly existingCriticalAlarmTopicObj?: sns.ITopic;
  /**
   * An email address (a pager's e-mail integration, say) told about Critical alarms only. Without
   * `existingCriticalAlarmTopicObj`, a second topic is created for Critical alarms, encrypted and
   * scoped like the alarm topic, and `alarmEmail` then gets Warnings only.
   * @default - Critical alarms go where Warning alarms go
   */
  readonly criticalAlarmEmail?: string;
  /**
   * Alarm (Critical) when no event at all was accepted (`EventsReceived`) for this long: a wrong URL
   * given to FaceSign never reaches the verifier (API Gateway answers 403 on the REST door, 404 on the HTTP API door, and FaceSign never
   * retries a 4xx), so only silence shows it. Opt-in: set it to a span in which your traffic is never
   * silent. A multiple of 5 minutes under 1 hour (evaluated in 5-minute periods), or whole hours up
   * to 7 days (1-hour periods); missing data counts as silence (docs/operations.md, "Silence").
   * @default - no silence alarm
   */
  readonly silenceAlarmAfter?: Duration;
  /**
   * First part of every alarm name: `<prefix>-<resource>-<metric>-<severity>`. The created topic
   * lets only alarms whose names start with `<prefix>-` publish.
   * Must not be empty, and must differ between two FaceSignWebhooks in one stack (alarm names are unique per account and region).
   * @default - the stack name
   */
  readonly alarmNamePrefix?: string;
  /**
   * Alarm when the oldest queued message is older than this. A queued media event must be processed
   * while its URL lives (docs/reference.md "Media URLs live 15 minutes"), and the page comes a minute or two after the threshold is crossed.
   * @default Duration.minutes(2)
   */
  readonly queueAgeAlarmThreshold?: Duration;
  /**
   * Alarm when this percentage of API requests or more end in 5xx over 5 minutes (and at least
   * `apiServerErrorMinimumCount` of them did).
   * @default 5
   */
  readonly apiServerErrorRateThreshold?: number;
  /**
   * The 5xx-rate alarm needs at least this many 5xx answers in the 5 minutes, so one retried 503
   * among a handful of requests pages no one (FaceSign retries every 5xx).
   * @default 5
   */
  readonly apiServerErrorMinimumCount?: number;
  /**
   * Alarm (Warning) when the API's p99 latency exceeds this in 2 of 3 five-minute periods. Every
   * period is evaluated, also at a few requests (then p99 is the slowest one), so one slow cold
   * start alone does not page. Must be more than 0.
   * @default Duration.seconds(1)
   */
  readonly apiLatencyP99Threshold?: Duration;
  /**
   * Alarm when more than this many requests fail signature checks in 5 minutes.
   * @default 10
   */
  readonly signatureFailureAlarmThreshold?: number;
  /**
   * The runbook page every alarm description links to, as `<runbookBaseUrl>#<alarm's heading>`.
   * Point it at your own copy (a wiki page, say) to keep your notes beside ours.
   * @default - the runbook of the installed version: on the GitHub repository package.json names, else on unpkg (`https://unpkg.com/<name>@<version>/…`)
   */
  readonly runbookBaseUrl?: string;
}
