// Runs a deployed handler bundle in this fresh Node process, as Lambda would: import the module,
// call `handler` with each event from stdin, print the results as JSON on stdout.
import { pathToFileURL } from 'node:url';

const [, , bundlePath] = process.argv;
let input = '';
for await (const chunk of process.stdin) input += chunk;
const { events } = JSON.parse(input);
const mod = await import(pathToFileURL(bundlePath).href);
const results = [];
for (const event of events) {
  const context = {
    awsRequestId: `local-${results.length}`,
    functionName: 'bundle-test',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:bundle-test',
    memoryLimitInMB: '512',
    getRemainingTimeInMillis: () => 30_000,
  };
  results.push(await mod.handler(event, context));
}
process.stdout.write(`\n@@RESULTS@@${JSON.stringify(results)}`);
