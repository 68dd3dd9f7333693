import { ESLint } from 'eslint';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

// The layers of eslint.config.mjs, tried on code placed where each layer lives: a boundary that
// lets a forbidden import through fails here, and so does one that refuses an allowed import.
const ROOT = path.resolve(__dirname, '..', '..');
const eslint = new ESLint({ cwd: ROOT });

async function importErrors(file: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(`import x from '${source}';\nexport const y = x;\n`, { filePath: path.join(ROOT, file) });
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('import boundaries', () => {
  it.each([
    ['lambda/processor/new.ts', '../../lib/facesign-webhooks', 'handlers never import the construct'],
    ['lambda/verifier/new.ts', '../../local/runtime', 'handlers never import the local runtime'],
    ['lambda/verifier/new.ts', 'aws-cdk-lib/aws-sqs', 'handlers never import CDK'],
    ['contract/event.ts', '../lambda/shared/observability', 'the contract imports nothing outside contract/'],
    ['contract/signature.ts', '@aws-sdk/client-s3', 'the contract imports no package'],
    ['contract/new.ts', 'aws-cdk-lib', 'the contract imports no package'],
    ['contract/new.ts', '@aws-lambda-powertools/logger', 'the contract imports no package'],
    ['lib/new.ts', '../lambda/processor/media-archiver', 'the construct uses only the contract'],
    ['lib/new.ts', '../lambda/shared/config', 'the construct uses only the contract'],
    ['lib/new.ts', '@aws-lambda-powertools/logger', 'the construct ships without Powertools'],
    ['lib/new.ts', 'esbuild', 'the construct never bundles'],
    ['lib/new.ts', '../scripts/handler-bundles', 'the construct never imports build scripts'],
    ['local/new.ts', '../test/support/bundles', 'the local runtime never imports tests'],
    ['bench/new.ts', '../test/support/bundles', 'benchmarks never import tests'],
  ])('%s may not import %s', async (file, source, why) => {
    expect((await importErrors(file, source)).join('\n')).toContain(why);
  });

  it.each([
    ['lib/new.ts', '../contract/event'],
    ['lib/new.ts', '../contract/settings'],
    ['lambda/processor/new.ts', '../shared/observability'],
    ['lambda/processor/new.ts', '../../contract/event'],
    ['contract/event.ts', './metric-names'],
    ['contract/signature.ts', 'node:crypto'],
    ['local/new.ts', '../scripts/handler-bundles'],
    ['bench/new.ts', '../scripts/handler-bundles'],
    ['test/lib/new.test.ts', '../../lambda/processor/media-archiver'],
  ])('%s may import %s', async (file, source) => {
    expect(await importErrors(file, source)).toEqual([]);
  });

  it('refuses an eslint-disable comment that gives no reason', async () => {
    const [result] = await eslint.lintText('// eslint-disable-next-line no-console\nconsole.log(1);\n', { filePath: path.join(ROOT, 'local/new.ts') });
    expect(result.messages.map((m) => m.ruleId)).toContain('@eslint-community/eslint-comments/require-description');
  });
});
