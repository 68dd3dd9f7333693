/**
 * `npm run reverify`: re-verifies every held delivery (refused deliveries in FaceSign's form) against
 * the current signing secret, after it has been fixed (docs/operations.md "Recover deliveries refused
 * for a wrong secret"). Your machine cannot read the secret (its policy admits only the verifier's
 * and the reverifier's roles), so this invokes the reverifier Lambda through the Lambda API, again
 * while it reports that it ran out of time, and prints what it did.
 *
 *   npm run reverify -- --function <ReverifierFunctionName output>   # in AWS, with your credentials
 *   npm run reverify -- --local [--url http://127.0.0.1:3000]       # against npm run dev
 *
 * Exit codes: 0 done; 1 no secret set, or a held delivery could not be queued or removed; 2 bad
 * arguments or the invocation failed.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { ReverifyReport } from '../contract/held-delivery';
import { REVERIFIER_TIMEOUT_SECONDS } from '../contract/time-budget';
import { LOCAL_REVERIFY_PATH } from '../local/reverify-route';

/** Where to run the re-verification. */
export type ReverifyTarget = { readonly kind: 'lambda'; readonly functionName: string } | { readonly kind: 'local'; readonly url: string };

/** One invocation of the reverifier, continuing after `startAfter` (a previous report's resumeAfter) when given. */
export type InvokeReverifier = (startAfter?: string) => Promise<ReverifyReport>;

/** The most invocations one command makes: each looks at held deliveries for up to 5 minutes. */
export const MAX_ROUNDS = 12;

/** Slack beyond the reverifier's timeout for the Invoke call itself. */
const INVOKE_SLACK_MS = 30_000;

const USAGE = 'usage: npm run reverify -- --function <reverifier function name or ARN> | --local [--url http://127.0.0.1:3000]';

/** Reads the command line; throws an Error with the usage on anything else. */
export function parseReverifyArgs(argv: readonly string[]): ReverifyTarget {
  const value = (flag: string) => {
    const i = argv.indexOf(flag);
    if (i < 0) return undefined;
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`${flag} needs a value; ${USAGE}`);
    return v;
  };
  const known = new Set(['--function', '--local', '--url']);
  const unknown = argv.filter((a, i) => a.startsWith('--') && !known.has(a) && !(i > 0 && ['--function', '--url'].includes(argv[i - 1])));
  if (unknown.length > 0) throw new Error(`unknown option ${unknown[0]}; ${USAGE}`);
  const functionName = value('--function');
  const local = argv.includes('--local');
  if (local === (functionName !== undefined)) throw new Error(`give exactly one of --function and --local; ${USAGE}`);
  if (functionName !== undefined) return { kind: 'lambda', functionName };
  const url = value('--url') ?? 'http://127.0.0.1:3000';
  if (!/^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\/?$/.test(url)) throw new Error(`--url must be the local runtime's loopback URL, got ${url}`);
  return { kind: 'local', url: url.replace(/\/$/, '') };
}

/**
 * Invokes the reverifier Lambda synchronously (RequestResponse), waiting past its 5-minute timeout:
 * a client that gives up first would retry and start a second run
 * (https://docs.aws.amazon.com/lambda/latest/dg/invocation-sync.html). One attempt: a failed call
 * is reported (exit 2) and the operator runs the command again, which is safe.
 */
export function lambdaInvoker(
  functionName: string,
  client = new LambdaClient({ maxAttempts: 1, requestHandler: { requestTimeout: invokeTimeoutMs() } }),
): InvokeReverifier {
  return async (startAfter) => {
    const out = await client.send(
      new InvokeCommand({ FunctionName: functionName, InvocationType: 'RequestResponse', Payload: Buffer.from(JSON.stringify({ startAfter })) }),
      {
        abortSignal: AbortSignal.timeout(invokeTimeoutMs()),
      },
    );
    const text = out.Payload ? Buffer.from(out.Payload).toString('utf8') : '';
    if (out.FunctionError) {
      const error = safeJson(text) as { errorType?: string; errorMessage?: string } | undefined;
      throw new Error(`the reverifier failed: ${error?.errorType ?? out.FunctionError}: ${error?.errorMessage ?? text.slice(0, 500)}`);
    }
    return asReport(text);
  };
}

/** POSTs to the local runtime's reverify route (npm run dev), which runs the reverifier bundle. */
export function localInvoker(url: string): InvokeReverifier {
  return async (startAfter) => {
    const response = await fetch(`${url}${LOCAL_REVERIFY_PATH}`, {
      method: 'POST',
      body: JSON.stringify({ startAfter }),
      headers: { 'content-type': 'application/json' },
      signal: AbortSignal.timeout(invokeTimeoutMs()),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`the local reverifier failed: HTTP ${response.status}: ${text.slice(0, 500)}`);
    return asReport(text);
  };
}

/**
 * Invokes until a report says it is complete (at most {@link MAX_ROUNDS} times), each round after the
 * key the last one stopped at, and merges the reports.
 */
export async function reverifyAll(invoke: InvokeReverifier): Promise<ReverifyReport> {
  let merged: ReverifyReport | undefined;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const report = await invoke(merged?.resumeAfter);
    if (!report.secretConfigured) return report;
    merged = merged ? mergeReports(merged, report) : report;
    if (report.complete) return merged;
  }
  return { ...merged!, complete: false };
}

function mergeReports(a: ReverifyReport, b: ReverifyReport): ReverifyReport {
  // Each round continues after the key the previous one stopped at, so the rounds look at different deliveries.
  return {
    secretConfigured: true,
    requeued: [...a.requeued, ...b.requeued],
    stillUnverified: a.stillUnverified + b.stillUnverified,
    refused: [...a.refused, ...b.refused],
    expired: a.expired + b.expired,
    unreadable: a.unreadable + b.unreadable,
    failed: [...a.failed, ...b.failed],
    complete: b.complete,
    ...(b.resumeAfter !== undefined ? { resumeAfter: b.resumeAfter } : {}),
  };
}

/** What the command prints. */
export function formatReport(report: ReverifyReport): string {
  if (!report.secretConfigured) {
    return `no signing secret is configured (${report.message ?? 'not set'}): nothing was re-verified and nothing changed. Put the secret first (README "Deploy to AWS").`;
  }
  const lines = [
    `${report.requeued.length} re-verified and queued`,
    `${report.stillUnverified} still not verifying (kept until their retention runs out)`,
    `${report.refused.length} verified but refused by the verifier anyway (kept)`,
    `${report.expired} expired (older than holdRetention; removed)`,
    `${report.unreadable} unreadable (kept for the lifecycle rule)`,
    `${report.failed.length} failed (kept; run again)`,
  ];
  for (const r of report.requeued) lines.push(`  queued ${r.eventType ?? '?'} ${r.eventId ?? '?'} (${r.key})`);
  for (const r of report.refused) lines.push(`  refused ${r.key}: ${r.reason}`);
  for (const f of report.failed) lines.push(`  failed ${f.key}: ${f.reason}`);
  if (!report.complete) lines.push(`not finished after ${MAX_ROUNDS} invocations: run it again`);
  return lines.join('\n');
}

/** 0 when everything held was looked at and nothing failed; 1 otherwise (no secret, a failure, not finished). */
export function exitCodeOf(report: ReverifyReport): 0 | 1 {
  return report.secretConfigured && report.failed.length === 0 && report.complete ? 0 : 1;
}

function invokeTimeoutMs(): number {
  return REVERIFIER_TIMEOUT_SECONDS * 1000 + INVOKE_SLACK_MS;
}

function asReport(text: string): ReverifyReport {
  const report = safeJson(text) as Partial<ReverifyReport> | undefined;
  if (!report || typeof report.secretConfigured !== 'boolean' || !Array.isArray(report.requeued)) {
    throw new Error(`the reverifier answered something that is not its report: ${text.slice(0, 500)}`);
  }
  return report as ReverifyReport;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

async function main(): Promise<number> {
  let target: ReverifyTarget;
  try {
    target = parseReverifyArgs(process.argv.slice(2));
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
  const invoke = target.kind === 'lambda' ? lambdaInvoker(target.functionName) : localInvoker(target.url);
  let report: ReverifyReport;
  try {
    report = await reverifyAll(invoke);
  } catch (error) {
    console.error(`reverify failed: ${(error as Error).message}`);
    return 2;
  }
  console.log(formatReport(report));
  return exitCodeOf(report);
}

if (require.main === module) {
  main().then((code) => process.exit(code));
}
