/**
 * A minimal Secrets Manager endpoint for local development and tests: GetSecretValue and
 * PutSecretValue over the AWS JSON 1.1 protocol, on 127.0.0.1 only. No emulator for Secrets
 * Manager installs on this kind of machine, and the handlers only ever call GetSecretValue.
 */
import { createServer, type Server } from 'node:http';
import { refuseForeignHost } from './services/loopback-host';
import { listenOnLoopback } from './services/ports';

/** A running local Secrets Manager. */
export interface LocalSecretsManager {
  readonly endpoint: string;
  /** GetSecretValue calls served, by secret id. */
  readonly reads: Map<string, number>;
  /** Sets a secret's string; the next GetSecretValue returns it. */
  put(secretId: string, value: string): void;
  /** Makes every call fail with a 500 until called with false: to test the verifier's 503. */
  setFailing(failing: boolean): void;
  close(): Promise<void>;
}

/** Starts the server on 127.0.0.1 (port 0 picks a free one). */
export async function startSecretsManager(initial: Record<string, string> = {}, port = 0): Promise<LocalSecretsManager> {
  const secrets = new Map(Object.entries(initial));
  const reads = new Map<string, number>();
  let failing = false;

  const server: Server = createServer((req, res) => {
    // It serves the signing secret: never to a page that rebound its name to 127.0.0.1.
    if (refuseForeignHost(req, res)) return;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(body));
      };
      if (failing) return reply(500, { __type: 'InternalServiceError', message: 'local Secrets Manager is set to fail' });
      const target = String(req.headers['x-amz-target'] ?? '');
      let input: { SecretId?: string; SecretString?: string };
      try {
        input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      } catch {
        return reply(400, { __type: 'SerializationException', message: 'body is not JSON' });
      }
      const id = input.SecretId ?? '';
      if (target === 'secretsmanager.GetSecretValue') {
        reads.set(id, (reads.get(id) ?? 0) + 1);
        const value = secrets.get(id);
        if (value === undefined) {
          return reply(400, { __type: 'ResourceNotFoundException', message: `Secrets Manager can't find the specified secret: ${id}` });
        }
        return reply(200, { ARN: id, Name: id, SecretString: value, VersionId: 'local', VersionStages: ['AWSCURRENT'], CreatedDate: 0 });
      }
      if (target === 'secretsmanager.PutSecretValue') {
        secrets.set(id, input.SecretString ?? '');
        return reply(200, { ARN: id, Name: id, VersionId: 'local', VersionStages: ['AWSCURRENT'] });
      }
      return reply(400, { __type: 'UnknownOperationException', message: `operation ${target} is not supported locally` });
    });
  });
  const listener = await listenOnLoopback(server, port);
  return {
    endpoint: `http://127.0.0.1:${listener.port}`,
    reads,
    put: (id, value) => secrets.set(id, value),
    setFailing: (value) => {
      failing = value;
    },
    close: listener.close,
  };
}
