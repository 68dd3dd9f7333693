/**
 * The local reverify route: POST runs one invocation, continuing after the key the body names (what
 * `npm run reverify -- --local` sends after a round that ran out of time); a body that is not JSON is
 * refused before anything runs; anything but POST is a 405.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { ReverifyReport } from '../../contract/held-delivery';
import { LOCAL_REVERIFY_PATH, reverifyRoute } from '../../local/reverify-route';

const report: ReverifyReport = { secretConfigured: true, requeued: [], stillUnverified: 0, refused: [], expired: 0, unreadable: 0, failed: [], complete: true };

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

async function serve(calls: Array<string | undefined>): Promise<string> {
  server = createServer(reverifyRoute(async (startAfter) => (calls.push(startAfter), report)));
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server!.address() as AddressInfo).port}${LOCAL_REVERIFY_PATH}`;
}

describe('reverifyRoute', () => {
  it('passes on where to continue, and runs from the start without a body', async () => {
    const calls: Array<string | undefined> = [];
    const url = await serve(calls);
    const resumed = await fetch(url, { method: 'POST', body: JSON.stringify({ startAfter: 'held/2026/12/06/1-a.json' }) });
    expect(resumed.status).toBe(200);
    expect(await resumed.json()).toEqual(report);
    expect((await fetch(url, { method: 'POST' })).status).toBe(200);
    expect(calls).toEqual(['held/2026/12/06/1-a.json', undefined]);
  });

  it('refuses a body that is not JSON without running, and answers 405 to a GET', async () => {
    const calls: Array<string | undefined> = [];
    const url = await serve(calls);
    const bad = await fetch(url, { method: 'POST', body: 'startAfter=held/x' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toContain('startAfter');
    expect((await fetch(url)).status).toBe(405);
    expect(calls).toEqual([]);
  });
});
