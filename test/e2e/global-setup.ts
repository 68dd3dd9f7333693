/**
 * Starts the whole local runtime once for the e2e suite (the real bundles, DynamoDB Local or
 * dynalite, fauxqs, the local Secrets Manager) plus a media host whose answers the tests plan,
 * and a control endpoint for the faults it starts with (`faultInjection`). Everything binds
 * 127.0.0.1 on free ports and is stopped at the end of the run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import type { TestProject } from 'vitest/node';
import { startLocalRuntime } from '../../local/runtime';
import { listenOnLoopback } from '../../local/services/ports';
import { mediaStream } from '../../local/media-content';
import type { MediaAnswer } from './context';
import { apiRequest, type ApiGatewayEvent } from '../../lambda/verifier/api-event';
import { bodyBytes } from '../../lambda/verifier/handle-webhook';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const plans = new Map<string, MediaAnswer[]>();
  const hits = new Map<string, number>();
  const media = createServer((req, res) => {
    const p = new URL(req.url ?? '/', 'http://x').pathname;
    const count = (hits.get(p) ?? 0) + 1;
    hits.set(p, count);
    const plan = plans.get(p);
    const answer = plan ? plan[Math.min(count, plan.length) - 1] : { status: 404 };
    if (answer.status !== 200) return void res.writeHead(answer.status).end();
    // An empty contentType plans an answer without a Content-Type header.
    res.writeHead(200, {
      ...(answer.contentType === '' ? {} : { 'content-type': answer.contentType ?? 'application/octet-stream' }),
      'content-length': answer.size ?? 0,
    });
    const body = mediaStream(answer.seed ?? p, answer.size ?? 0);
    if (!answer.durationMs) return void body.pipe(res);
    // Served slowly, in 20 slices over durationMs: a download a test can catch in the middle.
    void (async () => {
      const bytes: Buffer[] = [];
      for await (const chunk of body) bytes.push(chunk as Buffer);
      const all = Buffer.concat(bytes);
      const slice = Math.ceil(all.length / 20);
      for (let i = 0; i < all.length && !res.destroyed; i += slice) {
        res.write(all.subarray(i, i + slice));
        await new Promise((r) => setTimeout(r, answer.durationMs! / 20));
      }
      res.end();
    })();
  });
  const mediaListener = await listenOnLoopback(media);
  const mediaHost = `127.0.0.1:${mediaListener.port}`;

  const dataDir = mkdtempSync(path.join(tmpdir(), 'facesign-e2e-'));
  // Every line the functions print, for the tests that check what is (not) logged.
  const functionLogs: string[] = [];
  const runtime = await startLocalRuntime({
    onLog: (fn, line) => functionLogs.push(`${fn} ${line}`),
    port: 0,
    dataDir,
    mediaHosts: [mediaHost],
    // The construct's own props: the queue's visibility timeout and the rest follow from them as
    // they would in AWS. The shortest processor timeout the construct allows keeps a crashed
    // batch's return (after the visibility timeout) inside CI's time budget.
    stack: {
      signingSecretCacheTtl: Duration.seconds(1),
      processorBatchSize: 5,
      processorMaxConcurrency: 2,
      processorTimeout: Duration.seconds(30),
      mediaDownloadTimeout: Duration.seconds(10),
      maxMediaBytes: 256 * 1024 * 1024,
    },
    retryBaseDelaySeconds: 1,
    // The failure and fault tests switch faults on this runtime.
    faultInjection: true,
  });
  const faults = runtime.faults!;

  const control = createServer(async (req, res) => {
    const body = await readJson(req);
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/media/plan') {
      plans.set(body.path ?? '', body.answers ?? []);
      hits.delete(body.path ?? '');
    } else if (url.pathname === '/logs') {
      return void res.end(JSON.stringify({ lines: functionLogs }));
    } else if (url.pathname === '/media/hits') {
      return void res.end(JSON.stringify({ hits: hits.get(url.searchParams.get('path') ?? '') ?? 0 }));
    } else if (url.pathname === '/faults') {
      if (typeof body.secretsManagerFailing === 'boolean') faults.setSecretsManagerFailing(body.secretsManagerFailing);
      if (typeof body.queueReachable === 'boolean') faults.setQueueReachableFromVerifier(body.queueReachable);
      if (typeof body.s3HungForProcessor === 'boolean') faults.setS3HungForProcessor(body.s3HungForProcessor);
      if (typeof body.dynamodbPaused === 'boolean') faults.setDynamoDBPaused(body.dynamodbPaused);
    } else if (url.pathname === '/workers') {
      // The execution environments of a function: PIDs, and the event ids each one is running.
      const fn = url.searchParams.get('function') === 'verifier' ? 'verifier' : 'processor';
      return void res.end(JSON.stringify(runtime.environments(fn).map((e) => ({ pid: e.pid, busy: e.busy, eventIds: eventIdsOf(e.event) }))));
    } else if (url.pathname === '/received') {
      return void res.end(JSON.stringify(runtime.eventSource.receivedEventIds));
    } else if (url.pathname === '/published') {
      const idOf = (p: { detail: unknown }) => (p.detail as { event?: { id?: string } }).event?.id;
      const eventId = url.searchParams.get('eventId');
      if (eventId) return void res.end(JSON.stringify(runtime.published.filter((p) => idOf(p) === eventId)));
      const counts: Record<string, number> = {};
      for (const p of runtime.published) {
        const id = idOf(p);
        if (id) counts[id] = (counts[id] ?? 0) + 1;
      }
      return void res.end(JSON.stringify(counts));
    } else {
      return void res.writeHead(404).end();
    }
    res.end('{}');
  });
  const controlListener = await listenOnLoopback(control);

  project.provide('e2e', {
    webhookUrl: runtime.webhookUrl,
    signingSecret: runtime.signingSecret,
    statusUrl: `http://127.0.0.1:${runtime.port}/__local/status`,
    localUrl: `http://127.0.0.1:${runtime.port}`,
    secretsManagerEndpoint: runtime.endpoints.secretsManager,
    sqsS3Endpoint: runtime.endpoints.sqsS3,
    bucket: runtime.bucket,
    deadLetterQueueUrl: runtime.deadLetterQueueUrl,
    mediaOrigin: `http://${mediaHost}`,
    controlUrl: `http://127.0.0.1:${controlListener.port}`,
    dynamodbKind: runtime.dynamodbKind,
    dynamodbEndpoint: runtime.endpoints.dynamodb,
    visibilityTimeoutSeconds: runtime.settings.queue.visibilityTimeoutSeconds,
    processorTimeoutSeconds: runtime.settings.processor.timeoutSeconds,
  });

  return async () => {
    await runtime.stop();
    await Promise.all([mediaListener.close(), controlListener.close()]);
    rmSync(dataDir, { recursive: true, force: true });
  };
}

/** What the tests post to the control endpoint: a media plan, or fault switches. */
interface ControlRequest {
  readonly path?: string;
  readonly answers?: MediaAnswer[];
  readonly secretsManagerFailing?: unknown;
  readonly queueReachable?: unknown;
  readonly s3HungForProcessor?: unknown;
  readonly dynamodbPaused?: unknown;
}

async function readJson(req: IncomingMessage): Promise<ControlRequest> {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text ? JSON.parse(text) : {};
}

/** The FaceSign event ids in a verifier (API Gateway) or processor (SQS) event. */
function eventIdsOf(event: unknown): string[] {
  const idOf = (body: unknown) => {
    try {
      const id = (JSON.parse(String(body)) as { id?: unknown }).id;
      return typeof id === 'string' ? [id] : [];
    } catch {
      return [];
    }
  };
  const e = event as { Records?: Array<{ body: string }> } | undefined;
  if (e?.Records) return e.Records.flatMap((r) => idOf(r.body));
  // A verifier event of either door, read as the verifier reads it (the REST door base64-encodes every body).
  return e ? idOf(bodyBytes(apiRequest(event as ApiGatewayEvent)).toString('utf8')) : [];
}
