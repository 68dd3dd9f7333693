/**
 * `npm run bench` runs every benchmark and writes bench/RESULTS.md; `npm run bench -- <name>`
 * runs one (verifier, cold-start, media, load, cost, burst) and only prints. Not part of `npm test`.
 */
import { execSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { provideRowsOfThisRun, runBurstBench } from './burst';
import { runColdStartBench } from './cold-start';
import { runCostBench } from './cost';
import { runLoadBench } from './load';
import { runMediaBench } from './media';
import type { BenchRow } from './stats';
import { runVerifierBench } from './verifier';

const BENCHES: Record<string, () => Promise<BenchRow[]>> = {
  verifier: runVerifierBench,
  'cold-start': runColdStartBench,
  media: runMediaBench,
  load: runLoadBench,
  cost: runCostBench,
  burst: runBurstBench,
};

function table(rows: BenchRow[]): string {
  const head = ['bench', 'case', 'measure', 'ours: median (min–max)', 'floor', 'ratio', 'goal', 'met'];
  const lines = rows.map((r) => [
    r.bench,
    r.case,
    r.measure,
    r.value,
    r.floor ?? '',
    r.ratio ?? '',
    r.goal ?? '',
    r.met === undefined ? '' : r.met ? 'yes' : 'NO',
  ]);
  return [head, head.map(() => '---'), ...lines].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((w) => !BENCHES[w]);
  if (unknown.length) {
    console.error(`unknown bench ${unknown.join(', ')}; choose from ${Object.keys(BENCHES).join(', ')}`);
    process.exit(2);
  }
  const names = wanted.length ? wanted : Object.keys(BENCHES);
  const sections: string[] = [];
  const thisRun: BenchRow[] = [];
  provideRowsOfThisRun(thisRun);
  for (const name of names) {
    console.error(`running ${name} ...`);
    const started = Date.now();
    const rows = await BENCHES[name]();
    thisRun.push(...rows);
    const text = table(rows);
    console.log(`\n## ${name}\n\n${text}\n`);
    sections.push(`## ${name}\n\n${text}\n\n_${((Date.now() - started) / 1000).toFixed(0)} s_\n`);
  }
  if (wanted.length === 0) {
    const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
    const header = [
      '# Benchmark results',
      '',
      `Measured ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} × ${cpu}, ${(os.totalmem() / 1024 ** 3).toFixed(0)} GiB, ${os.type()} ${os.release()}, Node ${process.version}, commit ${gitCommit()}.`,
      'Command: `npm run bench`. Each figure is the median over repeated rounds, with the range of the per-round medians in brackets; every ratio is taken against a floor measured in the same run (the same process, call by call, where possible), because this machine is shared and noisy.',
      '',
    ].join('\n');
    // The reading of the numbers is written by hand in analysis.md and kept with every new run.
    const analysis = readFileSync(path.join(__dirname, 'analysis.md'), 'utf8');
    writeFileSync(path.join(__dirname, 'RESULTS.md'), `${header}\n${sections.join('\n')}\n${analysis}`);
    console.error('wrote bench/RESULTS.md');
  }
}

function gitCommit(): string {
  try {
    return execSync('git describe --always --dirty', { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
