/**
 * The one way the handlers are bundled. What this writes to `dist/assets/<name>` is what the
 * package ships, what `cdk synth`/`cdk deploy` in this repository deploys (cdk.json `build` runs
 * this file first), what `npm run dev` and the end-to-end tests run and what the benchmarks
 * measure. Run directly: `npx tsx scripts/handler-bundles.ts`.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { build, type BuildOptions } from 'esbuild';
import { HANDLER_FUNCTIONS, type HandlerFunction } from '../contract/settings';
import { handlerAssetDir, packageRoot } from '../lib/handler-code';

/**
 * The esbuild settings of every bundle: ESM, minified, with source maps, the AWS SDK v3 bundled in
 * rather than taken from the runtime (a pinned, tested SDK and a faster cold start).
 */
export const BUNDLE_SETTINGS = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  minify: true,
  sourcemap: true,
  sourcesContent: false,
  external: [],
  mainFields: ['module', 'main'],
  // Some bundled CommonJS code calls require() for Node built-ins; ESM output needs it defined.
  banner: {
    js: "import{createRequire as __facesignCreateRequire}from'node:module';const require=__facesignCreateRequire(import.meta.url);",
  },
  logLevel: 'silent',
} as const satisfies BuildOptions;

/** A handler's entry file. */
export function handlerEntry(name: HandlerFunction): string {
  return path.join(packageRoot(), 'lambda', name, 'index.ts');
}

/**
 * Bundles any entry with the handlers' settings into `outfile` (and `outfile.map`); the integration
 * test's driver and the benchmarks' floors use it. Each file is written to a temporary name and
 * renamed into place, so a concurrent build or a synth reading the folder never sees half a file.
 */
export async function bundleEntry(entry: string, outfile: string): Promise<string> {
  const result = await build({ ...BUNDLE_SETTINGS, entryPoints: [entry], outfile, write: false });
  mkdirSync(path.dirname(outfile), { recursive: true });
  // The map first: once index.mjs is renamed into place, its map is already there.
  const files = [...result.outputFiles].sort((a, b) => Number(b.path.endsWith('.map')) - Number(a.path.endsWith('.map')));
  for (const file of files) {
    const temp = `${file.path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    writeFileSync(temp, file.contents);
    renameSync(temp, file.path);
  }
  return outfile;
}

/** Builds every handler into `<package root>/dist/assets/<name>/index.mjs` and returns those paths. */
export async function buildHandlerBundles(): Promise<Record<HandlerFunction, string>> {
  const built = await Promise.all(HANDLER_FUNCTIONS.map((name) => bundleEntry(handlerEntry(name), path.join(handlerAssetDir(name), 'index.mjs'))));
  return Object.fromEntries(HANDLER_FUNCTIONS.map((name, i) => [name, built[i]])) as Record<HandlerFunction, string>;
}

if (require.main === module) {
  buildHandlerBundles().then(
    (bundles) =>
      console.error(
        `built ${Object.values(bundles)
          .map((b) => path.relative(process.cwd(), b))
          .join(', ')}`,
      ),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
