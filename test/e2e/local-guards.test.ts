/**
 * The running local runtime's DynamoDB (DynamoDB Local with Java, dynalite without) sits behind
 * the same loopback guard as the webhook API: a web page reaching it by DNS rebinding (a foreign
 * Host) or by CORS (any Origin) gets 403 and no CORS grant, while the processor's SDK client is
 * served. The guard itself: local/services/loopback-host.ts and local/dynamodb-local/.
 */
import { request, type IncomingHttpHeaders } from 'node:http';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { ctx } from './helpers';

/** One request with an exact Host header (fetch does not let a caller choose it). */
function send(url: string, headers: Record<string, string>, method = 'POST', body = '{}') {
  return new Promise<{ status: number; body: string; headers: IncomingHttpHeaders }>((resolve, reject) => {
    const u = new URL(url);
    const req = request({ host: '127.0.0.1', port: u.port, path: u.pathname, method, setHost: false, headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const ORIGIN = 'https://attacker.example';

describe.each([
  ['the webhook API', () => ctx.webhookUrl],
  ['the local DynamoDB', () => ctx.dynamodbEndpoint],
])('%s refuses what a web page can send', (_name, url) => {
  const port = () => new URL(url()).port;
  const ddb = { 'x-amz-target': 'DynamoDB_20120810.ListTables', 'content-type': 'application/x-amz-json-1.0' };

  it('a DNS-rebound Host: 403, naming the Host', async () => {
    const answer = await send(url(), { ...ddb, host: `attacker.example:${port()}` });
    expect(answer.status).toBe(403);
    expect(answer.body).toContain('attacker.example');
  });

  it('a CORS preflight and a call from a foreign origin: 403, no Access-Control-Allow-Origin', async () => {
    const host = `127.0.0.1:${port()}`;
    const preflight = await send(
      url(),
      { host, origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-amz-target' },
      'OPTIONS',
      '',
    );
    expect(preflight.status).toBe(403);
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    const call = await send(url(), { ...ddb, host, origin: ORIGIN });
    expect(call.status).toBe(403);
    expect(call.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('the local DynamoDB still serves the SDK', () => {
  it(`answers an SDK client (no Origin, loopback Host) with the runtime's tables`, async () => {
    const client = new DynamoDBClient({ endpoint: ctx.dynamodbEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    expect((await client.send(new ListTablesCommand({}))).TableNames?.length).toBeGreaterThan(0);
  });
});
