import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { HandlerFunction } from '../contract/settings';

/** The `name` in our package.json: how the package root is recognised from wherever lib/ was loaded. */
const PACKAGE_NAME = 'facesign-webhooks';

/**
 * The root of this package: the nearest folder at or above `from` whose package.json is ours. In
 * the repository lib/ sits at `<root>/lib`, in the installed package at `<root>/dist/lib`; walking
 * up finds both without counting levels.
 */
export function packageRoot(from: string = __dirname): string {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === PACKAGE_NAME) return dir;
    if (path.dirname(dir) === dir) throw new Error(`found no package.json named ${PACKAGE_NAME} at or above ${from}`);
  }
}

/** Where a handler's pre-built bundle lives: `<package root>/dist/assets/<name>` (index.mjs, its chunks under chunks/, a source map each). */
export function handlerAssetDir(name: HandlerFunction, root: string = packageRoot()): string {
  return path.join(root, 'dist', 'assets', name);
}

/**
 * A handler's deployment code: its pre-built bundle, the same files the package ships, the local
 * runtime runs and the benchmarks measure. The construct never bundles (no esbuild, no Docker in a
 * user's app); in this repository `cdk synth` builds the bundles first (cdk.json `build`).
 */
export function handlerCode(name: HandlerFunction, root: string = packageRoot()): lambda.Code {
  const dir = handlerAssetDir(name, root);
  if (!existsSync(path.join(dir, 'index.mjs'))) {
    throw new Error(
      `the ${name} handler bundle is missing: no index.mjs in ${dir}. In the facesign-webhooks repository, build the bundles with \`npx tsx scripts/handler-bundles.ts\` (npx cdk synth and npm test do it for you); an installed package ships them, so reinstall it`,
    );
  }
  return lambda.Code.fromAsset(dir);
}
