/**
 * The settings table: the row type, the bounds helpers, and {@link SETTINGS}, every prop-backed
 * setting with its default, bounds and unit. The rows live by who reads them:
 * - contract/handler-settings.ts: what a handler reads from its environment (and the construct too);
 * - contract/construct-settings.ts: what only the construct reads, and the rules between settings;
 * - contract/function-environment.ts: the resources and how a function's environment is written;
 * - contract/time-budget.ts: the facts the bounds follow from, and the fixed timeouts.
 * A prop's meaning is its JSDoc in FaceSignWebhooksProps; docs/reference.md's props table is
 * generated from that JSDoc and these rows (`npm run docs`). CONTRIBUTING.md "Adding a setting".
 */
import { CONSTRUCT_SETTINGS } from './construct-settings';
import { HANDLER_SETTINGS } from './handler-settings';

/** The handler functions: the verifier and processor on the delivery path, and the reverifier of held deliveries. */
export type HandlerFunction = 'verifier' | 'processor' | 'reverifier';

/** Every handler function, in the order they are built and listed. */
export const HANDLER_FUNCTIONS: readonly HandlerFunction[] = ['verifier', 'processor', 'reverifier'];

/** What a setting's number counts; Duration props are converted to this unit. */
export type SettingUnit =
  'seconds' | 'milliseconds' | 'days' | 'bytes' | 'MiB' | 'count' | 'percent' | 'requests per second' | 'requests' | 'host list' | 'boolean' | 'name';

/** One row of a settings table. */
export interface SettingRow {
  /** True when FaceSignWebhooksProps has a prop of the row's name; false for a setting only the local runtime and tests set. */
  readonly prop: boolean;
  /** The environment variable a handler (or Node.js, or Powertools) reads it from; absent when only the construct uses it. */
  readonly env?: string;
  /** For a boolean: the variable holds this flag when true and is left out when false (a `NODE_OPTIONS` flag). */
  readonly flag?: string;
  /** The functions whose environment carries it (empty when no handler reads it). */
  readonly functions: readonly HandlerFunction[];
  readonly unit: SettingUnit;
  /** Absent when the setting is off unless given (the stage throttle). */
  readonly default?: number | boolean | string | readonly string[];
  /** Smallest accepted value, in `unit`. */
  readonly min?: number;
  /** Largest accepted value, in `unit`. */
  readonly max?: number;
}

/** Every prop-backed setting, keyed by its construct prop name: the handlers' rows, then the construct's. */
export const SETTINGS = { ...HANDLER_SETTINGS, ...CONSTRUCT_SETTINGS } as const;

/** A setting's name. */
export type SettingName = keyof typeof SETTINGS;

type ValueOf<R extends SettingRow> = R['unit'] extends 'host list'
  ? readonly string[]
  : R['unit'] extends 'boolean'
    ? boolean
    : R['unit'] extends 'name'
      ? string
      : number;

/** The value type of a setting: a number in its unit, a host list, a flag, or a name. */
export type SettingValue<N extends SettingName> = ValueOf<(typeof SETTINGS)[N]>;

/** Settings in their units, as the construct resolves them or the local runtime overrides them. */
export type SettingValues = { readonly [N in SettingName]?: SettingValue<N> };

const rowOf = (setting: SettingName | SettingRow): SettingRow => (typeof setting === 'string' ? SETTINGS[setting] : setting);

/** True when `value` is an integer within the row's bounds (a row, or a setting's name). */
export function withinBounds(setting: SettingName | SettingRow, value: number): boolean {
  const row = rowOf(setting);
  return Number.isInteger(value) && value >= (row.min ?? -Infinity) && value <= (row.max ?? Infinity);
}

/** The row's bounds in words, for the construct's and the handlers' errors alike: `an integer from 1 to 10`. */
export function describeBounds(setting: SettingName | SettingRow): string {
  const row = rowOf(setting);
  if (row.min !== undefined && row.max !== undefined) return `an integer from ${row.min} to ${row.max}`;
  if (row.min !== undefined) return `an integer of at least ${row.min}`;
  if (row.max !== undefined) return `an integer of at most ${row.max}`;
  return 'an integer';
}

const HOST_ENTRY = /^(\*\.)?[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$/;

/** True for `host`, `host:port` or `*.domain` in lower case: the forms an allowed media host may take. */
export function isValidHostEntry(entry: string): boolean {
  return HOST_ENTRY.test(entry);
}
