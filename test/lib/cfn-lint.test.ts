/**
 * cfn-lint (Python; CI's image has 1.51) on every template this repository deploys: the app's and
 * the integration test's (test/support/deployed-templates.ts). Any error fails, and so does any
 * warning that .cfnlintrc or a resource's `cfn-lint` Metadata does not acknowledge with a reason.
 * Where cfn-lint is not installed the tests are skipped, and say so; .ci/run counts a CI machine
 * without it as a failed step. Constraints cfn-lint does not check: cloudformation-constraints.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../lib/handler-code';
import { deployedTemplates } from '../support/deployed-templates';

/** The repository root: cfn-lint reads .cfnlintrc from its working directory. */
const ROOT = packageRoot();

const probe = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
const version = probe.status === 0 ? probe.stdout.trim() : undefined;

/** One finding of `cfn-lint --format json`. */
interface Finding {
  readonly Rule: { readonly Id: string };
  readonly Level: string;
  readonly Message: string;
  readonly Filename: string;
  readonly Location: { readonly Path: readonly (string | number)[] };
}

const dir = mkdtempSync(path.join(tmpdir(), 'facesign-cfn-lint-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs cfn-lint on the given templates; its exit code only says that it found something. */
function cfnLint(files: Record<string, unknown>): Finding[] {
  const paths = Object.entries(files).map(([name, template]) => {
    const file = path.join(dir, `${name}.json`);
    writeFileSync(file, JSON.stringify(template, null, 1));
    return file;
  });
  const run = spawnSync('cfn-lint', ['--format', 'json', '--', ...paths], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  if (run.error) throw run.error;
  if (run.stdout.trim() === '') throw new Error(`cfn-lint printed nothing (exit ${run.status}): ${run.stderr}`);
  return JSON.parse(run.stdout) as Finding[];
}

const readable = (f: Finding) => `${f.Rule.Id} ${path.basename(f.Filename)} ${f.Location.Path.join('/')}: ${f.Message}`;

describe('cfn-lint', () => {
  it.skipIf(version === undefined)(
    version ? `${version} finds no error and no unacknowledged warning in the app's and the integration test's templates` : 'cfn-lint not installed: skipped',
    () => {
      const templates = Object.fromEntries(deployedTemplates().map((t) => [t.stackName.replace(/[^A-Za-z0-9]/g, ''), t.template]));
      expect(Object.keys(templates)).toHaveLength(7);
      expect(cfnLint(templates).map(readable)).toEqual([]);
    },
    // cfn-lint reads four templates in about 40 s on a busy machine.
    240_000,
  );

  it.skipIf(version === undefined)(
    version ? `${version} reports a template CloudFormation would refuse, so the test above can fail` : 'cfn-lint not installed: skipped (its failing case)',
    () => {
      const broken = {
        Resources: {
          // An alarm name over 255 characters and a queue whose visibility timeout is out of range.
          Queue: { Type: 'AWS::SQS::Queue', Properties: { VisibilityTimeout: 50_000 } },
          Alarm: {
            Type: 'AWS::CloudWatch::Alarm',
            Properties: {
              AlarmName: 'x'.repeat(300),
              ComparisonOperator: 'GreaterThanThreshold',
              EvaluationPeriods: 1,
              Threshold: 1,
              MetricName: 'M',
              Namespace: 'N',
              Period: 60,
              Statistic: 'Sum',
            },
          },
        },
      };
      const errors = cfnLint({ broken }).filter((f) => f.Level === 'Error');
      expect(errors.map((f) => f.Location.Path.slice(0, 2).join('/')).sort()).toEqual(['Resources/Alarm', 'Resources/Queue']);
    },
    60_000,
  );
});
