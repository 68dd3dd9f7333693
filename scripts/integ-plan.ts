/**
 * What `npm run integ` (scripts/integ.ts) reads from the synthesized assertion stack and from the
 * deployment's outputs, as pure functions that the offline tests check.
 */
import { ASSERTION_LABELS_METADATA } from '../test/integ/integ-app';

/** One assertion step: its label and the logical id of its custom resource. */
export interface Assertion {
  readonly label: string;
  readonly logicalId: string;
  /** The `AssertionResults…` output carrying its verdict; none for a step that only acts. */
  readonly resultOutput?: string;
}

/** What the synthesized assertion stack says will be asserted. */
export interface AssertionPlan {
  /** Every assertion call, in the order they run. */
  readonly steps: readonly Assertion[];
  /** Output keys that carry an assertion result, each with the label of its step. */
  readonly resultOutputs: ReadonlyMap<string, string>;
}

/** Reads the plan from the synthesized assertion template. */
export function readAssertionPlan(template: { Metadata?: Record<string, unknown>; Outputs?: Record<string, unknown> }): AssertionPlan {
  const steps = (template.Metadata?.[ASSERTION_LABELS_METADATA] ?? []) as Assertion[];
  if (steps.length === 0) throw new Error(`the assertion template has no ${ASSERTION_LABELS_METADATA} metadata: nothing would be asserted`);
  const resultOutputs = new Map<string, string>();
  for (const step of steps) if (step.resultOutput) resultOutputs.set(step.resultOutput, step.label);
  // A result the labels do not name is still checked, under its output key.
  for (const key of Object.keys(template.Outputs ?? {})) {
    if (key.startsWith('AssertionResults') && !resultOutputs.has(key)) resultOutputs.set(key, key);
  }
  for (const key of resultOutputs.keys()) {
    if (!(key in (template.Outputs ?? {}))) throw new Error(`the assertion step result ${key} is not an output of the assertion template`);
  }
  if (resultOutputs.size === 0) throw new Error('the assertion template declares no AssertionResults outputs: nothing would be checked');
  return { steps, resultOutputs };
}

/** One verdict per expected result output; a missing output is a failure. */
export function judgeResults(plan: AssertionPlan, outputs: Record<string, string> | undefined): { label: string; ok: boolean; message?: string }[] {
  return [...plan.resultOutputs].map(([key, label]) => {
    const raw = outputs?.[key];
    if (raw === undefined) return { label, ok: false, message: 'no result (the assertion stack did not finish deploying)' };
    try {
      const result = JSON.parse(raw) as { status?: string; message?: string };
      return result.status === 'success' ? { label, ok: true } : { label, ok: false, message: result.message ?? raw };
    } catch {
      return { label, ok: false, message: `unreadable result ${raw}` };
    }
  });
}

/** Turns one line of `cdk deploy --progress events` into a progress line of ours, when it concerns an assertion. */
export function describeProgress(line: string, steps: readonly Assertion[]): string | undefined {
  const index = steps.findIndex((s) => new RegExp(`(^|[\\s(|])${s.logicalId}($|[\\s)|])`).test(line));
  if (index < 0) return undefined;
  const label = `(${index + 1}/${steps.length}) ${steps[index].label}`;
  if (/CREATE_IN_PROGRESS|UPDATE_IN_PROGRESS/.test(line) && !/Resource creation Initiated/.test(line)) return `asserting ${label}`;
  if (/CREATE_COMPLETE|UPDATE_COMPLETE/.test(line)) return `  passed ${label}`;
  if (/CREATE_FAILED|UPDATE_FAILED/.test(line)) return `  FAILED ${label}\n    ${line.trim()}`;
  return undefined;
}
