// @ts-check
// Lint rules, and the layers enforced as import boundaries (STYLE.md, practice 13):
//   contract/ what the construct, the handlers and the local runtime agree on: imports nothing but itself and node:
//   lambda/   the handlers: never the construct (lib/), the local runtime, benches or tests, nor CDK
//   lib/      the construct: the contract, never the handlers' code; no AWS SDK or Powertools (they ship inside the bundles);
//             no esbuild or scripts/ (it deploys the bundles scripts/handler-bundles.ts built)
//   local/    the local runtime: never tests or benches
//   bench/    never tests
import comments from '@eslint-community/eslint-plugin-eslint-comments/configs';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const CONTRACT = ['contract/**/*.ts'];

/** A `no-restricted-imports` rule from [pattern, why] pairs. */
const forbid = (...rules) => ({
  'no-restricted-imports': ['error', { patterns: rules.map(([group, message]) => ({ group: [group], message })) }],
});

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'cdk.out/', '.cache/', '.facesign-local/', 'test-results/', 'examples/**/node_modules/', '**/*.d.ts'] },
  ...tseslint.configs.recommended,
  comments.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // Every eslint-disable says why.
      '@eslint-community/eslint-comments/require-description': ['error', { ignore: [] }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['lambda/**/*.ts'],
    rules: forbid(
      ['**/lib/**', 'handlers never import the construct'],
      ['**/local/**', 'handlers never import the local runtime'],
      ['**/bench/**', 'handlers never import benchmarks'],
      ['**/test/**', 'handlers never import tests'],
      ['aws-cdk-lib', 'handlers never import CDK'],
      ['aws-cdk-lib/*', 'handlers never import CDK'],
      ['constructs', 'handlers never import CDK'],
    ),
  },
  {
    files: CONTRACT,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['../*'], message: 'the contract imports nothing outside contract/' },
            { regex: '^(?!node:|\\./)', message: 'the contract imports no package (no AWS SDK, Powertools or CDK): only itself and node:' },
          ],
        },
      ],
    },
  },
  {
    files: ['lib/**/*.ts', 'bin/**/*.ts'],
    rules: forbid(
      ['**/lambda/**', 'the construct uses only the contract (contract/), never the handlers or their shared code'],
      ['**/local/**', 'the construct never imports the local runtime'],
      ['**/bench/**', 'the construct never imports benchmarks'],
      ['**/test/**', 'the construct never imports tests'],
      ['**/scripts/**', 'the construct never imports build scripts'],
      ['esbuild', 'the construct never bundles: it deploys the pre-built bundles (esbuild is a devDependency)'],
      ['@aws-sdk/*', 'the construct ships without the AWS SDK (it is inside the bundles)'],
      ['@aws-lambda-powertools/*', 'the construct ships without Powertools (it is inside the bundles)'],
    ),
  },
  {
    files: ['local/**/*.ts'],
    rules: forbid(['**/test/**', 'the local runtime never imports tests'], ['**/bench/**', 'the local runtime never imports benchmarks']),
  },
  {
    files: ['bench/**/*.ts', 'bench/**/*.mjs'],
    rules: forbid(['**/test/**', 'benchmarks never import tests']),
  },
);
