// A fresh Node process: import one handler bundle and serve one invocation, as a Lambda cold
// start does. Prints {importMs, invokeMs, sinceProcessStartMs} as JSON. The parent passes the time
// the invocation has left (plain JavaScript here, so it cannot read the settings table itself).
import { pathToFileURL } from 'node:url';

const [, , bundle, kind, remainingMs] = process.argv;
if (!(Number(remainingMs) > 0)) throw new Error(`usage: cold-start-child.mjs <bundle> <kind> <remaining ms>, got ${JSON.stringify(remainingMs)}`);
const t0 = performance.now();
const { handler } = await import(pathToFileURL(bundle).href);
const t1 = performance.now();
const context = { functionName: 'bench', awsRequestId: 'cold', getRemainingTimeInMillis: () => Number(remainingMs) };
const event =
  kind === 'verifier'
    ? { version: '2.0', headers: {}, body: '{}', isBase64Encoded: false, requestContext: {} } // answered 401 before any AWS call
    : kind === 'processor'
      ? { Records: [] }
      : {};
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = () => true;
try {
  await handler(event, context);
} catch {
  // An empty batch may be refused; the invocation still ran.
}
const t2 = performance.now();
process.stdout.write = write;
process.stdout.write(`${JSON.stringify({ importMs: t1 - t0, invokeMs: t2 - t1, sinceProcessStartMs: t2 })}\n`);
