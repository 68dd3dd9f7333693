// @ts-check
// Lint rules, and the layers enforced as import boundaries (CONTRIBUTING.md "Layout"), on static and dynamic imports
// (import(), require()) in every source extension:
//   contract/ what the construct, the handlers and the local runtime agree on: imports nothing but itself and node:
//   lambda/   the handlers: never the construct (lib/), the local runtime, benches or tests, nor CDK
//   lib/      the construct: the contract, never the handlers' code; no AWS SDK or Powertools (they ship inside the bundles);
//             no esbuild or scripts/ (it deploys the bundles scripts/handler-bundles.ts built)
//   local/    the local runtime: never tests or benches
//   bench/    never tests
import comments from '@eslint-community/eslint-plugin-eslint-comments/configs';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** Every file a layer can hold: its boundaries hold whatever the file's extension. */
const SOURCE = '{ts,mts,cts,js,mjs,cjs}';
/** The files under each of these folders. */
const inside = (...folders) => folders.map((folder) => `${folder}/**/*.${SOURCE}`);

/** A specifier naming this folder or anything in it ('../../lib', '../../lib/index', '../lib/'): a bare folder resolves to its index. */
const folder = (name) => `(^|/)${name}(/|$)`;
/** A specifier naming this package or anything in it ('aws-cdk-lib', 'aws-cdk-lib/aws-sqs'). */
const pkg = (name) => `^${name}(/|$)`;

/**
 * The places a module is named in source, each as an esquery selector given a specifier regex: the static forms
 * (`import`, `export … from`, `import x = require()`) are no-restricted-imports' own; these are the rest, so
 * `import('../../lib')`, `require('aws-cdk-lib')` or `typeof import('../../lib')` cannot step around a boundary.
 * A specifier computed at run time (a built bundle's path) cannot be checked here.
 */
const DYNAMIC = [
  (re) => `ImportExpression[source.value=${re}]`,
  (re) => `ImportExpression[source.type="TemplateLiteral"][source.expressions.length=0][source.quasis.0.value.cooked=${re}]`,
  (re) => `CallExpression[callee.type="Identifier"][callee.name="require"][arguments.0.value=${re}]`,
  (re) => `TSImportType[source.value=${re}]`,
];
/** A regex as an esquery literal: '/' escaped as it ends the literal; case-insensitive like no-restricted-imports' default. */
const esqueryRegex = (regex) => `/${regex.replaceAll('/', '\\/')}/i`;

/**
 * The import boundary of a layer from [specifier regex, why] pairs, for static and dynamic imports alike with the
 * same message. Both rules take their options whole from the last config that sets them, so only these boundary
 * configs (whose file sets do not overlap) may set them.
 */
const forbid = (...rules) => ({
  'no-restricted-imports': ['error', { patterns: rules.map(([regex, message]) => ({ regex, message })) }],
  'no-restricted-syntax': ['error', ...rules.flatMap(([regex, message]) => DYNAMIC.map((at) => ({ selector: at(esqueryRegex(regex)), message })))],
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
    // The inspector's page script runs in the browser, not in Node.
    files: ['local/inspector/page/**'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: inside('lambda'),
    rules: forbid(
      [folder('lib'), 'handlers never import the construct'],
      ['^facesign-webhooks$', 'handlers never import the construct'],
      [folder('local'), 'handlers never import the local runtime'],
      [folder('bench'), 'handlers never import benchmarks'],
      [folder('test'), 'handlers never import tests'],
      [folder('scripts'), 'handlers never import build scripts'],
      [pkg('aws-cdk-lib'), 'handlers never import CDK'],
      [pkg('constructs'), 'handlers never import CDK'],
    ),
  },
  {
    files: inside('contract'),
    // Only './x' and node:x: a '..' anywhere may leave contract/ ('./../lib'), and anything else is a package.
    rules: forbid(
      ['(^|/)\\.\\.(/|$)', 'the contract imports nothing outside contract/'],
      ['^(?!node:|\\.\\.?(/|$))', 'the contract imports no package (no AWS SDK, Powertools or CDK): only itself and node:'],
    ),
  },
  {
    files: inside('lib', 'bin'),
    rules: forbid(
      [folder('lambda'), 'the construct uses only the contract (contract/), never the handlers or their shared code'],
      [folder('local'), 'the construct never imports the local runtime'],
      [folder('bench'), 'the construct never imports benchmarks'],
      [folder('test'), 'the construct never imports tests'],
      [folder('scripts'), 'the construct never imports build scripts'],
      [pkg('esbuild'), 'the construct never bundles: it deploys the pre-built bundles (esbuild is a devDependency)'],
      ['^@aws-sdk/', 'the construct ships without the AWS SDK (it is inside the bundles)'],
      ['^@aws-lambda-powertools/', 'the construct ships without Powertools (it is inside the bundles)'],
    ),
  },
  {
    files: inside('local'),
    rules: forbid([folder('test'), 'the local runtime never imports tests'], [folder('bench'), 'the local runtime never imports benchmarks']),
  },
  {
    files: inside('bench'),
    rules: forbid([folder('test'), 'benchmarks never import tests']),
  },
);
