import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HANDLER_FUNCTIONS } from '../../contract/settings';

// What a user does: npm install the tarball into a CDK app of their own and synthesize. Prefer-offline:
// tarballs come from the npm cache that `npm ci` filled, and the registry metadata that a clean cache
// lacks (plain --offline fails there with ENOTCACHED/ERESOLVE) from the registry. Nothing but aws-cdk-lib, constructs
// (and @types/node for the type check) next to it: no esbuild, no Docker, no sources of ours.
const ROOT = path.resolve(__dirname, '..', '..');
const work = mkdtempSync(path.join(tmpdir(), 'facesign-pack-'));
const app = path.join(work, 'app');
let tarball: string;
let packedFiles: string[];
let outdir: string;

/** The parts of a synthesized resource these tests read. */
interface TemplateResource {
  readonly Type: string;
  readonly Properties: {
    readonly Environment?: { readonly Variables?: Record<string, string> };
    readonly EventPattern?: unknown;
    readonly Targets?: Array<{ readonly Arn: { readonly 'Fn::GetAtt': [string, string] } }>;
  };
}

const installedVersion = (name: string) => JSON.parse(readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version as string;
const run = (cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) =>
  execFileSync(cmd, args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

beforeAll(() => {
  run('npm', ['run', '--silent', 'build:package'], ROOT);
  const packed = JSON.parse(run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], ROOT)) as Array<{
    filename: string;
    files: Array<{ path: string }>;
  }>;
  tarball = path.join(work, packed[0].filename);
  packedFiles = packed[0].files.map((f) => f.path);

  cpSync(path.join(ROOT, 'examples', 'cdk-app'), app, { recursive: true });
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'user-app', private: true }));
  run(
    'npm',
    [
      'install',
      '--prefer-offline',
      '--ignore-scripts',
      '--no-audit',
      '--no-fund',
      '--no-package-lock',
      tarball,
      `aws-cdk-lib@${installedVersion('aws-cdk-lib')}`,
      `constructs@${installedVersion('constructs')}`,
      `@types/node@${installedVersion('@types/node')}`,
    ],
    app,
  );

  outdir = path.join(work, 'cdk.out');
  run(path.join(ROOT, 'node_modules', '.bin', 'tsx'), ['bin/app.ts'], app, {
    CDK_OUTDIR: outdir,
    CDK_CONTEXT_JSON: JSON.stringify({ 'cli-telemetry': false }),
  });
}, 300_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the installed package', () => {
  it('ships compiled JS, type declarations and the handler bundles, and no sources or tests', () => {
    for (const file of [
      'dist/lib/index.js',
      'dist/lib/index.d.ts',
      'dist/contract/signature.js',
      'dist/contract/signature.d.ts',
      'dist/contract/settings.js',
      'dist/contract/settings.d.ts',
      'dist/assets/verifier/index.mjs',
      'dist/assets/processor/index.mjs',
      'dist/assets/reverifier/index.mjs',
      'CHANGELOG.md',
      'README.md',
      'LICENSE',
      // What the README and the alarm descriptions point to (docs/operations.md, Runbook).
      'CONTRIBUTING.md',
      'docs/operations.md',
      'docs/reference.md',
      'docs/data-protection.md',
    ]) {
      expect(packedFiles, file).toContain(file);
    }
    // The chunks beside each entry (code split: the entry imports them by relative path).
    for (const name of HANDLER_FUNCTIONS)
      expect(packedFiles.filter((f) => f.startsWith(`dist/assets/${name}/chunks/`) && f.endsWith('.mjs')).length, name).toBeGreaterThan(0);
    // Neither the benchmarks nor their results (measured on this repository's machine).
    expect(packedFiles.filter((f) => f.startsWith('bench/'))).toEqual([]);
    expect(packedFiles.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    expect(packedFiles.filter((f) => /^(test|local|lambda\/|lib\/|examples)/.test(f))).toEqual([]);
    // The construct needs the contract only: the handlers' own code ships inside the bundles.
    expect(packedFiles.filter((f) => f.startsWith('dist/lambda/'))).toEqual([]);
    const manifest = JSON.parse(readFileSync(path.join(app, 'node_modules', 'facesign-webhooks', 'package.json'), 'utf8'));
    expect(manifest.dependencies ?? {}).toEqual({});
    expect(Object.keys(manifest.peerDependencies).sort()).toEqual(['aws-cdk-lib', 'constructs']);
  });

  it('ships every document a shipped document links to, so no link breaks in node_modules', () => {
    const installed = path.join(app, 'node_modules', 'facesign-webhooks');
    const broken: string[] = [];
    for (const doc of packedFiles.filter((f) => f.endsWith('.md'))) {
      // Links outside code: `](target)`, not web addresses nor anchors in the same document.
      const text = readFileSync(path.join(installed, doc), 'utf8')
        .replace(/^```[\s\S]*?^```/gm, '')
        .replace(/`[^`\n]*`/g, '');
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/i.test(target) || target.startsWith('#')) continue;
        const file = path.posix.normalize(path.posix.join(path.posix.dirname(doc), target.split('#')[0]));
        // bench/ stays in the repository (its results describe the machine they were measured on).
        if (file.startsWith('bench/')) continue;
        if (!existsSync(path.join(installed, file))) broken.push(`${doc} -> ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('installs without esbuild or any runtime dependency of ours', () => {
    expect(existsSync(path.join(app, 'node_modules', 'esbuild'))).toBe(false);
    expect(existsSync(path.join(app, 'node_modules', '@aws-lambda-powertools'))).toBe(false);
    expect(existsSync(path.join(app, 'node_modules', '@aws-sdk', 'client-sqs'))).toBe(false);
  });

  it('type-checks the example app, with its own tsconfig, against the shipped declarations', () => {
    // The example's own tsconfig and devDependencies, as a user who copies it gets them.
    const example = JSON.parse(readFileSync(path.join(ROOT, 'examples', 'cdk-app', 'package.json'), 'utf8'));
    expect(Object.keys(example.devDependencies)).toContain('@types/node');
    expect(() => run(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], app)).not.toThrow();
  });

  it('synthesizes with the shipped handler bundles as the Lambda assets', () => {
    const template = JSON.parse(readFileSync(path.join(outdir, 'KycService.template.json'), 'utf8'));
    const functions = Object.values(template.Resources as Record<string, TemplateResource>).filter((r) => r.Type === 'AWS::Lambda::Function');
    const ours = functions.filter((f) => /^facesign-/.test(f.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME ?? ''));
    expect(ours).toHaveLength(HANDLER_FUNCTIONS.length);
    for (const f of ours) expect(f.Properties).toMatchObject({ Handler: 'index.handler', Runtime: 'nodejs24.x' });

    const assetDirs = readdirSync(outdir).filter((d) => d.startsWith('asset.') && existsSync(path.join(outdir, d, 'index.mjs')));
    const bundles = assetDirs.map((d) => readFileSync(path.join(outdir, d, 'index.mjs')));
    for (const name of HANDLER_FUNCTIONS) {
      const shipped = readFileSync(path.join(app, 'node_modules', 'facesign-webhooks', 'dist', 'assets', name, 'index.mjs'));
      expect(
        bundles.some((b) => b.equals(shipped)),
        `${name} bundle among the assets`,
      ).toBe(true);
    }
  });

  it("routes session.status events to the app's own Lambda through onEvent", () => {
    const template = JSON.parse(readFileSync(path.join(outdir, 'KycService.template.json'), 'utf8'));
    const resources = template.Resources as Record<string, TemplateResource>;
    // The onEvent rules (the signing-secret watch's rule matches aws.secretsmanager).
    const rules = Object.values(resources).filter(
      (r) => r.Type === 'AWS::Events::Rule' && (r.Properties.EventPattern as { source?: string[] } | undefined)?.source?.[0] === 'facesign.webhooks',
    );
    expect(rules).toHaveLength(1);
    expect(rules[0].Properties.EventPattern).toEqual({ source: ['facesign.webhooks'], 'detail-type': ['session.status'] });
    const targetId = rules[0].Properties.Targets?.[0].Arn['Fn::GetAtt'][0] ?? '(no target)';
    expect(targetId).toMatch(/^OnSessionStatus/);
    expect(resources[targetId].Type).toBe('AWS::Lambda::Function');
  });

  it('exposes the verify function and event types on their own subpaths', () => {
    const script = `
      const { verifyFaceSignSignature, signFaceSignPayload } = require('facesign-webhooks/signature');
      const { parseFaceSignEvent } = require('facesign-webhooks/events');
      const body = JSON.stringify({ id: 'e', type: 'session.status', createdAt: 1, sessionId: 's' });
      const signed = signFaceSignPayload(body, 'whsec_x');
      const ok = verifyFaceSignSignature(body, signed.headers, ['whsec_x']);
      const bad = verifyFaceSignSignature(body, signed.headers, ['whsec_y']);
      process.stdout.write(JSON.stringify([ok.ok, bad.reason, parseFaceSignEvent(body).ok]));`;
    expect(JSON.parse(run(process.execPath, ['-e', script], app))).toEqual([true, 'signature_mismatch', true]);
  });
});
