import { describe, expect, it } from 'vitest';
import type { SettingRow } from '../../contract/settings';
import { BEGIN, cell, describeDefault, describeRowBounds, disagreements, END, renderPropsTable, withTable, type PropDoc } from '../../scripts/docs';

const seconds: SettingRow = { prop: true, functions: [], unit: 'seconds', default: 120, min: 30, max: 420 };
const prop = (name: string, defaultTag: string | undefined, doc = 'What it does.'): PropDoc => ({ name, type: 'Duration', doc, defaultTag, deprecated: false });

describe('the props reference generator', () => {
  it('states a row default and bounds in words', () => {
    expect(describeDefault('processorTimeout', seconds)).toBe('2 minutes');
    expect(describeRowBounds(seconds)).toBe('30 seconds to 7 minutes');
    expect(describeDefault('maxBodyBytes', { prop: true, functions: [], unit: 'bytes', default: 262144 })).toBe('262144 (256 KiB)');
    expect(describeRowBounds({ prop: true, functions: [], unit: 'days', min: 1 })).toBe('at least 1 day');
    expect(describeDefault('signatureTolerance', seconds)).toBe('`idempotencyWindow`');
  });

  it('refuses a @default that disagrees with the row, a missing @default, and a row without a prop', () => {
    expect(disagreements([prop('processorTimeout', 'Duration.minutes(2)')], { processorTimeout: seconds })).toEqual([]);
    expect(disagreements([prop('processorTimeout', 'Duration.minutes(3)')], { processorTimeout: seconds })).toEqual([
      "processorTimeout: @default Duration.minutes(3) disagrees with its row's default 120 (seconds)",
    ]);
    expect(disagreements([prop('processorTimeout', undefined)], { processorTimeout: seconds })[0]).toMatch(/^processorTimeout: no @default/);
    expect(disagreements([], { processorTimeout: seconds })[0]).toMatch(
      /^processorTimeout: a settings row with prop: true, but FaceSignWebhooksProps has no such prop/,
    );
    expect(disagreements([prop('other', '- none', '')], {})).toEqual(['other: no JSDoc']);
  });

  it('takes a row-backed default from the row and any other from the @default tag', () => {
    const table = renderPropsTable([prop('processorTimeout', 'Duration.minutes(2)'), prop('alarmEmail', '- no subscription')], { processorTimeout: seconds });
    expect(table.split('\n').slice(2)).toEqual([
      '| `processorTimeout` | `Duration` | 2 minutes | 30 seconds to 7 minutes | What it does. |',
      '| `alarmEmail` | `Duration` | no subscription |  | What it does. |',
    ]);
  });

  it('turns doc references into links and keeps a cell on one line', () => {
    expect(cell('see docs/operations.md "Timeout\n   budget" and docs/reference.md "Capacity" | x')).toBe(
      'see [Timeout budget](operations.md#timeout-budget) and [Capacity](#capacity) \\| x',
    );
  });

  it('replaces only what lies between the markers, and refuses a file without them', () => {
    const document = `# Title\n${BEGIN}\nold\n${END}\nafter`;
    expect(withTable(document, 'new')).toBe(`# Title\n${BEGIN}\nnew\n${END}\nafter`);
    expect(() => withTable('# no markers', 'new')).toThrow('docs/reference.md lacks the markers');
  });
});
