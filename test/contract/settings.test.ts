import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { SERVICE } from '../../contract/metric-names';
import {
  ASSUMED_DELIVERY_DELAY_SECONDS,
  MEDIA_URL_LIFETIME_SECONDS,
  PROCESSOR_TIMEOUT_RESERVE_SECONDS,
  queueVisibilityTimeoutSeconds,
} from '../../contract/time-budget';
import { DEFAULTS_FROM } from '../../contract/construct-settings';
import { LOCAL_SETTINGS } from '../../contract/handler-settings';
import { describeBounds, isValidHostEntry, SETTINGS, withinBounds, type HandlerFunction, type SettingName, type SettingRow } from '../../contract/settings';
import { ENV, functionEnvironment, POWERTOOLS_ENV, RESOURCES, type ResourceRow } from '../../contract/function-environment';
import { loadProcessorConfig, loadReverifierConfig, loadVerifierConfig } from '../../lambda/shared/config';
import { FaceSignWebhooks, type FaceSignWebhooksProps } from '../../lib';

const rows = Object.entries(SETTINGS) as [SettingName, SettingRow][];
/** The table's rows and the local-only ones, which the construct never sets. */
const envRows = [...rows, ...Object.entries(LOCAL_SETTINGS)] as [string, SettingRow][];
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

describe('the settings table', () => {
  it.each(envRows)('%s: its default lies within its bounds', (name, row) => {
    if (row.default === undefined) {
      expect(row.prop, `${name} has no default, so it must be an opt-in prop`).toBe(true);
    } else if (typeof row.default === 'number') {
      expect(withinBounds(row, row.default), `${name} default ${row.default} (${describeBounds(row)})`).toBe(true);
    } else if (Array.isArray(row.default)) {
      expect(row.default.length).toBeGreaterThan(0);
      for (const host of row.default) expect(isValidHostEntry(host), host).toBe(true);
    }
    if (row.min !== undefined && row.max !== undefined) expect(row.min).toBeLessThanOrEqual(row.max);
  });

  it('gives every environment variable one meaning', () => {
    const names = [...envRows.map(([, row]) => row.env), ...Object.values(RESOURCES).map((r) => r.env)].filter((e) => e !== undefined);
    expect(new Set(names).size).toBe(names.length);
    // Ours are FACESIGN_; the others are read by Node.js (NODE_OPTIONS) or Powertools, by their names.
    for (const name of names) expect(name).toMatch(/^(FACESIGN_[A-Z_]+|POWERTOOLS_[A-Z_]+|NODE_OPTIONS)$/);
    for (const name of Object.values(POWERTOOLS_ENV)) expect(names).not.toContain(name);
  });

  it('names a function for every variable, and a variable for every function it names', () => {
    for (const [name, row] of envRows) expect(row.functions.length > 0, name).toBe(row.env !== undefined);
  });

  it('defaults a setting from another only where their defaults agree (the handler sees no other)', () => {
    for (const [name, from] of Object.entries(DEFAULTS_FROM) as [SettingName, SettingName][]) {
      expect((SETTINGS[name] as SettingRow).default, name).toEqual((SETTINGS[from] as SettingRow).default);
    }
  });
});

describe('the synthesized template', () => {
  const env = environments(synthesize());

  it.each(envRows.filter(([, row]) => row.env !== undefined))('%s reaches exactly the functions its row names', (_name, row) => {
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

  it('writes the local-only settings only when the local runtime or a test gives them', () => {
    const resources = { bucketName: 'b', idempotencyTableName: 't', queueUrl: 'q', deadLetterQueueUrl: 'd' };
    const given = functionEnvironment('processor', resources, { retryBaseDelaySeconds: 1, mediaAllowHttpLoopback: true });
    expect(given).toMatchObject({ [LOCAL_SETTINGS.retryBaseDelaySeconds.env]: '1', [LOCAL_SETTINGS.mediaAllowHttpLoopback.env]: 'true' });
    const plain = functionEnvironment('processor', resources, {});
    for (const row of Object.values(LOCAL_SETTINGS)) expect(plain[row.env], row.env).toBeUndefined();
    expect(Object.keys(SETTINGS)).not.toContain('retryBaseDelaySeconds');
  });

  it('writes a flag row when it is on', () => {
    const on = environments(synthesize({ sourceMapStackTraces: true }));
    for (const fn of FUNCTIONS) expect(on[fn][SETTINGS.sourceMapStackTraces.env], fn).toBe(SETTINGS.sourceMapStackTraces.flag);
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
