/**
 * One verifier measurement, in its own process (module state and environment per variant).
 * Measures, interleaved in rounds in this one process:
 *   floor-a: HMAC-SHA256 over the bytes + JSON.parse
 *   ours-a:  our verification (header parsing, signature, timestamp, UTF-8, envelope validation)
 *   floor-b: floor-a + one bare SDK SendMessage through the in-process transport
 *   ours-b:  the whole verifier handler invocation through the same transport
 * Prints JSON on the last line.
 */
import { createHmac } from 'node:crypto';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { parseFaceSignEvent } from '../contract/event';
import { functionEnvironment } from '../contract/function-environment';
import { VERIFIER_TIMEOUT_SECONDS } from '../contract/time-budget';
import { signFaceSignPayload, verifyFaceSignSignature } from '../contract/signature';
import { buildSampleEvent } from '../local/sample-events';
import { installFakeAwsTransport } from './fake-aws-transport';
import { httpApiEvent } from './api-event';
import { interleaved } from './stats';

const SECRET = 'whsec_bench_secret_value';
const bodySize = Number(process.env.BENCH_BODY_BYTES ?? 0);
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const iterations = Number(process.env.BENCH_ITERATIONS ?? 2000);

async function main(): Promise<void> {
  installFakeAwsTransport(SECRET);
  const queueUrl = 'https://sqs.us-east-1.amazonaws.com/000000000000/bench';
  // The variables the construct would write, named by the settings table.
  Object.assign(
    process.env,
    functionEnvironment('verifier', { signingSecretArn: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:bench', queueUrl }, { maxBodyBytes: 512 * 1024 }),
  );
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID = 'bench';
  process.env.AWS_SECRET_ACCESS_KEY = 'bench';
  const { handler } = await import('../lambda/verifier/index.js');

  const event = buildSampleEvent('media.user_photo', { createdAt: Date.now() });
  const body =
    bodySize > 0 ? JSON.stringify({ ...event, padding: 'x'.repeat(Math.max(0, bodySize - JSON.stringify(event).length - 14)) }) : JSON.stringify(event);
  const bytes = Buffer.from(body);
  const signed = signFaceSignPayload(body, SECRET);
  const headers = { 'x-facesign-signature': signed.signature, 'x-facesign-timestamp': String(signed.timestamp), 'content-type': 'application/json' };
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
  const apiEvent = httpApiEvent(body, headers) as never;
  const context = { functionName: 'bench', awsRequestId: 'bench', getRemainingTimeInMillis: () => VERIFIER_TIMEOUT_SECONDS * 1000 } as never;

  const floorA = () => {
    createHmac('sha256', SECRET).update(`${signed.timestamp}.`).update(bytes).digest();
    return JSON.parse(body);
  };
  const oursA = () => {
    const v = verifyFaceSignSignature(bytes, headers, [SECRET]);
    if (!v.ok) throw new Error(v.reason);
    const parsed = parseFaceSignEvent(decoder.decode(bytes));
    if (!parsed.ok) throw new Error(parsed.message);
  };
  const floorB = async () => {
    floorA();
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
  };
  // The same SendMessage our contract requires: the raw body plus type, id and session id as attributes.
  const floorBWithAttributes = async () => {
    floorA();
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: body,
        MessageAttributes: {
          eventType: { DataType: 'String', StringValue: event.type as string },
          eventId: { DataType: 'String', StringValue: event.id as string },
          sessionId: { DataType: 'String', StringValue: event.sessionId as string },
        },
      }),
    );
  };
  const oursB = async () => {
    const r = await handler(apiEvent, context);
    if (r.statusCode !== 200) throw new Error(String(r.body));
  };

  // Lambda writes log lines to a pipe; here they go nowhere, but they are still formatted.
  const result = await interleaved({ floorA, oursA, floorB, floorBWithAttributes, oursB }, { rounds, iterations, warmup: 500 });
  process.stdout.write(`\n${JSON.stringify({ bodyBytes: bytes.length, result })}\n`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
