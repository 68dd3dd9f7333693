/**
 * `npm run dev`: the whole pipeline on 127.0.0.1, no AWS account, no Docker.
 *
 * Environment:
 *   PORT                       webhook server port (default 3000)
 *   FACESIGN_WEBHOOK_SECRET    signing secret (default: generated)
 *   FACESIGN_MEDIA_HOSTS       comma-separated host[:port] media hosts (default: the built-in
 *                              sample media host and media.facesign.ai); plain http is allowed
 *                              for loopback hosts, here only
 *   FACESIGN_DYNAMODB          auto | dynamodb-local | dynalite (default auto)
 */
import * as path from 'node:path';
import { ENV, SETTINGS } from '../contract/settings';
import { DEFAULT_LOCAL_PORT } from './http-api';
import { startLocalRuntime, type LocalRuntime } from './runtime';
import { startSampleMedia } from './sample-media';
import type { DynamoDBEngine } from './services/dynamodb';
import { writePrivateFile } from './services/loopback-host';

async function main(): Promise<void> {
  const port = Number(process.env.PORT ?? DEFAULT_LOCAL_PORT);
  const media = await startSampleMedia();
  // The processor's own variable and default: the dev tool adds only the sample media host.
  const givenHosts = process.env[ENV.allowedMediaHosts]?.trim();
  const mediaHosts = givenHosts
    ? givenHosts
        .split(',')
        .map((h) => h.trim())
        .filter(Boolean)
    : [media.host, ...SETTINGS.allowedMediaHosts.default];
  console.log('starting the local FaceSign webhooks pipeline ...');
  let runtime: LocalRuntime;
  try {
    runtime = await startLocalRuntime({
      port,
      signingSecret: process.env.FACESIGN_WEBHOOK_SECRET?.trim() || undefined,
      mediaHosts,
      sampleMediaOrigin: media.origin,
      dynamodb: (process.env.FACESIGN_DYNAMODB as DynamoDBEngine | undefined) ?? 'auto',
      onLog: printLog,
      onBatch: (report) => {
        if (report.error) console.log(`${time()} processor  invocation failed: ${report.error.message}`);
      },
      onDeadLetter: (m, count) => {
        const what = [m.eventType, m.eventId, m.sessionId && `session ${m.sessionId}`].filter(Boolean).join(' ');
        console.log(
          `${time()} dead-letter ${m.failureReason}: ${what || m.messageId}${m.attempts ? ` after ${m.attempts} attempt(s)` : ''}  (${count} in the DLQ, see /__local/status)`,
        );
      },
    });
  } catch (error) {
    await media.stop();
    throw error;
  }
  // send-event reads this to find the running pipeline, its secret and the sample media host.
  // It holds the secret: owner-only (0600).
  writePrivateFile(
    path.join(runtime.dataDir, 'runtime.json'),
    JSON.stringify({ webhookUrl: runtime.webhookUrl, signingSecret: runtime.signingSecret, sampleMediaOrigin: media.origin }, null, 2),
  );

  console.log(`
  FaceSign webhooks, running locally
  webhook URL     ${runtime.webhookUrl}
  signing secret  ${runtime.signingSecret}
  archive folder  ${path.join(runtime.dataDir, 'archive')}   (events/ and media/)
  DynamoDB        ${runtime.dynamodbKind} at ${runtime.endpoints.dynamodb}
  SQS and S3      fauxqs at ${runtime.endpoints.sqsS3}
  EventBridge     what rules would receive: ${path.join(runtime.dataDir, 'published-events.jsonl')}
  media hosts     ${mediaHosts.join(', ')}   (sample media at ${media.origin})
  inspector       http://127.0.0.1:${runtime.port}/   (every delivery, live; the dead-letter queue)
  status          http://127.0.0.1:${runtime.port}/__local/status

  Try it:  npm run send-event -- session.status
           npm run send-event -- media.user_photo
  Ctrl-C stops everything.
`);

  // Ctrl-C reaches the whole process group: the workers and DynamoDB Local may already be dead
  // when this runs, and stopping copes with that. It ends the invocations in flight rather than
  // waiting for them (what is still queued is in memory and goes anyway). If it takes longer
  // than STOP_DEADLINE_MS, or on a second Ctrl-C, every child is killed and the process exits at once.
  let stoppingSince = 0;
  const forceExit = (why: string) => {
    console.log(why);
    runtime.killNow();
    process.exit(130);
  };
  const shutdown = async () => {
    if (stoppingSince) {
      // One Ctrl-C can arrive more than once: from the terminal to the whole process group, and
      // relayed by npm. Only a Ctrl-C that comes a moment later is a second one.
      if (Date.now() - stoppingSince < SAME_CTRL_C_MS) return;
      return forceExit('stopping now');
    }
    stoppingSince = Date.now();
    console.log('\nstopping ... (Ctrl-C again to stop at once)');
    setTimeout(() => forceExit(`not stopped after ${STOP_DEADLINE_MS / 1000} s: stopping now`), STOP_DEADLINE_MS).unref();
    await runtime.stop().catch((error: Error) => console.log(`while stopping: ${error.message}`));
    await media.stop().catch(() => undefined);
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown());
  process.on('SIGTERM', () => void shutdown());
}

const STOP_DEADLINE_MS = 10_000;
const SAME_CTRL_C_MS = 1000;

/** Prints a handler's JSON log line compactly; metrics (EMF) lines are left out. */
function printLog(fn: string, line: string): void {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line);
  } catch {
    console.log(`${time()} ${fn.padEnd(10)} ${line}`);
    return;
  }
  if ('_aws' in entry) return;
  const { level, message, eventType, eventId, error, reason, key } = entry as Record<string, string | undefined>;
  const details = [eventType, eventId, error, reason, key].filter(Boolean).join(' ');
  console.log(`${time()} ${fn.padEnd(10)} ${String(level ?? '').padEnd(5)} ${message ?? ''}${details ? `  ${details}` : ''}`);
}

function time(): string {
  return new Date().toISOString().slice(11, 19);
}

main().catch((error) => {
  console.error(`npm run dev failed: ${(error as Error).message}`);
  process.exit(1);
});
