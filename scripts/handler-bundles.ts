/**
 * The one way the handlers are bundled. What this writes to `dist/assets/<name>` is what the
 * package ships, what `cdk synth`/`cdk deploy` in this repository deploys (cdk.json `build` runs
 * this file first), what `npm run dev` and the end-to-end tests run and what the benchmarks
 * measure. Run directly: `npx tsx scripts/handler-bundles.ts`.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { build, type BuildOptions } from 'esbuild';
import { HANDLER_FUNCTIONS, type HandlerFunction } from '../contract/settings';
import { handlerAssetDir, packageRoot } from '../lib/handler-code';

/**
 * The esbuild settings of every bundle: ESM, minified, with source maps, the AWS SDK v3 bundled in
 * rather than taken from the runtime (a pinned, tested SDK and a faster cold start). Code split: a
 * module the handler loads with a dynamic import() (the verifier's hold clients) becomes a chunk of
 * its own, parsed only when first imported; the entry stays `index.mjs` (the functions' handler
 * `index.handler`), chunks go to `chunks/` beside it. https://esbuild.github.io/api/#splitting
 */
export const BUNDLE_SETTINGS = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  minify: true,
  splitting: true,
  entryNames: '[name]',
  chunkNames: 'chunks/[name]-[hash]',
  outExtension: { '.js': '.mjs' },
  sourcemap: true,
  sourcesContent: false,
  external: [],
  mainFields: ['module', 'main'],
  // Some bundled CommonJS code calls require() for Node built-ins; ESM output needs it defined, in
  // every file (esbuild puts the banner at the top of each chunk too).
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
 * Bundles any entry with the handlers' settings into the folder `outdir` (`index.mjs`, its chunks,
 * a source map for each) and returns the path of `index.mjs`; the integration test's driver and the
 * benchmarks' floors use it too. The whole folder is built as a temporary sibling and swapped into
 * place with two renames, so a concurrent build or a synth reading it sees the old folder or the new
 * one, never half of either, and no chunk of an earlier build is left behind. Between the two renames
 * (microseconds) the folder is absent: a reader then fails and says the bundle is missing, it never
 * deploys a mix.
 */
export async function bundleEntry(entry: string, outdir: string): Promise<string> {
  const result = await build({ ...BUNDLE_SETTINGS, entryPoints: { index: entry }, outdir, write: false });
  const unique = `${process.pid}.${Math.random().toString(36).slice(2)}`;
  const temp = `${outdir}.${unique}.tmp`;
  const old = `${outdir}.${unique}.old`;
  try {
    for (const file of result.outputFiles) {
      const target = path.join(temp, path.relative(outdir, file.path));
      mkdirSync(path.dirname(target), { recursive: true });
      writeFileSync(target, file.contents);
    }
    if (existsSync(outdir)) renameSync(outdir, old);
    renameSync(temp, outdir);
  } finally {
    rmSync(temp, { recursive: true, force: true });
    rmSync(old, { recursive: true, force: true });
  }
  return path.join(outdir, 'index.mjs');
}

/**
 * The files of a built bundle, from its `index.mjs`: those Node loads when it imports the entry
 * (the entry and the chunks it imports statically, transitively) and those it loads only when the
 * code runs an import() (the chunks reached only through a dynamic import).
 */
export function bundleModules(index: string): { eager: string[]; lazy: string[] } {
  const imports = (file: string) => {
    const code = readFileSync(file, 'utf8');
    const resolve = (specifier: string) => path.resolve(path.dirname(file), specifier);
    return {
      // esbuild writes `import{a as b}from"./chunks/x.mjs"` and `import"./chunks/x.mjs"`, and `import("./chunks/x.mjs")`.
      statics: [...code.matchAll(/(?:\bfrom|\bimport)\s*"(\.\.?\/[^"]+\.mjs)"/g)].map((m) => resolve(m[1])),
      dynamics: [...code.matchAll(/\bimport\(\s*"(\.\.?\/[^"]+\.mjs)"\s*\)/g)].map((m) => resolve(m[1])),
    };
  };
  const closure = (roots: string[], seen: Set<string>, dynamicsFound: string[]) => {
    for (const root of roots) {
      if (seen.has(root)) continue;
      seen.add(root);
      const { statics, dynamics } = imports(root);
      dynamicsFound.push(...dynamics);
      closure(statics, seen, dynamicsFound);
    }
  };
  const eager = new Set<string>();
  let pending: string[] = [];
  closure([path.resolve(index)], eager, pending);
  const lazy = new Set<string>();
  while (pending.length > 0) {
    const next: string[] = [];
    closure(
      pending.filter((f) => !eager.has(f)),
      lazy,
      next,
    );
    pending = next.filter((f) => !lazy.has(f));
  }
  for (const f of eager) lazy.delete(f);
  return { eager: [...eager], lazy: [...lazy] };
}

/** Builds every handler into `<package root>/dist/assets/<name>` and returns the path of each one's `index.mjs`. */
export async function buildHandlerBundles(): Promise<Record<HandlerFunction, string>> {
  const built = await Promise.all(HANDLER_FUNCTIONS.map((name) => bundleEntry(handlerEntry(name), handlerAssetDir(name))));
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
