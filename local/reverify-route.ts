/**
 * The local runtime's stand-in for invoking the reverifier Lambda: `POST /__local/reverify` runs the
 * reverifier bundle once and answers its report, which is what `npm run reverify -- --local` calls.
 * Loopback only, like every local route.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ReverifyReport } from '../contract/held-delivery';

/** The route's path. */
export const LOCAL_REVERIFY_PATH = '/__local/reverify';

/** A route that answers POST with one invocation's report (500 with the error when it fails), and 405 to anything else. */
export function reverifyRoute(invoke: () => Promise<ReverifyReport>): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const answer = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body, null, 2));
    };
    if (req.method !== 'POST') return answer(405, { message: `POST ${LOCAL_REVERIFY_PATH} to re-verify held deliveries` });
    req.resume();
    invoke().then(
      (report) => answer(200, report),
      (error: Error) => answer(500, { message: `the reverifier failed: ${error.message}` }),
    );
  };
}
