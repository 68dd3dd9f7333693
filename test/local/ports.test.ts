import { createServer } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { listenOnLoopback, waitForHttp, type LoopbackListener } from '../../local/services/ports';

// DynamoDB Local is started on a port picked before the JVM binds it; another local server may
// take that port first. Readiness must then mean "DynamoDB answered", not "something answered".
describe('waitForHttp', () => {
  let listener: LoopbackListener | undefined;
  afterEach(async () => listener?.close());

  const serve = async (body: string) => {
    listener = await listenOnLoopback(createServer((_req, res) => res.end(body)));
    return `http://127.0.0.1:${listener.port}`;
  };

  it("does not take another server's answer for the one it waits for", async () => {
    const url = await serve('<ErrorResponse>fauxqs: Unknown action</ErrorResponse>');
    let exited = false;
    setTimeout(() => (exited = true), 300);
    await expect(
      waitForHttp(
        url,
        5000,
        () => exited,
        (body) => /dynamodb/i.test(body),
      ),
    ).rejects.toThrow('the process exited');
  });

  it('returns once the expected server answers', async () => {
    const url = await serve('{"__type":"com.amazonaws.dynamodb.v20120810#MissingAuthenticationToken"}');
    await expect(
      waitForHttp(
        url,
        5000,
        () => false,
        (body) => /dynamodb/i.test(body),
      ),
    ).resolves.toBeUndefined();
  });
});
