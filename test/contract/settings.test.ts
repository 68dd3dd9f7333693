import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { SERVICE } from '../../contract/metric-names';
import {
  ASSUMED_DELIVERY_DELAY_SECONDS,
  DEFAULTS_FROM,
  describeBounds,
  ENV,
  functionEnvironment,
  isValidHostEntry,
  MEDIA_URL_LIFETIME_SECONDS,
  POWERTOOLS_ENV,
  PROCESSOR_TIMEOUT_RESERVE_SECONDS,
  queueVisibilityTimeoutSeconds,
  RESOURCES,
  SETTINGS,
  withinBounds,
  type HandlerFunction,
  type ResourceRow,
  type SettingName,
  type SettingRow,
} from '../../contract/settings';
import { loadProcessorConfig, loadReverifierConfig, loadVerifierConfig } from '../../lambda/shared/config';
import { FaceSignWebhooks, type FaceSignWebhooksProps } from '../../lib';
import { ALARM_DEFAULTS } from '../../lib/monitoring/alarm-options';

const rows = Object.entries(SETTINGS) as [SettingName, SettingRow][];
const FUNCTIONS: readonly HandlerFunction[] = ['verifier', 'processor', 'reverifier'];

function synthesize(props: FaceSignWebhooksProps = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'SettingsTable');
  new FaceSignWebhooks(stack, 'Webhooks', props);
  return Template.fromStack(stack);
}

/** Each function's environment in the template, found by its Powertools service name. */
function environments(template: Template): Record<HandlerFunction, Record<string, unknown>> {
  const variables = Object.values(template.findResources('AWS::Lambda::Function')).map(
    (r) => (r.Properties.Environment?.Variables ?? {}) as Record<string, unknown>,
  );
  const of = (fn: HandlerFunction) => {
    const found = variables.filter((v) => v.POWERTOOLS_SERVICE_NAME === SERVICE[fn]);
    expect(found, fn).toHaveLength(1);
    return found[0];
  };
  return { verifier: of('verifier'), processor: of('processor'), reverifier: of('reverifier') };
}

/** `@default` of every prop in a lib/ file, as written. */
function propDefaults(file = 'facesign-webhooks-props.ts'): Map<string, string> {
  const source = readFileSync(path.join(__dirname, '..', '..', 'lib', file), 'utf8');
  const defaults = new Map<string, string>();
  for (const match of source.matchAll(/\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*readonly (\w+)\?:/g)) {
    const tag = /@default (.*)/.exec(match[1]);
    defaults.set(match[2], tag ? tag[1].trim() : '');
  }
  return defaults;
}

/** A `@default` as a value in the row's unit: `Duration.minutes(5)`, `262144 (256 KiB)`, `['a']`; undefined for `- ...`. */
function documentedValue(text: string, row: SettingRow): unknown {
  const duration = /^Duration\.(seconds|minutes|hours|days)\((\d+)\)/.exec(text);
  if (duration) {
    const value = Duration[duration[1] as 'seconds' | 'minutes' | 'hours' | 'days'](Number(duration[2]));
    return row.unit === 'days' ? value.toDays() : value.toSeconds();
  }
  if (text.startsWith('[')) return JSON.parse(text.replace(/'/g, '"')) as unknown;
  if (/^\d/.test(text)) return Number(/^\d+/.exec(text)![0]);
  if (text === 'true' || text === 'false') return text === 'true';
  if (/^'[^']*'$/.test(text)) return text.slice(1, -1);
  const retention = /^logs\.RetentionDays\.(\w+)$/.exec(text);
  if (retention) return logs.RetentionDays[retention[1] as keyof typeof logs.RetentionDays];
  return undefined;
}

const IN_SECONDS: Record<string, number> = { second: 1, minute: 60, hour: 3600, day: 24 * 3600, month: 30 * 24 * 3600 };
const IN_BYTES: Record<string, number> = { KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 };

/**
 * A default as docs/reference.md's props table states it, in the row's unit: `5 minutes`, `30 days`,
 * `one month` (CloudWatch's 30 days), `1 GiB`, `262144`, `` `false` ``, `` `['a']` ``, `none`.
 */
function statedValue(text: string, unit: string): unknown {
  const plain = text.replace(/`/g, '').trim();
  if (plain === 'none') return undefined;
  if (plain.startsWith('[')) return JSON.parse(plain.replace(/'/g, '"')) as unknown;
  if (plain === 'true' || plain === 'false') return plain === 'true';
  const time = /^(\d+|one) (second|minute|hour|day|month)s?$/.exec(plain);
  if (time) {
    const seconds = (time[1] === 'one' ? 1 : Number(time[1])) * IN_SECONDS[time[2]];
    return unit === 'days' ? seconds / IN_SECONDS.day : seconds;
  }
  const size = /^(\d+) (KiB|MiB|GiB|TiB)$/.exec(plain);
  if (size) return Number(size[1]) * IN_BYTES[size[2]];
  if (/^\d+$/.test(plain)) return Number(plain);
  return plain;
}

/** The `default` column of docs/reference.md's construct props table, by prop. */
function docsDefaults(): Map<string, string> {
  const source = readFileSync(path.join(__dirname, '..', '..', 'docs', 'reference.md'), 'utf8');
  const table = source.slice(source.indexOf('## Construct props'));
  const defaults = new Map<string, string>();
  for (const match of table.matchAll(/^\| `(\w+)` \| ([^|]*) \|/gm)) defaults.set(match[1], match[2].trim());
  return defaults;
}

describe('the settings table', () => {
  it.each(rows)('%s: its default lies within its bounds', (name, row) => {
    if (row.default === undefined) {
      expect(row.prop, `${name} has no default, so it must be an opt-in prop`).toBe(true);
    } else if (typeof row.default === 'number') {
      expect(withinBounds(name, row.default), `${name} default ${row.default} (${describeBounds(name)})`).toBe(true);
    } else if (Array.isArray(row.default)) {
      expect(row.default.length).toBeGreaterThan(0);
      for (const host of row.default) expect(isValidHostEntry(host), host).toBe(true);
    }
    if (row.min !== undefined && row.max !== undefined) expect(row.min).toBeLessThanOrEqual(row.max);
  });

  it('gives every environment variable one meaning', () => {
    const names = [...rows.map(([, row]) => row.env), ...Object.values(RESOURCES).map((r) => r.env)].filter((e) => e !== undefined);
    expect(new Set(names).size).toBe(names.length);
    // Ours are FACESIGN_; the others are read by Node.js (NODE_OPTIONS) or Powertools, by their names.
    for (const name of names) expect(name).toMatch(/^(FACESIGN_[A-Z_]+|POWERTOOLS_[A-Z_]+|NODE_OPTIONS)$/);
    for (const name of Object.values(POWERTOOLS_ENV)) expect(names).not.toContain(name);
  });

  it('names a function for every variable, and a variable for every function it names', () => {
    for (const [name, row] of rows) expect(row.functions.length > 0, name).toBe(row.env !== undefined);
  });

  it('defaults a setting from another only where their defaults agree (the handler sees no other)', () => {
    for (const [name, from] of Object.entries(DEFAULTS_FROM) as [SettingName, SettingName][]) {
      expect((SETTINGS[name] as SettingRow).default, name).toEqual((SETTINGS[from] as SettingRow).default);
    }
  });
});

describe('the synthesized template', () => {
  const env = environments(synthesize());

  it.each(rows.filter(([, row]) => row.env !== undefined))('%s reaches exactly the functions its row names', (_name, row) => {
    for (const fn of FUNCTIONS) {
      // A row without a prop is never set by the construct: only the local runtime and tests set it.
      // A flag is written only when on.
      const expected = row.prop && row.functions.includes(fn) && (row.flag === undefined || row.default === true);
      expect(env[fn][row.env!] !== undefined, `${row.env} in the ${fn}`).toBe(expected);
      if (expected && row.flag !== undefined) {
        expect(env[fn][row.env!], row.env).toBe(row.flag);
      } else if (expected) {
        const value = Array.isArray(row.default) ? row.default.join(',') : String(row.default);
        expect(env[fn][row.env!], row.env).toBe(value);
      }
    }
  });

  it.each(Object.entries(RESOURCES) as [string, ResourceRow][])('resource %s reaches exactly the functions its row names', (_name, row) => {
    for (const fn of FUNCTIONS) expect(env[fn][row.env] !== undefined, `${row.env} in the ${fn}`).toBe(row.functions.includes(fn));
  });

  it('sets no variable the contract does not define', () => {
    const known = new Set([...(Object.values(ENV) as string[]), ...Object.values(POWERTOOLS_ENV)]);
    for (const fn of FUNCTIONS) for (const name of Object.keys(env[fn])) expect(known, name).toContain(name);
  });

  it('writes a flag row when it is on', () => {
    const on = environments(synthesize({ sourceMapStackTraces: true }));
    for (const fn of FUNCTIONS) expect(on[fn][SETTINGS.sourceMapStackTraces.env], fn).toBe(SETTINGS.sourceMapStackTraces.flag);
  });
});

describe('the props', () => {
  const documented = propDefaults();

  it.each(rows)('%s: a prop exactly when the row says so, documenting the table default', (name, row) => {
    expect(documented.has(name), `${name} in FaceSignWebhooksProps`).toBe(row.prop);
    if (!row.prop) return;
    const text = documented.get(name)!;
    const from = DEFAULTS_FROM[name];
    if (from !== undefined) {
      expect(text, `${name} @default names ${from}`).toContain(from);
    } else {
      expect(documentedValue(text, row), `${name} @default ${text}`).toEqual(row.default);
    }
  });
});

describe('the construct and the config loader', () => {
  const numeric = rows.filter(([, row]) => row.prop && row.env !== undefined && typeof row.default === 'number' && row.max !== undefined);
  const loaders = { verifier: loadVerifierConfig, processor: loadProcessorConfig, reverifier: loadReverifierConfig };
  const resources: Record<HandlerFunction, Record<string, string>> = {
    verifier: functionEnvironment('verifier', { signingSecretArn: 'arn:secret', queueUrl: 'https://sqs/q' }, {}),
    processor: functionEnvironment(
      'processor',
      { bucketName: 'b', idempotencyTableName: 't', queueUrl: 'https://sqs/q', deadLetterQueueUrl: 'https://sqs/dlq' },
      {},
    ),
    reverifier: functionEnvironment('reverifier', { signingSecretArn: 'arn:secret', queueUrl: 'https://sqs/q', holdBucketName: 'b' }, {}),
  };

  it.each(numeric)('refuse the same out-of-bounds %s, each naming it', (name, row) => {
    for (const value of [row.max! + 1, row.min! - 1]) {
      const prop = row.unit === 'seconds' ? Duration.seconds(value) : row.unit === 'days' ? Duration.days(value) : value;
      // A setting that defaults from this one is given at its smallest, so that its own bounds stay quiet.
      const dependents = Object.entries(DEFAULTS_FROM)
        .filter(([, from]) => from === name)
        .map(([dependent]) => [dependent, Duration.seconds((SETTINGS[dependent as SettingName] as SettingRow).min!)]);
      expect(() => synthesize({ [name]: prop, ...Object.fromEntries(dependents) })).toThrow(
        `${name}${row.unit === 'seconds' || row.unit === 'days' ? ` (${row.unit})` : ''} must be ${describeBounds(name)}, got ${value}`,
      );
      const fn = row.functions[0];
      expect(() => loaders[fn]({ ...resources[fn], [row.env!]: String(value) })).toThrow(
        `environment variable ${row.env} must be ${describeBounds(name)}, got "${value}"`,
      );
    }
  });

  it('refuse the same host list entry', () => {
    expect(() => synthesize({ allowedMediaHosts: ['https://x'] })).toThrow('allowedMediaHosts entries must be host, host:port or *.domain, got "https://x"');
    expect(() => loadProcessorConfig({ ...resources.processor, [ENV.allowedMediaHosts]: 'https://x' })).toThrow(`${ENV.allowedMediaHosts}`);
  });
});

describe('docs/reference.md', () => {
  const stated = docsDefaults();

  it.each(rows.filter(([, row]) => row.prop))('%s: the props table states the table default', (name, row) => {
    expect(stated.has(name), `${name} in the props table`).toBe(true);
    const text = stated.get(name)!;
    const from = DEFAULTS_FROM[name];
    if (from !== undefined) expect(text, `${name} default names ${from}`).toContain(from);
    else expect(statedValue(text, row.unit), `${name} default "${text}"`).toEqual(row.default);
  });

  it.each(Object.entries(ALARM_DEFAULTS))('%s: the props table states the alarm default', (name, value) => {
    expect(stated.has(name), `${name} in the props table`).toBe(true);
    const expected = value instanceof Duration ? value.toSeconds() : value;
    expect(statedValue(stated.get(name)!, 'seconds'), `${name} default "${stated.get(name)}"`).toEqual(expected);
  });
});

describe('the alarm props', () => {
  const documented = propDefaults('monitoring/alarm-options.ts');

  it.each(Object.entries(ALARM_DEFAULTS))('%s documents the default it gets', (name, value) => {
    expect(documented.has(name), `${name} in WebhookAlarmOptions`).toBe(true);
    const text = documented.get(name)!;
    const duration = /^Duration\.(seconds|minutes|hours|days)\((\d+)\)$/.exec(text);
    if (value instanceof Duration) {
      expect(duration, `${name} @default ${text}`).not.toBeNull();
      expect(Duration[duration![1] as 'seconds' | 'minutes' | 'hours' | 'days'](Number(duration![2])).toSeconds(), `${name} @default ${text}`).toBe(
        value.toSeconds(),
      );
    } else {
      expect(Number(text), `${name} @default ${text}`).toBe(value);
    }
  });
});

describe('the bounds that follow from other facts', () => {
  it('keep the longest processorTimeout inside a media URL delivered after the assumed delay', () => {
    const longest = SETTINGS.processorTimeout.max;
    expect(queueVisibilityTimeoutSeconds(longest)).toBeLessThanOrEqual(MEDIA_URL_LIFETIME_SECONDS - ASSUMED_DELIVERY_DELAY_SECONDS);
    expect(queueVisibilityTimeoutSeconds(longest + 1)).toBeGreaterThan(MEDIA_URL_LIFETIME_SECONDS - ASSUMED_DELIVERY_DELAY_SECONDS);
  });

  it('let the longest download fit the longest processorTimeout', () => {
    expect(SETTINGS.mediaDownloadTimeout.max + PROCESSOR_TIMEOUT_RESERVE_SECONDS).toBe(SETTINGS.processorTimeout.max);
    expect(() =>
      synthesize({
        processorTimeout: Duration.seconds(SETTINGS.processorTimeout.max),
        mediaDownloadTimeout: Duration.seconds(SETTINGS.mediaDownloadTimeout.max),
      }),
    ).not.toThrow();
  });
});

describe('Duration props that are not whole units', () => {
  const durationRows = rows.filter(([name, row]) => row.prop && (row.unit === 'seconds' || row.unit === 'days') && name !== 'logRetention');

  it.each(durationRows)('%s is refused, naming the prop and the value', (name, row) => {
    const value = row.unit === 'days' ? Duration.hours(36) : Duration.millis(1500);
    expect(() => synthesize({ [name]: value })).toThrow(`${name} must be a whole number of ${row.unit}, got ${value.toHumanString()}`);
  });
});
