/**
 * How {@link FaceSignWebhooksProps} become settings: defaults and bounds come from the settings
 * table (contract/settings.ts), so the construct, the handlers and the local runtime agree on them.
 */
import { Duration, Token } from 'aws-cdk-lib';
import { CROSS_SETTING_RULES, DEFAULTS_FROM } from '../contract/construct-settings';
import { describeBounds, isValidHostEntry, SETTINGS, withinBounds, type SettingName, type SettingRow, type SettingValue } from '../contract/settings';
import { SECONDS_PER_DAY } from '../contract/time-budget';
import type { FaceSignWebhooksProps } from './facesign-webhooks-props';
import type { FrontDoorDomain, FrontDoorType } from './front-door/front-door';
import { WAF_RATE_LIMIT } from './front-door/web-acl';

/** Units named in a bound's error, since the prop is given in another form (a Duration) or the number alone is ambiguous. */
const UNITS_NAMED = new Set<string>(['seconds', 'milliseconds', 'days', 'percent']);

/** The settings the construct resolves from its props: every table row with a prop. */
type ResolvedName = { [N in SettingName]: (typeof SETTINGS)[N]['prop'] extends true ? N : never }[SettingName];
type WithDefault = { [N in ResolvedName]: (typeof SETTINGS)[N] extends { default: unknown } ? N : never }[ResolvedName];

/** Settings in the table's units (Durations in seconds or whole days), defaults applied and bounds checked. */
export type ResolvedSettings = { readonly [N in WithDefault]: SettingValue<N> } & { readonly [N in Exclude<ResolvedName, WithDefault>]?: SettingValue<N> };

/**
 * Applies the table's defaults and refuses values outside its bounds or its cross-setting rules,
 * naming the value received. Token values are passed on unchecked.
 */
export function resolveSettings(props: FaceSignWebhooksProps): ResolvedSettings {
  const given: Record<string, unknown> = { ...props };
  const values: Record<string, unknown> = {};
  const rows = (Object.entries(SETTINGS) as [SettingName, SettingRow][]).filter(([, row]) => row.prop);
  for (const [name, row] of rows) {
    const value = given[name];
    values[name] = value === undefined ? row.default : value instanceof Duration ? inUnit(name, row, value) : value;
  }
  for (const [name, from] of Object.entries(DEFAULTS_FROM)) if (given[name] === undefined) values[name] = values[from];
  for (const [name, row] of rows) {
    const value = values[name];
    if (value === undefined) continue;
    if (row.unit === 'host list') {
      values[name] = checkHostList(name, value as readonly string[]);
    } else if (typeof value === 'number' && !Token.isUnresolved(value) && !withinBounds(name, value)) {
      throw new Error(`${UNITS_NAMED.has(row.unit) ? `${name} (${row.unit})` : name} must be ${describeBounds(name)}, got ${value}`);
    }
  }
  // Holds never outlive the idempotency window (CROSS_SETTING_RULES): unless given, holdRetention
  // follows a shorter window, in the whole days S3 lifecycle rules count (at least one; the
  // reverifier re-queues nothing older than the window itself).
  const window = values.idempotencyWindow as number;
  if (given.holdRetention === undefined && !Token.isUnresolved(window)) {
    values.holdRetention = Math.max(1, Math.min(SETTINGS.holdRetention.default, Math.floor(window / SECONDS_PER_DAY)));
  }
  const settings = values as ResolvedSettings;
  const known = (...numbers: number[]) => numbers.every((n) => !Token.isUnresolved(n));
  if (known(settings.processorTimeout, settings.mediaDownloadTimeout)) {
    failIf(CROSS_SETTING_RULES.processorTimeoutCoversDownload(settings.processorTimeout, settings.mediaDownloadTimeout));
  }
  if (known(settings.signatureTolerance, settings.idempotencyWindow)) {
    failIf(CROSS_SETTING_RULES.toleranceWithinIdempotencyWindow(settings.signatureTolerance, settings.idempotencyWindow));
  }
  if (known(settings.holdRetention, settings.idempotencyWindow)) {
    failIf(CROSS_SETTING_RULES.holdRetentionWithinIdempotencyWindow(settings.holdRetention, settings.idempotencyWindow));
  }
  return settings;
}

/**
 * A Duration prop in its row's unit. A value that is not a whole number of that unit is refused
 * here, naming the prop (CDK's own conversion error names neither the prop nor the unit wanted).
 */
function inUnit(prop: string, row: SettingRow, value: Duration): number {
  const convert = (options?: { integral: false }) =>
    row.unit === 'days' ? value.toDays(options) : row.unit === 'milliseconds' ? value.toMilliseconds(options) : value.toSeconds(options);
  // A token converts only from its own unit; CDK's error says so.
  if (value.isUnresolved()) return convert();
  const amount = convert({ integral: false });
  if (!Number.isInteger(amount)) throw new Error(`${prop} must be a whole number of ${row.unit}, got ${value.toHumanString()}`);
  return amount;
}

function failIf(message: string | undefined): void {
  if (message !== undefined) throw new Error(message);
}

function checkHostList(name: string, hosts: readonly string[]): readonly string[] {
  const normalized = hosts.map((h) => h.trim().toLowerCase());
  if (normalized.length === 0) throw new Error(`${name} must name at least one host, got []`);
  for (const host of normalized) {
    if (!isValidHostEntry(host)) throw new Error(`${name} entries must be host, host:port or *.domain, got "${host}"`);
  }
  return normalized;
}

/** How long the created bucket keeps media and archived payloads. */
export interface Retention {
  readonly media: Duration;
  readonly archive: Duration;
  readonly held: Duration;
}

/**
 * The retention of media and archive (resolved, like every setting, by {@link resolveSettings}),
 * after refusing either beside an existing bucket, whose lifecycle is the user's.
 */
export function resolveRetention(props: FaceSignWebhooksProps, settings: ResolvedSettings): Retention {
  const given = { mediaRetention: props.mediaRetention, archiveRetention: props.archiveRetention };
  if (props.existingBucketObj) {
    const set = Object.entries(given)
      .filter(([, v]) => v !== undefined)
      .map(([k]) => k);
    if (set.length > 0) {
      throw new Error(
        `${set.join(', ')} ${set.length === 1 ? 'applies' : 'apply'} to a created bucket only; set the lifecycle of existingBucketObj yourself, got ${set.join(', ')} with existingBucketObj`,
      );
    }
  }
  return { media: Duration.days(settings.mediaRetention), archive: Duration.days(settings.archiveRetention), held: Duration.days(settings.holdRetention) };
}

/** Refuses an existing resource together with settings for a new one. */
export function exclusive(existingName: string, existing: unknown, propsName: string, newProps: unknown): void {
  if (existing !== undefined && newProps !== undefined) {
    throw new Error(`${existingName} and ${propsName} are mutually exclusive: pass an existing resource or settings for a new one, got both`);
  }
}

/** Refuses every pair of an existing resource and settings for a new one. */
export function refuseExistingWithNew(props: FaceSignWebhooksProps): void {
  exclusive('existingSigningSecretObj', props.existingSigningSecretObj, 'signingSecretProps', props.signingSecretProps);
  exclusive('existingBucketObj', props.existingBucketObj, 'bucketProps', props.bucketProps);
  exclusive('existingEventBusObj', props.existingEventBusObj, 'eventBusProps', props.eventBusProps);
  exclusive('existingAlarmTopicObj', props.existingAlarmTopicObj, 'alarmTopicProps', props.alarmTopicProps);
  exclusive('existingEncryptionKeyObj', props.existingEncryptionKeyObj, 'encryptionKeyProps', props.encryptionKeyProps);
}

/** The front door's settings, from its props: defaults applied, and refused with the value received where AWS would refuse them. */
export function resolveFrontDoor(props: FaceSignWebhooksProps): {
  type: FrontDoorType;
  waf: { rateLimit: number; windowSeconds: number; allowedSourceIps?: readonly string[] };
  domain?: FrontDoorDomain;
} {
  const type = props.frontDoor ?? 'rest-api-waf';
  if (type !== 'rest-api-waf' && type !== 'http-api') throw new Error(`frontDoor must be 'rest-api-waf' or 'http-api', got ${JSON.stringify(type)}`);
  if (type === 'http-api') {
    const wafOnly = (['wafRateLimit', 'wafRateLimitWindow', 'allowedSourceIps'] as const).filter((name) => props[name] !== undefined);
    if (wafOnly.length > 0)
      throw new Error(
        `${wafOnly.join(', ')} need${wafOnly.length === 1 ? 's' : ''} a web ACL, which an HTTP API cannot carry: use frontDoor 'rest-api-waf', got frontDoor 'http-api'`,
      );
  }
  const rateLimit = props.wafRateLimit ?? 50_000;
  if (!Token.isUnresolved(rateLimit) && (!Number.isInteger(rateLimit) || rateLimit < WAF_RATE_LIMIT.min || rateLimit > WAF_RATE_LIMIT.max)) {
    throw new Error(`wafRateLimit must be an integer from ${WAF_RATE_LIMIT.min} to ${WAF_RATE_LIMIT.max} (AWS WAF's bounds), got ${rateLimit}`);
  }
  const window = props.wafRateLimitWindow ?? Duration.minutes(5);
  const windowSeconds = window.toSeconds({ integral: false });
  if (!(WAF_RATE_LIMIT.windowsSeconds as readonly number[]).includes(windowSeconds)) {
    throw new Error(`wafRateLimitWindow must be 1, 2, 5 or 10 minutes (AWS WAF's evaluation windows), got ${window.toHumanString()}`);
  }
  const allowed = props.allowedSourceIps?.map((cidr) => cidr.trim());
  if (allowed !== undefined) {
    if (allowed.length === 0) throw new Error('allowedSourceIps must name at least one CIDR (leave it out to allow every source), got []');
    for (const cidr of allowed) {
      if (!isCidr(cidr)) throw new Error(`allowedSourceIps entries must be CIDRs such as 192.0.2.0/24 or 2001:db8::/32, got ${JSON.stringify(cidr)}`);
    }
  }
  if (props.domainName === undefined) {
    const orphans = (['certificate', 'hostedZone'] as const).filter((name) => props[name] !== undefined);
    if (orphans.length > 0)
      throw new Error(
        `${orphans.join(' and ')} belong${orphans.length === 1 ? 's' : ''} to a custom domain: set domainName too, got ${orphans.join(' and ')} without it`,
      );
    return { type, waf: { rateLimit, windowSeconds, allowedSourceIps: allowed } };
  }
  if (props.certificate === undefined)
    throw new Error(`domainName needs certificate (an ACM certificate for it in the stack's Region), got domainName ${JSON.stringify(props.domainName)} alone`);
  return {
    type,
    waf: { rateLimit, windowSeconds, allowedSourceIps: allowed },
    domain: { domainName: props.domainName, certificate: props.certificate, hostedZone: props.hostedZone },
  };
}

/** An IPv4 or IPv6 CIDR as AWS WAF IP sets take them (https://docs.aws.amazon.com/waf/latest/APIReference/API_IPSet.html). */
function isCidr(value: string): boolean {
  const [address, prefix, ...rest] = value.split('/');
  if (rest.length > 0 || prefix === undefined || !/^\d{1,3}$/.test(prefix)) return false;
  const bits = Number(prefix);
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(address)) return address.split('.').every((octet) => Number(octet) <= 255) && bits >= 1 && bits <= 32;
  return /^[0-9a-f:]+$/i.test(address) && address.includes(':') && bits >= 1 && bits <= 128;
}
