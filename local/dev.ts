/**
 * `npm run dev [-- --public-url https://<tunnel host>]`: the whole pipeline on 127.0.0.1, no AWS
 * account, no Docker. With --public-url, also real FaceSign deliveries through a tunnel
 * (public-url.ts): the secret is then FaceSign's, and media comes from FaceSign's host.
 *
 * Environment:
 *   PORT                       webhook server port (default 3000)
 *   FACESIGN_WEBHOOK_SECRET    signing secret (default: generated; required with --public-url)
 *   FACESIGN_MEDIA_HOSTS       comma-separated host[:port] media hosts (default: the built-in
 *                              sample media host and media.facesign.ai; with --public-url,
 *                              media.facesign.ai); plain http is allowed for loopback hosts,
 *                              here only, and not with --public-url
 *   FACESIGN_DYNAMODB          auto | dynamodb-local | dynalite (default auto)
 */
import * as path from 'node:path';
import { SETTINGS } from '../contract/settings';
import { DEV_USAGE, DevUsageError, parseDevOptions, type DevOptions } from './dev-options';
import { startLocalRuntime, type LocalRuntime } from './runtime';
import { startSampleMedia } from './sample-media';
import { writePrivateFile } from './services/loopback-host';

async function main(options: DevOptions): Promise<void> {
  if (options.help) return void console.log(DEV_USAGE);
  const tunnel = options.publicUrl !== undefined;
  // Through a tunnel, media comes from FaceSign's host as in the deployed stack: no sample host.
  const media = tunnel ? undefined : await startSampleMedia();
  // The processor's own variable and default: the dev tool adds only the sample media host.
  const mediaHosts = options.mediaHosts ?? [...(media ? [media.host] : []), ...SETTINGS.allowedMediaHosts.default];
  console.log('starting the local FaceSign webhooks pipeline ...');
  let runtime: LocalRuntime;
  try {
    runtime = await startLocalRuntime({
      port: options.port,
      signingSecret: options.signingSecret,
      publicUrl: options.publicUrl?.href,
      mediaHosts,
      // The inspector's media sample buttons need it; with --public-url they are disabled.
      sampleMediaOrigin: media?.origin,
      dynamodb: options.dynamodb,
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
    await media?.stop();
    throw error;
  }
  // send-event reads this to find the running pipeline, its secret and the sample media host.
  // It holds the secret: owner-only (0600). FaceSign's own secret (--public-url) is not written
  // anywhere: send-event then reads it from FACESIGN_WEBHOOK_SECRET, like the runtime.
  writePrivateFile(
    path.join(runtime.dataDir, 'runtime.json'),
    JSON.stringify(
      { webhookUrl: runtime.webhookUrl, ...(tunnel ? {} : { signingSecret: runtime.signingSecret }), ...(media ? { sampleMediaOrigin: media.origin } : {}) },
      null,
      2,
    ),
  );

  const lines = [
    '',
    '  FaceSign webhooks, running locally',
    `  webhook URL     ${runtime.webhookUrl}`,
    ...(tunnel
      ? [
          `  public URL      ${runtime.publicWebhookUrl}   (give FaceSign this webhook URL)`,
          `                  only this route is served through the tunnel; everything else answers 127.0.0.1 only`,
          '  signing secret  from FACESIGN_WEBHOOK_SECRET (not shown)',
        ]
      : [`  signing secret  ${runtime.signingSecret}`]),
    `  archive folder  ${path.join(runtime.dataDir, 'archive')}   (events/ and media/)`,
    `  DynamoDB        ${runtime.dynamodbKind} at ${runtime.endpoints.dynamodb}`,
    `  SQS and S3      fauxqs at ${runtime.endpoints.sqsS3}`,
    `  EventBridge     what rules would receive: ${path.join(runtime.dataDir, 'published-events.jsonl')}`,
    `  media hosts     ${mediaHosts.join(', ')}   ${media ? `(sample media at ${media.origin})` : '(https only, as deployed)'}`,
    `  inspector       http://127.0.0.1:${runtime.port}/   (every delivery, live; the dead-letter queue${tunnel ? '; 127.0.0.1 only' : ''})`,
    `  status          http://127.0.0.1:${runtime.port}/__local/status`,
    '',
    ...(tunnel
      ? [
          '  Try it:  create a FaceSign session with that webhook URL, or, with FACESIGN_WEBHOOK_SECRET exported:',
          '           npm run send-event -- session.status',
        ]
      : ['  Try it:  npm run send-event -- session.status', '           npm run send-event -- media.user_photo']),
    '  Ctrl-C stops everything.',
    '',
  ];
  console.log(lines.join('\n'));

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
    await media?.stop().catch(() => undefined);
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

let options: DevOptions;
try {
  options = parseDevOptions(process.argv.slice(2), process.env);
} catch (error) {
  if (!(error instanceof DevUsageError)) throw error;
  console.error(error.message);
  process.exit(2);
}
main(options).catch((error) => {
  console.error(`npm run dev failed: ${(error as Error).message}`);
  process.exit(1);
});
