/**
 * An in-process AWS transport for benchmarks: replaces the SDK's Node HTTP handler so that SQS
 * SendMessage and Secrets Manager GetSecretValue are answered in memory. Serialisation, signing,
 * middleware and parsing all still run; only the network is gone.
 */
import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { NodeHttpHandler } from '@smithy/node-http-handler';

export function installFakeAwsTransport(secretString: string): void {
  NodeHttpHandler.prototype.handle = async function handle(request: { headers: Record<string, string>; body?: unknown }) {
    const target = String(request.headers['x-amz-target'] ?? '');
    const text = typeof request.body === 'string' ? request.body : new TextDecoder().decode((request.body as Uint8Array | undefined) ?? new Uint8Array());
    let body: unknown;
    if (target.endsWith('.SendMessage')) {
      const input = JSON.parse(text) as { MessageBody: string };
      body = { MessageId: randomUUID(), MD5OfMessageBody: createHash('md5').update(input.MessageBody).digest('hex') };
    } else if (target === 'secretsmanager.GetSecretValue') {
      body = { ARN: 'arn', Name: 'secret', SecretString: secretString, VersionId: 'v' };
    } else {
      throw new Error(`the benchmark transport does not answer ${target}`);
    }
    // The SDK recognises a response by shape (HttpResponse.isInstance), so a plain object serves.
    const response = {
      statusCode: 200,
      reason: 'OK',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'bench' },
      body: Readable.from([Buffer.from(JSON.stringify(body))]),
    };
    return { response } as unknown as Awaited<ReturnType<NodeHttpHandler['handle']>>;
  } as NodeHttpHandler['handle'];
}
