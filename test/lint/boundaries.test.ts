import { ESLint } from 'eslint';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

// The layers of eslint.config.mjs, tried on code placed where each layer lives: a boundary that
// lets a forbidden import through fails here, and so does one that refuses an allowed import.
// Every way source names a module is tried (import, export … from, import(), require(),
// import = require(), typeof import()), in every extension a layer can hold.
const ROOT = path.resolve(__dirname, '..', '..');
const eslint = new ESLint({ cwd: ROOT });
const BOUNDARY_RULES = ['no-restricted-imports', 'no-restricted-syntax'];

async function importErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${code};\n`, { filePath: path.join(ROOT, file) });
  const parseErrors = result.messages.filter((m) => m.fatal);
  expect(parseErrors).toEqual([]);
  return result.messages.filter((m) => BOUNDARY_RULES.includes(m.ruleId ?? '')).map((m) => m.message);
}

describe('import boundaries', () => {
  it.each([
    ['lambda/processor/new.ts', "import x from '../../lib/facesign-webhooks'", 'handlers never import the construct'],
    ['lambda/verifier/new.ts', "import x from '../../local/runtime'", 'handlers never import the local runtime'],
    ['lambda/verifier/new.ts', "import x from 'aws-cdk-lib/aws-sqs'", 'handlers never import CDK'],
    ['contract/event.ts', "import x from '../lambda/shared/observability'", 'the contract imports nothing outside contract/'],
    ['contract/signature.ts', "import x from '@aws-sdk/client-s3'", 'the contract imports no package'],
    ['contract/new.ts', "import x from 'aws-cdk-lib'", 'the contract imports no package'],
    ['contract/new.ts', "import x from '@aws-lambda-powertools/logger'", 'the contract imports no package'],
    ['lib/new.ts', "import x from '../lambda/processor/media-archiver'", 'the construct uses only the contract'],
    ['lib/new.ts', "import x from '../lambda/shared/config'", 'the construct uses only the contract'],
    ['lib/new.ts', "import x from '@aws-lambda-powertools/logger'", 'the construct ships without Powertools'],
    ['lib/new.ts', "import x from 'esbuild'", 'the construct never bundles'],
    ['lib/new.ts', "import x from '../scripts/handler-bundles'", 'the construct never imports build scripts'],
    ['local/new.ts', "import x from '../test/support/bundles'", 'the local runtime never imports tests'],
    ['bench/new.ts', "import x from '../test/support/bundles'", 'benchmarks never import tests'],
    // A bare folder resolves to its index.ts.
    ['lambda/processor/new.ts', "import x from '../../lib'", 'handlers never import the construct'],
    ['lambda/processor/new.ts', "import x from '../../lib/'", 'handlers never import the construct'],
    ['lambda/processor/new.ts', "export * from '../../lib'", 'handlers never import the construct'],
    ['lambda/verifier/new.ts', "import x from '../../local'", 'handlers never import the local runtime'],
    ['lambda/verifier/new.ts', "import x from '../../bench'", 'handlers never import benchmarks'],
    ['lambda/verifier/new.ts', "import x from '../../test'", 'handlers never import tests'],
    ['lambda/processor/new.ts', "import x from '../../scripts/handler-bundles'", 'handlers never import build scripts'],
    ['lib/new.ts', "import x from '../lambda'", 'the construct uses only the contract'],
    ['lib/new.ts', "import x from '../scripts'", 'the construct never imports build scripts'],
    ['bin/new.ts', "import x from '../local'", 'the construct never imports the local runtime'],
    ['local/new.ts', "import x from '../bench'", 'the local runtime never imports benchmarks'],
    ['bench/new.ts', "import x from '../test'", 'benchmarks never import tests'],
    // The package's own name resolves to the construct (package.json "exports": ".").
    ['lambda/processor/new.ts', "import x from 'facesign-webhooks'", 'handlers never import the construct'],
    // contract/: './' first does not keep a path inside contract/, and '..' alone leaves it.
    ['contract/new.ts', "import x from './../lib/index'", 'the contract imports nothing outside contract/'],
    ['contract/new.ts', "import x from './x/../../lib'", 'the contract imports nothing outside contract/'],
    ['contract/new.ts', "import x from '..'", 'the contract imports nothing outside contract/'],
    ['contract/new.ts', "import x from '/work/lib/index'", 'the contract imports no package'],
    // Dynamic imports, require() and TypeScript's import forms meet the same boundaries, with the same message.
    ['lambda/processor/new.ts', "export const x = import('../../lib/facesign-webhooks')", 'handlers never import the construct'],
    ['lambda/processor/new.ts', 'export const x = import(`../../lib`)', 'handlers never import the construct'],
    ['lambda/processor/new.ts', "export const x = require('../../lib')", 'handlers never import the construct'],
    ['lambda/processor/new.ts', "export type X = typeof import('../../lib')", 'handlers never import the construct'],
    ['lambda/verifier/new.ts', "import x = require('aws-cdk-lib'); export { x }", 'handlers never import CDK'],
    ['lambda/verifier/new.ts', "export const x = import('constructs')", 'handlers never import CDK'],
    ['contract/new.ts', "export const x = import('aws-cdk-lib')", 'the contract imports no package'],
    ['contract/new.ts', "export const x = import('./../lib/index')", 'the contract imports nothing outside contract/'],
    ['lib/new.ts', "export const x = import('esbuild')", 'the construct never bundles'],
    ['lib/new.ts', "export const x = import('@aws-sdk/client-s3')", 'the construct ships without the AWS SDK'],
    ['lib/new.ts', "export const x = import('../lambda/shared/config')", 'the construct uses only the contract'],
    ['local/new.ts', "export const x = import('../test/support/bundles')", 'the local runtime never imports tests'],
    ['bench/new.ts', "export const x = import('../test/support/bundles')", 'benchmarks never import tests'],
    // Every extension a layer can hold: .mjs, .cjs, .mts, .js.
    ['lambda/processor/new.mjs', "import x from '../../lib/facesign-webhooks.js'", 'handlers never import the construct'],
    ['lambda/processor/new.cjs', "module.exports = require('aws-cdk-lib')", 'handlers never import CDK'],
    ['lambda/processor/new.mts', "import x from '../../local/runtime'", 'handlers never import the local runtime'],
    ['contract/new.mjs', "import x from 'aws-cdk-lib'", 'the contract imports no package'],
    ['contract/new.js', "import x from '../lib/index.js'", 'the contract imports nothing outside contract/'],
    ['lib/new.mts', "import x from '../scripts/handler-bundles'", 'the construct never imports build scripts'],
    ['local/lambda-worker.mjs', "import x from '../test/support/invoke-bundle.mjs'", 'the local runtime never imports tests'],
    ['local/new.mjs', "export const x = import('../bench/burst.ts')", 'the local runtime never imports benchmarks'],
    ['bench/new.mjs', "export const x = import('../test/support/bundles')", 'benchmarks never import tests'],
    ['bench/new.cjs', "module.exports = require('../test')", 'benchmarks never import tests'],
  ])('%s may not: %s', async (file, code, why) => {
    expect((await importErrors(file, code)).join('\n')).toContain(why);
  });

  it.each([
    ['lib/new.ts', "import x from '../contract/event'"],
    ['lib/new.ts', "import x from '../contract/settings'"],
    ['lambda/processor/new.ts', "import x from '../shared/observability'"],
    ['lambda/processor/new.ts', "import x from '../../contract/event'"],
    ['contract/event.ts', "import x from './metric-names'"],
    ['contract/signature.ts', "import x from 'node:crypto'"],
    ['local/new.ts', "import x from '../scripts/handler-bundles'"],
    ['bench/new.ts', "import x from '../scripts/handler-bundles'"],
    ['test/lib/new.test.ts', "import x from '../../lambda/processor/media-archiver'"],
    // A folder's name inside a package name is not that folder.
    ['lib/new.ts', "import x from 'aws-cdk-lib/aws-lambda'"],
    ['lib/new.ts', "import x from '../contract'"],
    ['bin/new.ts', "import x from '../lib'"],
    ['lambda/processor/new.ts', "import x from '@aws-sdk/lib-storage'"],
    ['lambda/processor/new.ts', "import x from '@aws-lambda-powertools/logger'"],
    ['lambda/processor/new.ts', "import type { SQSEvent } from 'aws-lambda'"],
    ['lambda/processor/new.ts', "import x from '../shared'"],
    ['contract/new.ts', "export const x = import('./settings')"],
    ['contract/new.ts', "export const x = import('node:crypto')"],
    ['contract/new.ts', "import x from './x/y'"],
    // Dynamic imports allowed as static ones are; one computed at run time (a built bundle) is not checked.
    ['lambda/processor/new.ts', "export const x = import('@aws-sdk/client-s3')"],
    ['local/new.ts', "export const x = import('../lib')"],
    ['local/lambda-worker.mjs', "import { pathToFileURL } from 'node:url'; export const x = import(pathToFileURL(process.argv[2]).href)"],
    ['bench/new.ts', "export const x = import('../lambda/verifier/index.js')"],
    ['bench/new.mjs', "export const x = import('../local/runtime')"],
    ['bench/new.cjs', "module.exports = require('../scripts/handler-bundles')"],
  ])('%s may: %s', async (file, code) => {
    expect(await importErrors(file, code)).toEqual([]);
  });

  it('refuses an eslint-disable comment that gives no reason', async () => {
    const [result] = await eslint.lintText('// eslint-disable-next-line no-console\nconsole.log(1);\n', { filePath: path.join(ROOT, 'local/new.ts') });
    expect(result.messages.map((m) => m.ruleId)).toContain('@eslint-community/eslint-comments/require-description');
  });
});
