/**
 * Bench 2: cold start. Each deployed bundle is imported in a fresh Node process and serves a first
 * invocation; an empty ESM handler is measured the same way, alternating, in the same run.
 * Also each bundle's size, raw and gzipped, and what fills it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { BUNDLE_SETTINGS, buildHandlerBundles, bundleEntry, bundleModules, handlerEntry } from '../scripts/handler-bundles';
import { functionEnvironment } from '../contract/function-environment';
import type { HandlerFunction } from '../contract/settings';
import { VERIFIER_TIMEOUT_SECONDS } from '../contract/time-budget';
import { readStackSettings } from '../local/stack-settings';
import { median, spread, type BenchRow } from './stats';

const ROUNDS = 12;

function coldStart(bundle: string, kind: string, env: Record<string, string>): Promise<{ importMs: number; invokeMs: number; wallMs: number }> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    // Every kind gets the verifier's (fixed) timeout as its time left: the invocations here are instant.
    const child = spawn(process.execPath, [path.join(__dirname, 'cold-start-child.mjs'), bundle, kind, String(VERIFIER_TIMEOUT_SECONDS * 1000)], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('close', (code) => {
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
      if (code !== 0) return reject(new Error(`cold start of ${kind} exited ${code}`));
      const r = JSON.parse(out.trim().split('\n').pop()!) as { importMs: number; invokeMs: number };
      resolve({ ...r, wallMs });
    });
  });
}

async function composition(name: HandlerFunction): Promise<string> {
  // The deployed settings, plus the metafile that says which input filled how much of the output.
  const result = await build({
    ...BUNDLE_SETTINGS,
    entryPoints: { index: handlerEntry(name) },
    write: false,
    metafile: true,
    outdir: mkdtempSync(path.join(tmpdir(), 'meta-')),
  });
  // What a cold start loads: the entry and the chunks it imports statically, transitively.
  const outputs = result.metafile.outputs;
  const eager = new Set<string>();
  const visit = (file: string) => {
    if (eager.has(file)) return;
    eager.add(file);
    for (const i of outputs[file].imports) if (i.kind === 'import-statement' && !i.external) visit(i.path);
  };
  // The entry, index.mjs (esbuild marks the chunks of dynamic imports as entry points too).
  visit(Object.keys(outputs).find((o) => path.basename(o) === 'index.mjs')!);
  const byPackage = new Map<string, number>();
  for (const [input, { bytesInOutput }] of [...eager].flatMap((o) => Object.entries(outputs[o].inputs))) {
    const match = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
    const key = match ? match[1] : 'our code';
    byPackage.set(key, (byPackage.get(key) ?? 0) + bytesInOutput);
  }
  const total = [...byPackage.values()].reduce((a, b) => a + b, 0);
  return [...byPackage.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5)
    .map(([pkg, bytes]) => `${pkg} ${((100 * bytes) / total).toFixed(0)}%`)
    .join(', ');
}

export async function runColdStartBench(): Promise<BenchRow[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'facesign-cold-'));
  // The bundles the package ships and the stack deploys (dist/assets), built fresh from the sources.
  const bundles = await buildHandlerBundles();
  const floors = {
    verifier: await bundleEntry(path.join(__dirname, 'floors', 'verifier-sdk.ts'), path.join(dir, 'floor-verifier')),
    processor: await bundleEntry(path.join(__dirname, 'floors', 'processor-sdk.ts'), path.join(dir, 'floor-processor')),
  };
  const empty = path.join(dir, 'empty.mjs');
  writeFileSync(empty, 'export const handler = async () => ({ statusCode: 200 });\n');
  const base = {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'x',
    AWS_SECRET_ACCESS_KEY: 'x',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  // Each function's environment as the construct deploys it (Node.js flags and Powertools' variables
  // included), read from the construct like the local runtime does, then stand-ins for its resources.
  const stack = readStackSettings();
  // The functions on the delivery path; the reverifier is run by hand and its cold start matters to no one.
  const env: Record<Exclude<HandlerFunction, 'reverifier'>, Record<string, string>> = {
    verifier: {
      ...base,
      ...stack.verifier.environment,
      ...functionEnvironment(
        'verifier',
        {
          signingSecretArn: 'arn:aws:secretsmanager:us-east-1:0:secret:x',
          queueUrl: 'https://sqs.us-east-1.amazonaws.com/0/q',
          holdBucketName: 'b',
          holdCounterTableName: 't',
        },
        {},
      ),
    },
    processor: {
      ...base,
      ...stack.processor.environment,
      ...functionEnvironment(
        'processor',
        {
          bucketName: 'b',
          idempotencyTableName: 't',
          queueUrl: 'https://sqs.us-east-1.amazonaws.com/0/q',
          deadLetterQueueUrl: 'https://sqs.us-east-1.amazonaws.com/0/dlq',
        },
        {},
      ),
    },
  };
  const samples: Record<string, Array<{ importMs: number; invokeMs: number; wallMs: number }>> = {
    empty: [],
    verifier: [],
    processor: [],
    'floor-verifier': [],
    'floor-processor': [],
  };
  for (let i = 0; i < ROUNDS; i++) {
    samples.empty.push(await coldStart(empty, 'empty', base));
    samples.verifier.push(await coldStart(bundles.verifier, 'verifier', env.verifier));
    samples['floor-verifier'].push(await coldStart(floors.verifier, 'floor', env.verifier));
    samples.processor.push(await coldStart(bundles.processor, 'processor', env.processor));
    samples['floor-processor'].push(await coldStart(floors.processor, 'floor', env.processor));
  }
  const rows: BenchRow[] = [];
  const emptyWall = samples.empty.map((s) => s.wallMs);
  const emptyImport = samples.empty.map((s) => s.importMs);
  for (const name of ['verifier', 'processor'] as const) {
    const s = samples[name];
    const wall = s.map((x) => x.wallMs);
    const wallRatios = wall.map((v, i) => v / emptyWall[i]);
    const importPlusInvoke = s.map((x) => x.importMs + x.invokeMs);
    // What a cold start parses (the entry and the chunks it imports), and apart from it the chunks
    // loaded only by an import() when the code first needs them (the verifier's hold clients).
    const { eager, lazy } = bundleModules(bundles[name]);
    const code = Buffer.concat(eager.map((f) => readFileSync(f)));
    const later = Buffer.concat(lazy.map((f) => readFileSync(f)));
    rows.push(
      {
        bench: 'cold start',
        case: name,
        measure: 'process start → first answer, ms',
        value: spread(wall, 1),
        floor: spread(emptyWall, 1),
        ratio: spread(wallRatios),
        goal: '≤ 2x',
        met: median(wallRatios) <= 2,
      },
      {
        bench: 'cold start',
        case: name,
        measure: 'import + first invocation, ms',
        value: spread(importPlusInvoke, 1),
        floor: spread(emptyImport, 2),
        ratio: spread(
          importPlusInvoke.map((v, i) => v / emptyImport[i]),
          0,
        ),
      },
      {
        bench: 'cold start',
        case: name,
        measure: 'vs only its AWS SDK clients: process start → first answer, ms',
        value: spread(wall, 1),
        floor: spread(
          samples[`floor-${name}`].map((x) => x.wallMs),
          1,
        ),
        ratio: spread(wall.map((v, i) => v / samples[`floor-${name}`][i].wallMs)),
      },
      {
        bench: 'cold start',
        case: name,
        measure: 'import alone / first invocation, ms',
        value: `${median(s.map((x) => x.importMs)).toFixed(1)} / ${median(s.map((x) => x.invokeMs)).toFixed(1)}`,
      },
      {
        bench: 'cold start',
        case: name,
        measure: 'bundle size loaded at cold start (entry + its chunks) raw / gzip',
        value: `${(code.length / 1024).toFixed(0)} KiB / ${(gzipSync(code).length / 1024).toFixed(0)} KiB`,
      },
      {
        bench: 'cold start',
        case: name,
        measure: 'chunks loaded lazily (import() on first use) raw / gzip',
        value: `${(later.length / 1024).toFixed(0)} KiB / ${(gzipSync(later).length / 1024).toFixed(0)} KiB`,
      },
      { bench: 'cold start', case: name, measure: 'largest parts of what a cold start loads', value: await composition(name) },
    );
  }
  return rows;
}
