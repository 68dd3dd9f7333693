// One local Lambda execution environment: a Node process that imports a handler bundle on its
// first invocation (the cold start) and then serves invocations one at a time, like Lambda.
import { pathToFileURL } from 'node:url';

let handlerPromise;
let invocations = 0;

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
  try {
    handlerPromise ??= import(pathToFileURL(bundle).href).then((mod) => mod.handler);
    const handler = await handlerPromise;
    const result = await handler(event, context);
    process.send({ id, ok: true, result: result ?? null });
  } catch (error) {
    process.send({ id, ok: false, error: { name: error?.name ?? 'Error', message: String(error?.message ?? error) } });
  }
});
