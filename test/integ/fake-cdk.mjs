// A stand-in for the cdk CLI in test/integ/runner.test.ts: synth writes a two-step assertion
// template, deploy prints CloudFormation event lines and writes the outputs file, destroy records
// the call. FAKE_RESULT, FAKE_DEPLOY_EXIT and FAKE_DESTROY_EXIT choose what happens.
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

const args = process.argv.slice(2);
const command = args[0];
const option = (name) => args[args.indexOf(name) + 1];
const outdir = option('--output');
appendFileSync(process.env.FAKE_CALLS, `${command}\n`);

if (command === 'synth') {
  mkdirSync(outdir, { recursive: true });
  writeFileSync(
    path.join(outdir, 'FaceSignWebhooksIntegAssertions.template.json'),
    JSON.stringify({
      Metadata: {
        'facesign:integ-assertions': [
          { label: 'posting', logicalId: 'PostA' },
          { label: 'answers are right', logicalId: 'CheckA', resultOutput: 'AssertionResultsCheckA' },
        ],
      },
      Resources: {},
      Outputs: { AssertionResultsCheckA: { Value: 'x' } },
    }),
  );
  process.exit(0);
}
if (command === 'deploy') {
  const line = (status, id) => `FaceSignWebhooksIntegAssertions | 3/9 | 10:00:00 AM | ${status} | Custom::DeployAssert@X | ${id}/Default (${id})`;
  console.error(line('CREATE_IN_PROGRESS', 'PostA'));
  console.error(line('CREATE_COMPLETE', 'PostA'));
  console.error(line('CREATE_IN_PROGRESS', 'CheckA'));
  const failed = process.env.FAKE_DEPLOY_EXIT && process.env.FAKE_DEPLOY_EXIT !== '0';
  console.error(line(failed ? 'CREATE_FAILED' : 'CREATE_COMPLETE', 'CheckA'));
  if (!failed) {
    writeFileSync(
      option('--outputs-file'),
      JSON.stringify({
        FaceSignWebhooksInteg: { AccessLogsBucketName: 'logs', Region: 'eu-west-1' },
        FaceSignWebhooksIntegAssertions: { AssertionResultsCheckA: process.env.FAKE_RESULT ?? '{"status":"success"}' },
      }),
    );
  }
  process.exit(Number(process.env.FAKE_DEPLOY_EXIT ?? 0));
}
if (command === 'destroy') process.exit(Number(process.env.FAKE_DESTROY_EXIT ?? 0));
process.exit(2);
