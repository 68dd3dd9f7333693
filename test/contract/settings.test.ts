import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { SERVICE } from '../../contract/metric-names';
import {
  DEFAULTS_FROM,
  describeBounds,
  ENV,
  functionEnvironment,
  isValidHostEntry,
  RESOURCES,
  SETTINGS,
  withinBounds,
  type HandlerFunction,
  type ResourceRow,
  type SettingName,
  type SettingRow,
} from '../../contract/settings';
import { loadProcessorConfig, loadVerifierConfig } from '../../lambda/shared/config';
import { FaceSignWebhooks, type FaceSignWebhooksProps } from '../../lib';

const rows = Object.entries(SETTINGS) as [SettingName, SettingRow][];
const FUNCTIONS: readonly HandlerFunction[] = ['verifier', 'processor'];

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
  return { verifier: of('verifier'), processor: of('processor') };
}

/** `@default` of every prop in the props file, as written. */
function propDefaults(): Map<string, string> {
  const source = readFileSync(path.join(__dirname, '..', '..', 'lib', 'facesign-webhooks-props.ts'), 'utf8');
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
  return undefined;
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
    for (const name of names) expect(name).toMatch(/^FACESIGN_[A-Z_]+$/);
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
      const expected = row.prop && row.functions.includes(fn);
      expect(env[fn][row.env!] !== undefined, `${row.env} in the ${fn}`).toBe(expected);
      if (expected) {
        const value = Array.isArray(row.default) ? row.default.join(',') : String(row.default);
        expect(env[fn][row.env!], row.env).toBe(value);
      }
    }
  });

  it.each(Object.entries(RESOURCES) as [string, ResourceRow][])('resource %s reaches exactly the functions its row names', (_name, row) => {
    for (const fn of FUNCTIONS) expect(env[fn][row.env] !== undefined, `${row.env} in the ${fn}`).toBe(row.functions.includes(fn));
  });

  it('sets no FACESIGN_ variable the table does not define', () => {
    const known = new Set(Object.values(ENV) as string[]);
    for (const fn of FUNCTIONS) for (const name of Object.keys(env[fn]).filter((n) => n.startsWith('FACESIGN_'))) expect(known, name).toContain(name);
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
  const loaders = { verifier: loadVerifierConfig, processor: loadProcessorConfig };
  const resources: Record<HandlerFunction, Record<string, string>> = {
    verifier: functionEnvironment('verifier', { signingSecretArn: 'arn:secret', queueUrl: 'https://sqs/q' }, {}),
    processor: functionEnvironment(
      'processor',
      { bucketName: 'b', idempotencyTableName: 't', queueUrl: 'https://sqs/q', deadLetterQueueUrl: 'https://sqs/dlq' },
      {},
    ),
  };

  it.each(numeric)('refuse the same out-of-bounds %s, each naming it', (name, row) => {
    for (const value of [row.max! + 1, row.min! - 1]) {
      const prop = row.unit === 'seconds' ? Duration.seconds(value) : value;
      // A setting that defaults from this one is given at its smallest, so that its own bounds stay quiet.
      const dependents = Object.entries(DEFAULTS_FROM)
        .filter(([, from]) => from === name)
        .map(([dependent]) => [dependent, Duration.seconds((SETTINGS[dependent as SettingName] as SettingRow).min!)]);
      expect(() => synthesize({ [name]: prop, ...Object.fromEntries(dependents) })).toThrow(
        `${name}${row.unit === 'seconds' ? ' (seconds)' : ''} must be ${describeBounds(name)}, got ${value}`,
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
