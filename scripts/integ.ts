/**
 * `npm run integ`: deploys the integration test (test/integ) into the account and region of your
 * AWS credentials, runs its assertions, fails unless every one succeeded, and destroys both
 * stacks, also after a failure or Ctrl-C.
 *
 * Driven with the `cdk` CLI this repository pins, not `@aws-cdk/integ-runner`: the runner's latest
 * release (2.197.10) embeds cloud assembly schema 53, while aws-cdk-lib 2.276 writes schema 55,
 * which the runner refuses ("Maximum schema version supported is 53.x.x").
 *
 * How a result is known: an assertion that waits (`waitForAssertions`) fails the deployment when
 * it times out; every assertion with an expectation also writes an `AssertionResults…` stack
 * output, `{"status":"success"}` or `{"status":"fail","message":…}`, read from `--outputs-file`.
 * Success needs a clean deployment and a success for every `AssertionResults…` output the
 * synthesized template declares.
 *
 * Environment: INTEG_RUN_ID (default: random) names the run; INTEG_KEEP=1 skips the destroy (for
 * debugging; you then run `npm run integ:destroy` with the same INTEG_RUN_ID).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { DeleteObjectsCommand, ListObjectsV2Command, ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import { ASSERTION_STACK_NAME, INTEG_STACK_NAME } from '../test/integ/integ-app';
import { buildDriverBundle } from '../test/integ/driver-bundle';
import { describeProgress, judgeResults, readAssertionPlan, type AssertionPlan } from './integ-plan';

const ROOT = path.join(__dirname, '..');
const APP = 'npx tsx test/integ/integ.facesign-webhooks.ts';
/** The cdk CLI; INTEG_CDK_COMMAND replaces it in this script's own tests (test/integ/runner.test.ts). */
const CDK = (process.env.INTEG_CDK_COMMAND ?? 'npx cdk').split(' ');

function log(message: string): void {
  process.stdout.write(`[integ] ${message}\n`);
}

let interrupted = false;

/** Runs the cdk CLI; every output line goes to the console and, if given, to onLine. */
function cdk(args: string[], onLine?: (line: string) => void): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(CDK[0], [...CDK.slice(1), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    for (const stream of [child.stdout, child.stderr]) {
      let buffered = '';
      stream.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          process.stdout.write(`${line}\n`);
          onLine?.(line);
        }
      });
      stream.on('end', () => {
        if (buffered) {
          process.stdout.write(`${buffered}\n`);
          onLine?.(buffered);
        }
      });
    }
    child.on('close', (code) => {
      resolve(code ?? 1);
    });
  });
}

/** Deletes every object version in a bucket the construct retains (server access logs), so the stack can delete it. */
async function emptyBucket(bucket: string, region: string): Promise<void> {
  // Path-style only against a local S3 stand-in (this script's tests); never set against AWS.
  const s3 = new S3Client({ region, forcePathStyle: process.env.AWS_ENDPOINT_URL_S3 !== undefined });
  try {
    for (;;) {
      // Versions cover a versioned bucket; a plain listing covers S3 implementations that list no versions for an unversioned one.
      const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, MaxKeys: 1000 }));
      let objects: { Key: string; VersionId?: string }[] = [...(versions.Versions ?? []), ...(versions.DeleteMarkers ?? [])].map((v) => ({
        Key: v.Key!,
        VersionId: v.VersionId,
      }));
      if (objects.length === 0) {
        const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 1000 }));
        objects = (listed.Contents ?? []).map((o) => ({ Key: o.Key! }));
      }
      if (objects.length === 0) return;
      const deleted = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects, Quiet: true } }));
      const [refused] = deleted.Errors ?? [];
      if (refused) throw new Error(`${refused.Code ?? 'error'} deleting ${refused.Key}: ${refused.Message ?? ''}`);
    }
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchBucket') return;
    throw error;
  } finally {
    s3.destroy();
  }
}

async function main(): Promise<number> {
  const runId = process.env.INTEG_RUN_ID ?? randomBytes(4).toString('hex');
  const destroyOnly = process.argv.includes('--destroy');
  const outdir = path.join('cdk.out.integ', runId);
  const outputsFile = path.join(ROOT, outdir, 'outputs.json');
  const common = ['--app', APP, '--output', outdir, '--context', `integ:runId=${runId}`];
  log(`run ${runId}: stacks ${INTEG_STACK_NAME} and ${ASSERTION_STACK_NAME}, in the account and region of your AWS credentials`);

  let plan: AssertionPlan | undefined;
  let deployed = 0;
  /** Once a deploy has started, something may exist in the account, so the destroy must run. */
  let deployStarted = destroyOnly;
  let verdicts: ReturnType<typeof judgeResults> = [];
  const started = Date.now();
  try {
    // Every cdk command synthesizes the app, destroy too. The handler bundles are built by the cdk
    // CLI itself (cdk.json "build"); the driver, which only this app deploys, here.
    await buildDriverBundle();
    if (!destroyOnly) {
      log('synthesizing');
      if ((await cdk(['synth', '--quiet', ...common])) !== 0) throw new Error('cdk synth failed');
      plan = readAssertionPlan(JSON.parse(readFileSync(path.join(ROOT, outdir, `${ASSERTION_STACK_NAME}.template.json`), 'utf8')));
      log(`deploying (${plan.steps.length} assertion steps, ${plan.resultOutputs.size} checked results; usually 15 to 25 minutes)`);
      if (existsSync(outputsFile)) rmSync(outputsFile);
      const steps = plan.steps;
      deployStarted = true;
      deployed = await cdk(['deploy', '--all', '--require-approval', 'never', '--progress', 'events', '--outputs-file', outputsFile, ...common], (line) => {
        const progress = describeProgress(line, steps);
        if (progress) log(progress);
      });
      log(deployed === 0 ? 'deployed' : `deployment failed (exit ${deployed}); the FAILED lines above say which assertion or resource`);
      const outputs = existsSync(outputsFile) ? (JSON.parse(readFileSync(outputsFile, 'utf8')) as Record<string, Record<string, string>>) : {};
      verdicts = judgeResults(plan, outputs[ASSERTION_STACK_NAME]);
      log('results');
      for (const v of verdicts) log(`  ${v.ok ? 'success' : 'FAIL   '} ${v.label}${v.message ? `\n      ${v.message}` : ''}`);
    }
  } catch (error) {
    log(`error: ${(error as Error).message}`);
    deployed = deployed || 1;
  } finally {
    if (!deployStarted) {
      log('nothing was deployed, so there is nothing to destroy');
    } else if (process.env.INTEG_KEEP === '1' && !destroyOnly) {
      log(`INTEG_KEEP=1: stacks kept. Destroy them with: INTEG_RUN_ID=${runId} npm run integ:destroy`);
    } else {
      deployed = (await destroy(common, outputsFile)) === 0 ? deployed : deployed || 1;
    }
  }
  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  const passed = !destroyOnly && deployed === 0 && verdicts.length > 0 && verdicts.every((v) => v.ok) && !interrupted;
  if (destroyOnly) return deployed;
  const deployment = deployed === 0 ? 'deployment clean' : verdicts.length === 0 ? 'nothing deployed' : 'deployment failed';
  log(`${passed ? 'PASSED' : 'FAILED'}: ${verdicts.filter((v) => v.ok).length}/${verdicts.length} results succeeded, ${deployment}, ${minutes} min`);
  return passed ? 0 : 1;
}

async function destroy(common: string[], outputsFile: string): Promise<number> {
  log('destroying');
  const emptyRetained = async () => {
    if (!existsSync(outputsFile)) return;
    const stack = (JSON.parse(readFileSync(outputsFile, 'utf8')) as Record<string, Record<string, string>>)[INTEG_STACK_NAME];
    if (stack?.AccessLogsBucketName && stack.Region) {
      log(`emptying ${stack.AccessLogsBucketName} (server access logs)`);
      await emptyBucket(stack.AccessLogsBucketName, stack.Region).catch((e: Error) => log(`could not empty it: ${e.message}`));
    }
  };
  await emptyRetained();
  let code = await cdk(['destroy', '--all', '--force', ...common]);
  if (code !== 0) {
    // Late server access log deliveries can refill the log bucket between emptying and deleting.
    log('destroy failed; emptying again and retrying once');
    await emptyRetained();
    code = await cdk(['destroy', '--all', '--force', ...common]);
  }
  log(code === 0 ? 'destroyed' : `DESTROY FAILED: delete the stacks ${ASSERTION_STACK_NAME} and ${INTEG_STACK_NAME} in the CloudFormation console`);
  return code;
}

process.on('SIGINT', () => {
  // The cdk child got the same Ctrl-C; once it stops, main() continues with the destroy.
  interrupted = true;
  log('interrupted: stopping, then destroying');
});

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    log(`error: ${error.stack ?? error.message}`);
    process.exit(1);
  },
);
