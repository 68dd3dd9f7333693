/**
 * A local DynamoDB on 127.0.0.1: the AWS DynamoDB Local jar when Java is present, otherwise
 * dynalite (pure Node). Either way the handlers reach it through AWS_ENDPOINT_URL_DYNAMODB.
 */
import { spawn } from 'node:child_process';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as path from 'node:path';
import { ensureDynamoDBLocal, hasJava } from '../dynamodb-local/install';
import { fromWebPage, isLoopbackHost } from './loopback-host';
import { freePort, listenOnLoopback, waitForHttp } from './ports';

/** A running local DynamoDB. */
export interface LocalDynamoDB {
  readonly endpoint: string;
  readonly kind: 'DynamoDB Local' | 'dynalite';
  stop(): Promise<void>;
  /** Kills a separate process at once (DynamoDB Local's JVM), for a process about to exit. */
  killNow(): void;
}

/** Which engine to run; `auto` prefers DynamoDB Local. */
export type DynamoDBEngine = 'auto' | 'dynamodb-local' | 'dynalite';

/**
 * Starts the chosen engine. `auto` falls back to dynalite when there is no Java, or when DynamoDB
 * Local cannot be fetched or started (the reason is passed to `onFallback`).
 */
export async function startDynamoDB(engine: DynamoDBEngine = 'auto', onFallback: (reason: string) => void = () => undefined): Promise<LocalDynamoDB> {
  if (engine === 'dynalite') return startDynalite();
  if (engine === 'dynamodb-local') return startDynamoDBLocal();
  if (!hasJava()) {
    onFallback('no Java on this machine');
    return startDynalite();
  }
  try {
    return await startDynamoDBLocal();
  } catch (error) {
    onFallback(`DynamoDB Local could not be used: ${(error as Error).message.split('\n')[0]}`);
    return startDynalite();
  }
}

/**
 * DynamoDB Local takes a port number, so the port is free when we pick it but may be taken by
 * another local server (fauxqs, started at the same time) before the JVM binds it: then the JVM
 * exits, and we try again on another port.
 */
async function startDynamoDBLocal(attempts = 3): Promise<LocalDynamoDB> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startDynamoDBLocalOnce();
    } catch (error) {
      if (attempt >= attempts) throw error;
    }
  }
}

async function startDynamoDBLocalOnce(): Promise<LocalDynamoDB> {
  const { emulatorDir, launcherDir } = ensureDynamoDBLocal();
  const port = await freePort();
  const classpath = [path.join(emulatorDir, 'DynamoDBLocal.jar'), path.join(emulatorDir, 'DynamoDBLocal_lib', '*'), launcherDir].join(path.delimiter);
  const child = spawn(
    'java',
    [
      `-Djava.library.path=${path.join(emulatorDir, 'DynamoDBLocal_lib')}`,
      '-Xmx512m',
      '-cp',
      classpath,
      'LoopbackDynamoDBLocal',
      '-inMemory',
      '-sharedDb',
      '-disableTelemetry',
      '-port',
      String(port),
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      // Telemetry off. Our launcher starts the server without DynamoDB Local's own main class, which
      // is where -disableTelemetry is read; the environment variable is honoured either way, and with
      // it no dynamodb-local-metadata.json is written at all:
      // https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/DynamoDBLocalTelemetry.html
      env: { ...process.env, DDB_LOCAL_TELEMETRY: '0' },
      // Anything else it writes lands in the git-ignored cache, not in the user's working directory.
      cwd: path.dirname(emulatorDir),
    },
  );
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    // Any HTTP answer is not enough: it must be DynamoDB's (GET / answers a DynamoDB error naming it).
    await waitForHttp(
      endpoint,
      30_000,
      () => child.exitCode !== null,
      (body) => /dynamodb/i.test(body),
    );
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`DynamoDB Local did not start: ${(error as Error).message}\n${output.slice(-2000)}`);
  }
  return {
    endpoint,
    kind: 'DynamoDB Local',
    // A JVM that died of a signal (Ctrl-C reaches the whole process group) has exitCode null and signalCode set.
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000).unref())]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
    killNow: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

async function startDynalite(): Promise<LocalDynamoDB> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when DynamoDB Local cannot run; dynalite is CommonJS without types
  const dynalite = require('dynalite') as (options: object) => import('node:http').Server;
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  // dynalite answers any Origin's CORS preflight with Access-Control-Allow-Origin: *, so any web
  // page could write or delete idempotency records (a real event then skipped as a duplicate).
  // Only AWS SDKs (no Origin) with a loopback Host are served; any port, as the e2e fault proxy
  // stands in front of it (loopback-host.ts).
  const [serve] = server.listeners('request') as Array<(req: IncomingMessage, res: ServerResponse) => void>;
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const webPage = fromWebPage(req.headers);
    if (webPage === undefined && isLoopbackHost(req.headers.host, 'any')) return serve(req, res);
    const body = JSON.stringify({ message: webPage ?? `Host "${String(req.headers.host ?? '')}" refused: this local server answers only loopback names` });
    res.writeHead(403, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close' });
    res.end(body);
  });
  const listener = await listenOnLoopback(server);
  return { endpoint: `http://127.0.0.1:${listener.port}`, kind: 'dynalite', stop: listener.close, killNow: () => undefined };
}
