/**
 * What a forged request costs the verifier beside an authentic one, in its own process: the
 * deployed bundle (dist/assets/verifier/index.mjs, or BENCH_VERIFIER_BUNDLE) invoked as Lambda
 * invokes it, with SQS and Secrets Manager answered by an in-process HTTP server on 127.0.0.1 (the
 * bundle carries its own SDK, so the network stays in the measurement, as it does in Lambda).
 * BENCH_SECRETS is 1 or 2 (a rotation: both secrets active). Cases alternate call by call:
 *   authentic-typical: a FaceSign event of a few hundred bytes, 200
 *   authentic-max:     an event padded to maxBodyBytes (the baseline of every ratio), 200
 *   forged-max:        maxBodyBytes of random bytes (not UTF-8) as base64, application/octet-stream,
 *                      8 t and 16 v1, 401
 *   forged-oversize:   4.4 MB of the same (about the most a 6 MB Lambda event holds as base64), 401
 * Prints JSON on the last line.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { functionEnvironment } from '../contract/function-environment';
import { SETTINGS } from '../contract/settings';
import { VERIFIER_TIMEOUT_SECONDS } from '../contract/time-budget';
import { signFaceSignPayload } from '../contract/signature';
import { buildSampleEvent } from '../local/sample-events';
import { httpApiEvent } from './api-event';
import { interleaved } from './stats';

const SECRETS = ['whsec_bench_newest', 'whsec_bench_previous'].slice(0, Number(process.env.BENCH_SECRETS ?? 1));
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const iterations = Number(process.env.BENCH_ITERATIONS ?? 40);
const bundle = process.env.BENCH_VERIFIER_BUNDLE ?? path.join(__dirname, '..', 'dist', 'assets', 'verifier', 'index.mjs');
/** The largest body, as bytes, whose base64 still fits a 6 MB synchronous Lambda event with its headers. */
const OVERSIZE_BYTES = 4_400_000;

function fakeAws(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const target = String(req.headers['x-amz-target'] ?? '');
    let body: unknown;
    if (target.endsWith('.SendMessage')) {
      const input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { MessageBody: string };
      body = { MessageId: randomUUID(), MD5OfMessageBody: createHash('md5').update(input.MessageBody).digest('hex') };
    } else if (target === 'secretsmanager.GetSecretValue') {
      body = { ARN: 'arn', Name: 'secret', SecretString: JSON.stringify({ secrets: SECRETS }), VersionId: 'v' };
    } else {
      res.writeHead(400).end();
      return;
    }
    const text = JSON.stringify(body);
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'bench', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  });
}

function forgedHeader(nowS: number): string {
  const ts = Array.from({ length: 8 }, (_, i) => `t=${nowS - i}`);
  const v1s = Array.from({ length: 16 }, () => `v1=${randomBytes(32).toString('hex')}`);
  return [...ts, ...v1s].join(',');
}

async function main(): Promise<void> {
  const server = createServer(fakeAws);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const maxBodyBytes = SETTINGS.maxBodyBytes.default;
  Object.assign(
    process.env,
    functionEnvironment(
      'verifier',
      { signingSecretArn: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:bench', queueUrl: 'https://sqs.us-east-1.amazonaws.com/000000000000/bench' },
      { maxBodyBytes },
    ),
    {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      AWS_ENDPOINT_URL_SQS: endpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint,
    },
  );
  const { handler } = (await import(pathToFileURL(bundle).href)) as {
    handler: (event: unknown, context: unknown) => Promise<{ statusCode: number; body: string }>;
  };
  const context = { functionName: 'bench', awsRequestId: 'bench', getRemainingTimeInMillis: () => VERIFIER_TIMEOUT_SECONDS * 1000 };
  const apiEvent = httpApiEvent;
  const nowS = Math.floor(Date.now() / 1000);
  const authentic = (size: number) => {
    const event = buildSampleEvent('media.user_photo', { createdAt: Date.now() });
    const bare = JSON.stringify(event);
    const body = size > 0 ? JSON.stringify({ ...event, padding: 'x'.repeat(size - bare.length - 13) }) : bare;
    if (size > 0 && Buffer.byteLength(body) !== size) throw new Error(`padded body is ${Buffer.byteLength(body)} bytes, wanted ${size}`);
    // Signed with the newest secret; in a rotation, the older one would cost the same HMAC.
    const signed = signFaceSignPayload(body, SECRETS[0], nowS);
    return apiEvent(body, { 'content-type': 'application/json', ...lower(signed.headers) }, false);
  };
  const forged = (size: number) =>
    apiEvent(
      randomBytes(size).toString('base64'),
      { 'content-type': 'application/octet-stream', 'x-facesign-signature': forgedHeader(nowS), 'x-facesign-timestamp': String(nowS) },
      true,
    );
  const cases = {
    authenticTypical: { event: authentic(0), status: 200 },
    authenticMax: { event: authentic(maxBodyBytes), status: 200 },
    forgedMax: { event: forged(maxBodyBytes), status: 401 },
    forgedOversize: { event: forged(OVERSIZE_BYTES), status: 401 },
  };
  const calls = Object.fromEntries(
    Object.entries(cases).map(([name, c]) => [
      name,
      async () => {
        const r = await handler(c.event, context);
        if (r.statusCode !== c.status) throw new Error(`${name}: ${r.statusCode} ${r.body}`);
      },
    ]),
  );

  let result;
  try {
    result = await interleaved(calls, { rounds, iterations, warmup: 10 });
  } finally {
    server.close();
  }
  process.stdout.write(`\n${JSON.stringify({ maxBodyBytes, oversizeBytes: OVERSIZE_BYTES, secrets: SECRETS.length, result })}\n`);
}

function lower(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
