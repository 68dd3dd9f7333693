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
export function reverifyRoute(invoke: (startAfter?: string) => Promise<ReverifyReport>): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const answer = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body, null, 2));
    };
    if (req.method !== 'POST') return answer(405, { message: `POST ${LOCAL_REVERIFY_PATH} to re-verify held deliveries` });
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      // The body is `{"startAfter": …}` to continue after a key (npm run reverify sends it), or empty.
      let startAfter: string | undefined;
      try {
        const value = (JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { startAfter?: unknown }).startAfter;
        startAfter = typeof value === 'string' ? value : undefined;
      } catch {
        return answer(400, { message: 'the body must be JSON: {} or {"startAfter": "<a report\'s resumeAfter>"}' });
      }
      invoke(startAfter).then(
        (report) => answer(200, report),
        (error: Error) => answer(500, { message: `the reverifier failed: ${error.message}` }),
      );
    });
  };
}
