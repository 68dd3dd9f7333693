import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// .ci/run's closing line is what CI reads: it must never say `0 failed` for a run that did not pass.
// The reports below have the shape vitest's JSON reporter writes (fields this script reads).
const SCRIPT = path.resolve(__dirname, '..', '..', '.ci', 'summary.cjs');
const dir = mkdtempSync(path.join(tmpdir(), 'ci-summary-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type FileResult = { name: string; status: 'passed' | 'failed'; message: string; assertionResults: Array<{ status: string }> };
const passedFile = (name: string, tests: number): FileResult => ({
  name,
  status: 'passed',
  message: '',
  assertionResults: Array.from({ length: tests }, () => ({ status: 'passed' })),
});

function summarize(testResults: FileResult[], args: string[] = []) {
  const tests = testResults.flatMap((f) => f.assertionResults);
  const report = {
    numPassedTests: tests.filter((t) => t.status === 'passed').length,
    numFailedTests: tests.filter((t) => t.status === 'failed').length,
    numTotalTests: tests.length,
    success: testResults.every((f) => f.status === 'passed'),
    testResults,
  };
  const file = path.join(dir, `report-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(report));
  const result = spawnSync(process.execPath, [SCRIPT, file, ...args], { encoding: 'utf8' });
  return { line: result.stdout.trim(), status: result.status, stderr: result.stderr };
}

describe('.ci/summary.cjs', () => {
  it('reports a clean run as passed, with exit code 0', () => {
    expect(summarize([passedFile('/a.test.ts', 3), passedFile('/b.test.ts', 2)])).toMatchObject({ line: '5 passed, 0 failed', status: 0 });
  });

  it('counts a file that failed to load as a failure and names it', () => {
    const result = summarize([
      passedFile('/a.test.ts', 3),
      { name: '/broken.test.ts', status: 'failed', message: "Cannot find module './x'", assertionResults: [] },
    ]);
    expect(result).toMatchObject({ line: '3 passed, 1 failed', status: 1 });
    expect(result.stderr).toContain("broken.test.ts: Cannot find module './x'");
  });

  it('counts a file whose hook failed (its tests skipped) as a failure', () => {
    const result = summarize([
      passedFile('/a.test.ts', 1),
      { name: '/hook.test.ts', status: 'failed', message: 'hook boom', assertionResults: [{ status: 'skipped' }, { status: 'skipped' }] },
    ]);
    expect(result).toMatchObject({ line: '1 passed, 1 failed', status: 1 });
  });

  it('counts failed tests once, not once more for their file', () => {
    const result = summarize([
      { name: '/f.test.ts', status: 'failed', message: '', assertionResults: [{ status: 'failed' }, { status: 'failed' }, { status: 'passed' }] },
    ]);
    expect(result).toMatchObject({ line: '1 passed, 2 failed', status: 1 });
  });

  it('adds failed steps outside vitest and a failing vitest exit code', () => {
    expect(summarize([passedFile('/a.test.ts', 2)], ['2', '0'])).toMatchObject({ line: '2 passed, 2 failed', status: 1 });
    expect(summarize([passedFile('/a.test.ts', 2)], ['0', '1'])).toMatchObject({ line: '2 passed, 1 failed', status: 1 });
  });

  it('fails a run in which no test ran', () => {
    expect(summarize([])).toMatchObject({ line: '0 passed, 0 failed', status: 1 });
  });
});
