/**
 * `npm run integ`'s orchestration, with a stand-in for the cdk CLI (fake-cdk.mjs) and local S3:
 * which results make it pass, and that it always destroys what it deployed.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CreateBucketCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSqsS3, type LocalSqsS3 } from '../../local/services/sqs-s3';

const ROOT = path.join(__dirname, '..', '..');
let s3Service: LocalSqsS3;
let s3: S3Client;
const runIds: string[] = [];

beforeAll(async () => {
  s3Service = await startSqsS3();
  s3 = new S3Client({ region: 'eu-west-1', endpoint: s3Service.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'l', secretAccessKey: 'l' } });
  await s3.send(new CreateBucketCommand({ Bucket: 'logs' }));
});
afterAll(async () => {
  await s3Service?.stop();
  for (const id of runIds) rmSync(path.join(ROOT, 'cdk.out.integ', id), { recursive: true, force: true });
});

async function runIntegScript(env: Record<string, string>): Promise<{ code: number; output: string; calls: string[] }> {
  const calls = path.join(mkdtempSync(path.join(tmpdir(), 'integ-runner-')), 'calls');
  const runId = `t${Math.random().toString(36).slice(2, 9)}`;
  runIds.push(runId);
  const child = spawn(process.execPath, [path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), path.join(ROOT, 'scripts', 'integ.ts')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      INTEG_CDK_COMMAND: `${process.execPath} ${path.join(__dirname, 'fake-cdk.mjs')}`,
      INTEG_RUN_ID: runId,
      FAKE_CALLS: calls,
      AWS_ENDPOINT_URL_S3: s3Service.endpoint,
      AWS_ACCESS_KEY_ID: 'l',
      AWS_SECRET_ACCESS_KEY: 'l',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
  return { code, output, calls: existsSync(calls) ? readFileSync(calls, 'utf8').trim().split('\n') : [] };
}

describe('npm run integ', () => {
  it('passes when the deployment is clean and every result is a success, printing each step, then destroys', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'logs', Key: 'archive/2026-11-26-log', Body: 'late access log' }));
    const run = await runIntegScript({});
    expect(run.output).toContain('[integ] asserting (1/2) posting');
    expect(run.output).toContain('[integ]   passed (2/2) answers are right');
    expect(run.output).toContain('[integ]   success answers are right');
    expect(run.output).toContain('[integ] PASSED: 1/1 results succeeded, deployment clean');
    expect(run.calls).toEqual(['synth', 'deploy', 'destroy']);
    expect(run.code).toBe(0);
    // The retained server access log bucket was emptied before the destroy.
    expect((await s3.send(new ListObjectsV2Command({ Bucket: 'logs' }))).KeyCount ?? 0).toBe(0);
  });

  it('fails on a failed assertion result, and still destroys', async () => {
    const run = await runIntegScript({ FAKE_RESULT: '{"status":"fail","message":"Expected 200 but received 401"}' });
    expect(run.output).toContain('FAIL    answers are right\n      Expected 200 but received 401');
    expect(run.output).toContain('[integ] FAILED: 0/1 results succeeded');
    expect(run.calls).toEqual(['synth', 'deploy', 'destroy']);
    expect(run.code).toBe(1);
  });

  it('fails when the deployment fails (a waiting assertion timed out), and still destroys', async () => {
    const run = await runIntegScript({ FAKE_DEPLOY_EXIT: '1' });
    expect(run.output).toContain('[integ]   FAILED (2/2) answers are right');
    expect(run.output).toContain('no result (the assertion stack did not finish deploying)');
    expect(run.calls).toEqual(['synth', 'deploy', 'destroy']);
    expect(run.code).toBe(1);
  });

  it('fails when the destroy fails, after one retry, and says what to delete', async () => {
    const run = await runIntegScript({ FAKE_DESTROY_EXIT: '1' });
    expect(run.calls).toEqual(['synth', 'deploy', 'destroy', 'destroy']);
    expect(run.output).toContain('DESTROY FAILED');
    expect(run.code).toBe(1);
  });
});
