// One local Lambda execution environment: a Node process that imports a handler bundle on its
// first invocation (the cold start) and then serves invocations one at a time, like Lambda.
// If the bundle fails to load, the invocation fails and the process exits, so the next invocation
// gets a fresh environment that tries the init again, as Lambda does after an init error.
// If the runtime that started it goes away (the IPC channel closes), it exits too: no orphans.
import { pathToFileURL } from 'node:url';

let handlerPromise;
let invocations = 0;

const exitOnDisconnect = () => process.exit(0);
process.on('disconnect', exitOnDisconnect);

const reply = (message) =>
  new Promise((resolve) => {
    if (!process.connected) return resolve();
    process.send(message, () => resolve());
  });

process.on('message', async (message) => {
  if (message?.type !== 'invoke') return;
  const { id, event, bundle, functionName, timeoutMs, memoryMb } = message;
  const deadline = Date.now() + timeoutMs;
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: String(memoryMb),
    awsRequestId: `${functionName}-${process.pid}-${++invocations}`,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/${process.pid}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done() {},
    fail() {},
    succeed() {},
  };
  let handler;
  try {
    handlerPromise ??= import(pathToFileURL(bundle).href).then((mod) => {
      if (typeof mod.handler !== 'function') throw new Error(`${bundle} does not export a function named handler`);
      return mod.handler;
    });
    handler = await handlerPromise;
  } catch (error) {
    await reply({ id, ok: false, fatal: true, error: { name: 'Runtime.InitError', message: String(error?.message ?? error) } });
    // Closing the channel first lets the reply arrive before the exit is seen.
    process.exitCode = 1;
    process.off('disconnect', exitOnDisconnect);
    process.disconnect();
    setTimeout(() => process.exit(1), 1000).unref();
    return;
  }
  try {
    const result = await handler(event, context);
    await reply({ id, ok: true, result: result ?? null });
  } catch (error) {
    await reply({ id, ok: false, error: { name: error?.name ?? 'Error', message: String(error?.message ?? error) } });
  }
});
