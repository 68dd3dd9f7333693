/**
 * The local servers against DNS rebinding (a web page whose name now points at 127.0.0.1: its
 * requests carry its own name in Host), and the files that hold the secret.
 */
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { request, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, describe, expect, it } from 'vitest';
import { startEventBridge } from '../../local/eventbridge-server';
import { startHttpApi } from '../../local/http-api';
import { startSampleMedia } from '../../local/sample-media';
import { startSecretsManager } from '../../local/secrets-manager-server';
import { hasJava } from '../../local/dynamodb-local/install';
import { startDynamoDB } from '../../local/services/dynamodb';
import { isLoopbackHost, writePrivateFile } from '../../local/services/loopback-host';
import { startSqsS3 } from '../../local/services/sqs-s3';

/** One request with an exact Host header (fetch does not let a caller choose it). */
function get(url: string, host: string | undefined, options: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  return new Promise<{ status: number; body: string; headers: IncomingHttpHeaders }>((resolve, reject) => {
    const u = new URL(url);
    const req = request(
      {
        host: '127.0.0.1',
        port: u.port,
        path: u.pathname,
        method: options.method ?? 'GET',
        setHost: host !== undefined,
        headers: { ...(host !== undefined ? { host } : {}), ...options.headers },
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const stops: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const stop of stops) await stop();
});

describe('isLoopbackHost', () => {
  it.each([
    ['127.0.0.1:4000', true],
    ['localhost:4000', true],
    ['LOCALHOST:4000', true],
    ['[::1]:4000', true],
    ['127.0.0.1:4001', false],
    ['127.0.0.1', false],
    ['localhost', false],
    ['attacker.example:4000', false],
    ['127.0.0.1.attacker.example:4000', false],
    ['localhost.:4000', false],
    ['', false],
  ])('%s on port 4000 -> %s', (host, expected) => {
    expect(isLoopbackHost(host, 4000)).toBe(expected);
  });
  it('refuses a missing Host', () => expect(isLoopbackHost(undefined, 4000)).toBe(false));
  it('takes subdomains of localhost only when asked (fauxqs queue URLs), never of other names', () => {
    expect(isLoopbackHost('sqs.us-east-1.localhost:4000', 4000)).toBe(false);
    expect(isLoopbackHost('sqs.us-east-1.localhost:4000', 4000, { subdomainsOfLocalhost: true })).toBe(true);
    expect(isLoopbackHost('localhost.attacker.example:4000', 4000, { subdomainsOfLocalhost: true })).toBe(false);
    expect(isLoopbackHost('attacker.example:4000', 4000, { subdomainsOfLocalhost: true })).toBe(false);
    expect(isLoopbackHost('127.0.0.1:5555', 'any')).toBe(true);
    expect(isLoopbackHost('attacker.example:5555', 'any')).toBe(false);
  });
});

describe('every local server that serves data refuses a foreign Host', () => {
  it('the webhook API and its /__local/status page', async () => {
    let invoked = 0;
    const api = await startHttpApi(
      async () => {
        invoked++;
        return { statusCode: 200, body: '{"received":true}' };
      },
      { extraRoutes: { '/__local/status': (_req, res) => res.end('{"published":["event contents"]}') } },
    );
    stops.push(api.stop);
    const status = `http://127.0.0.1:${api.port}/__local/status`;
    const refused = await get(status, `rebound.attacker.example:${api.port}`);
    expect(refused.status).toBe(403);
    expect(refused.body).not.toContain('event contents');
    expect(JSON.parse(refused.body).message).toContain('rebound.attacker.example');
    // A tunnel's Host gets the same 403, which names the opt-in.
    expect(JSON.parse(refused.body).message).toContain('npm run dev -- --public-url');
    expect((await get(status, `localhost:${api.port}`)).body).toContain('event contents');
    expect((await get(status, `127.0.0.1:${api.port}`)).status).toBe(200);
    // No Host at all: Node's HTTP/1.1 server answers 400 before any route runs.
    const hostless = await get(status, undefined);
    expect(hostless.status).toBe(400);
    expect(hostless.body).not.toContain('event contents');

    expect((await get(api.url, `evil.example:${api.port}`, { method: 'POST', body: '{}' })).status).toBe(403);
    expect(invoked).toBe(0);
    expect((await get(api.url, `127.0.0.1:${api.port}`, { method: 'POST', body: '{}' })).status).toBe(200);
    expect(invoked).toBe(1);
  });

  it('the Secrets Manager stand-in, which serves the signing secret', async () => {
    const secrets = await startSecretsManager({ s: 'whsec_do_not_leak' });
    stops.push(secrets.close);
    const port = new URL(secrets.endpoint).port;
    const call = (host: string) =>
      get(secrets.endpoint, host, {
        method: 'POST',
        headers: { 'x-amz-target': 'secretsmanager.GetSecretValue', 'content-type': 'application/x-amz-json-1.1' },
        body: '{"SecretId":"s"}',
      });
    const refused = await call(`attacker.example:${port}`);
    expect(refused.status).toBe(403);
    expect(refused.body).not.toContain('whsec_do_not_leak');
    expect(secrets.reads.get('s')).toBeUndefined();
    expect((await call(`127.0.0.1:${port}`)).body).toContain('whsec_do_not_leak');
  });

  it('the EventBridge stand-in and the sample media host', async () => {
    const bus = await startEventBridge();
    const sample = await startSampleMedia();
    stops.push(bus.close, sample.stop);
    const busPort = new URL(bus.endpoint).port;
    const put = (host: string) =>
      get(bus.endpoint, host, {
        method: 'POST',
        headers: { 'x-amz-target': 'AWSEvents.PutEvents' },
        body: '{"Entries":[{"Source":"s","DetailType":"t","Detail":"{}"}]}',
      });
    expect((await put(`attacker.example:${busPort}`)).status).toBe(403);
    expect(bus.published).toHaveLength(0);
    expect((await put(`localhost:${busPort}`)).status).toBe(200);
    expect(bus.published).toHaveLength(1);
    expect((await get(`${sample.origin}/x.jpg`, `attacker.example:${new URL(sample.origin).port}`)).status).toBe(403);
    expect((await get(`${sample.origin}/x.jpg`, sample.host)).status).toBe(200);
  });
});

describe('the local SQS and S3 (fauxqs), which hold payloads and media', () => {
  it('refuses a foreign Host and serves loopback ones', async () => {
    const sqsS3 = await startSqsS3();
    stops.push(sqsS3.stop);
    const port = new URL(sqsS3.endpoint).port;
    const list = (host: string) =>
      get(`${sqsS3.endpoint}/`, host, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'Action=ListQueues&Version=2012-11-05',
      });
    const refused = await list(`attacker.example:${port}`);
    expect(refused.status).toBe(403);
    expect(refused.body).toContain('refused');
    // Loopback names get fauxqs's own answer (this hand-made request is not a valid SQS call).
    for (const host of [`127.0.0.1:${port}`, `sqs.us-east-1.localhost:${port}`]) {
      const answered = await list(host);
      expect(answered.status, host).not.toBe(403);
      expect(answered.body, host).not.toContain('refused');
    }
    const sqs = new SQSClient({
      endpoint: sqsS3.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      useQueueUrlAsEndpoint: false,
    });
    await sqs.send(new CreateQueueCommand({ QueueName: 'host-check' }));
    expect((await sqs.send(new ListQueuesCommand({}))).QueueUrls?.some((u) => u.endsWith('/host-check'))).toBe(true);
  });

  it('refuses a web page: its form POSTs need no CORS and would reach the query APIs (SNS Subscribe and Publish into the queue)', async () => {
    const sqsS3 = await startSqsS3();
    stops.push(sqsS3.stop);
    const host = `127.0.0.1:${new URL(sqsS3.endpoint).port}`;
    const sns = (params: Record<string, string>, headers: Record<string, string>) =>
      get(`${sqsS3.endpoint}/`, host, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams(params).toString(),
      });
    for (const origin of ['https://attacker.example', 'null', `http://${host}`]) {
      const refused = await sns({ Action: 'CreateTopic', Name: 'from-a-page' }, { origin });
      expect(refused.status, origin).toBe(403);
      expect((JSON.parse(refused.body) as { message: string }).message).toBe(
        `Origin "${origin}" refused: this local AWS stand-in answers AWS SDK clients, never a web page`,
      );
    }
    // Without an Origin (an SDK, this test), fauxqs answers: no topic was made by the refused calls.
    const topics = await sns({ Action: 'ListTopics' }, {});
    expect(topics.status).toBe(200);
    expect(topics.body).not.toContain('from-a-page');
  });
});

// Both answer CORS for any origin on their own (dynalite always; DynamoDB Local's -cors defaults to *).
describe.each([
  ['dynalite', true],
  ['dynamodb-local', hasJava()],
] as const)('%s, behind the loopback guard', (engine, runs) => {
  it.skipIf(!runs)('refuses a web page (its preflight and its call) and a foreign Host; an SDK client is served', async () => {
    const db = await startDynamoDB(engine);
    expect(db.kind).toBe(engine === 'dynalite' ? 'dynalite' : 'DynamoDB Local');
    stops.push(db.stop);
    const host = `127.0.0.1:${new URL(db.endpoint).port}`;
    const call = (headers: Record<string, string>, method = 'POST') =>
      get(db.endpoint, headers.host ?? host, {
        method,
        headers: { 'x-amz-target': 'DynamoDB_20120810.ListTables', 'content-type': 'application/x-amz-json-1.0', ...headers },
        body: '{}',
      });
    const origin = 'https://attacker.example';
    const preflight = await call({ origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-amz-target' }, 'OPTIONS');
    expect(preflight.status).toBe(403);
    expect(preflight.body).toContain('refused');
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    expect((await call({ origin })).status).toBe(403);
    expect((await call({ origin: `http://${host}` })).status).toBe(403);
    const rebound = await call({ host: `attacker.example:${new URL(db.endpoint).port}` });
    expect(rebound).toMatchObject({ status: 403, body: expect.stringContaining('attacker.example') });
    expect((await call({ host: `localhost.attacker.example:${new URL(db.endpoint).port}` })).status).toBe(403);
    // Let through, DynamoDB itself answers (400: the call is not signed).
    expect(await call({ host: `localhost:${new URL(db.endpoint).port}` })).toMatchObject({
      status: 400,
      body: expect.stringMatching(/MissingAuthenticationToken|authentication/i),
    });
    const client = new DynamoDBClient({ endpoint: db.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    expect((await client.send(new ListTablesCommand({}))).TableNames).toEqual([]);
  });
});

describe('the other AWS stand-ins refuse a web page too', () => {
  it('Secrets Manager and EventBridge answer 403 to any Origin, before any operation', async () => {
    const secrets = await startSecretsManager({ s: 'whsec_do_not_leak' });
    const bus = await startEventBridge();
    stops.push(secrets.close, bus.close);
    const origin = 'https://attacker.example';
    const put = await get(bus.endpoint, `127.0.0.1:${new URL(bus.endpoint).port}`, {
      method: 'POST',
      headers: { origin, 'x-amz-target': 'AWSEvents.PutEvents' },
      body: '{"Entries":[{"Source":"s","DetailType":"t","Detail":"{}"}]}',
    });
    expect(put.status).toBe(403);
    expect(bus.published).toHaveLength(0);
    const read = await get(secrets.endpoint, `127.0.0.1:${new URL(secrets.endpoint).port}`, {
      method: 'POST',
      headers: { origin, 'x-amz-target': 'secretsmanager.GetSecretValue' },
      body: '{"SecretId":"s"}',
    });
    expect(read.status).toBe(403);
    expect(read.body).not.toContain('whsec_do_not_leak');
    expect(secrets.reads.get('s')).toBeUndefined();
  });
});

describe('writePrivateFile', () => {
  it('writes 0600, also over an existing file that was readable by others', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'facesign-private-'));
    const file = path.join(dir, 'runtime.json');
    writeFileSync(file, 'old', { mode: 0o644 });
    expect(statSync(file).mode & 0o777).toBe(0o644);
    writePrivateFile(file, '{"signingSecret":"whsec_x"}');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toBe('{"signingSecret":"whsec_x"}');
    writePrivateFile(path.join(dir, 'new.json'), 'x');
    expect(statSync(path.join(dir, 'new.json')).mode & 0o777).toBe(0o600);
  });
});
