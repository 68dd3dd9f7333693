/**
 * What test/docs/runbook-commands.test.ts needs to run docs/operations.md's shell blocks as an
 * operator would: the tools they call (the AWS CLI, jq, moto), a moto server on 127.0.0.1, and a
 * bash whose `aws` is the real CLI pointed at it.
 *
 * The AWS CLI v1 ignores AWS_ENDPOINT_URL for SQS (its customization pins queue.amazonaws.com
 * unless `--endpoint-url` is given), so the blocks run with a PATH where `aws` is a small
 * wrapper adding `--endpoint-url`; every other argument reaches the real CLI unchanged, but for a
 * `--wait-time-seconds`, which it shortens to 1 (moto holds an empty long poll for all of it).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { freePort, waitForHttp } from '../../local/services/ports';

/** The first line a tool prints for its version, or undefined where it is not installed. */
function versionOf(command: string, args: string[]): string | undefined {
  const run = spawnSync(command, args, { encoding: 'utf8', timeout: 60_000 });
  if (run.status !== 0) return undefined;
  return `${run.stdout}${run.stderr}`.trim().split('\n')[0];
}

/** Where each tool is, or why the runbook's commands cannot run here. */
export interface RunbookTools {
  readonly aws?: string;
  readonly jq?: string;
  readonly moto?: string;
  /** Undefined when all three are there; else which are missing. */
  readonly missing?: string;
}

export function probeRunbookTools(): RunbookTools {
  const aws = versionOf('aws', ['--version']);
  const jq = versionOf('jq', ['--version']);
  // moto's server needs its [server] extra (flask, flask-cors), not just moto.
  const moto = versionOf('python3', ['-c', 'import moto, moto.server, flask, flask_cors; print("moto " + moto.__version__)']);
  const missing = [aws ? '' : 'the AWS CLI', jq ? '' : 'jq', moto ? '' : 'moto[server]'].filter(Boolean).join(', ');
  return { aws, jq, moto, missing: missing === '' ? undefined : missing };
}

/** A moto server on 127.0.0.1 and a free port; `stop()` ends the process this started. */
export interface MotoServer {
  readonly endpoint: string;
  /** Forgets every resource (moto's reset API), so each procedure starts from an empty account. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export async function startMoto(): Promise<MotoServer> {
  const port = await freePort();
  const child: ChildProcess = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4000);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(
      `${endpoint}/moto-api/data.json`,
      60_000,
      () => child.exitCode !== null,
      (body) => body.trim().startsWith('{'),
    );
  } catch (error) {
    child.kill();
    throw new Error(`moto did not start: ${(error as Error).message}\n${log}`);
  }
  return {
    endpoint,
    reset: async () => {
      const response = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST', signal: AbortSignal.timeout(10_000) });
      if (!response.ok) throw new Error(`moto reset answered ${response.status}`);
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill();
      }),
  };
}

/** What a block printed and how it ended. */
export interface BlockRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A bash that runs blocks in a scratch directory with `aws` pointed at one endpoint. */
export interface RunbookShell {
  /** The scratch directory: the blocks' working directory, where they write their files. */
  readonly dir: string;
  /** Runs a block as one bash script, like pasting it into a terminal (no `set -e`). */
  run(block: string, env?: Record<string, string>, endpoint?: string): Promise<BlockRun>;
  /** Each `npm` call a block made, as its arguments (a block's `npm run reverify` is recorded, not run). */
  npmCalls(): string[][];
  remove(): void;
}

export const REGION = 'us-east-1';
/** moto's account. */
export const ACCOUNT = '123456789012';

export function runbookShell(defaultEndpoint: string): RunbookShell {
  const dir = mkdtempSync(path.join(tmpdir(), 'facesign-runbook-'));
  const bin = path.join(dir, '.bin');
  mkdirSync(bin);
  const realAws = spawnSync('bash', ['-c', 'command -v aws'], { encoding: 'utf8' }).stdout.trim();
  // moto holds an empty long poll for the whole wait; against it a 1-second wait means the same
  // thing to the blocks' loops (an empty answer ends them) and keeps the suite minutes shorter.
  const shortWaits = 'prev=\nfor a do\n  shift\n  if [ "$prev" = --wait-time-seconds ]; then set -- "$@" 1; else set -- "$@" "$a"; fi\n  prev=$a\ndone\n';
  writeFileSync(path.join(bin, 'aws'), `#!/bin/sh\n${shortWaits}exec "${realAws}" --endpoint-url "$RUNBOOK_AWS_ENDPOINT" "$@"\n`);
  const npmLog = path.join(dir, '.npm-calls');
  writeFileSync(npmLog, '');
  writeFileSync(path.join(bin, 'npm'), `#!/bin/sh\nprintf '%s\\037' "$@" >> "${npmLog}"\nprintf '\\n' >> "${npmLog}"\n`);
  for (const tool of ['aws', 'npm']) chmodSync(path.join(bin, tool), 0o755);

  const env = (endpoint: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
    const base: NodeJS.ProcessEnv = { ...process.env };
    // Nothing of the machine's own AWS setup may reach the CLI.
    for (const key of Object.keys(base)) if (key.startsWith('AWS_')) delete base[key];
    return {
      ...base,
      PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}`,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_DEFAULT_REGION: REGION,
      AWS_CONFIG_FILE: path.join(dir, '.aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: path.join(dir, '.aws-credentials'),
      AWS_PAGER: '',
      RUNBOOK_AWS_ENDPOINT: endpoint,
      ...extra,
    };
  };

  const exec = (command: string, args: string[], environment: NodeJS.ProcessEnv, timeoutMs: number): Promise<BlockRun> =>
    new Promise((resolve, reject) => {
      const child = spawn(command, args, { cwd: dir, env: environment, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const timer = setTimeout(() => child.kill(), timeoutMs);
      child.once('error', reject);
      child.once('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });

  return {
    dir,
    run: (block, extra = {}, endpoint = defaultEndpoint) => exec('bash', ['-c', block], env(endpoint, extra), 150_000),
    npmCalls: () => {
      return readFileSync(npmLog, 'utf8')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => line.split('\u001f').filter((arg, i, all) => i < all.length - 1 || arg !== ''));
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The versions of the query-protocol APIs the setup calls. */
const QUERY_API_VERSION = { cloudformation: '2010-05-15', iam: '2010-05-08', monitoring: '2010-08-01' } as const;

/**
 * One call of a query-protocol API (CloudFormation, IAM, CloudWatch) straight to moto, for setting
 * up: a process-free request instead of an AWS CLI run (seconds each on a busy machine). moto reads
 * the service from the credential scope and checks no signature.
 */
export async function motoQuery(endpoint: string, service: keyof typeof QUERY_API_VERSION, action: string, params: Record<string, string>): Promise<string> {
  const response = await fetch(`${endpoint}/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `AWS4-HMAC-SHA256 Credential=testing/20260101/${REGION}/${service}/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: new URLSearchParams({ Action: action, Version: QUERY_API_VERSION[service], ...params }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${service} ${action} answered ${response.status}: ${text.slice(0, 500)}`);
  return text;
}
