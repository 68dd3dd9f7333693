/**
 * Builds the handler bundles for the local runtime and the end-to-end tests with esbuild and the
 * very settings the stack deploys with (lib/handler-bundle.ts), so a bundling mistake shows up
 * locally, not in AWS.
 */
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { build } from 'esbuild';
import { HANDLER_BUNDLE, handlerEntry, type HandlerName } from '../lib/handler-bundle';

/** Builds one handler into `<outDir>/<name>/index.mjs` and returns that path. */
export async function buildHandlerBundle(name: HandlerName, outDir: string): Promise<string> {
  return bundleEntry(handlerEntry(name), path.join(outDir, name, 'index.mjs'));
}

/** Bundles any entry with the handlers' settings (benchmarks use it for their floors). */
export async function bundleEntry(entry: string, outfile: string): Promise<string> {
  mkdirSync(path.dirname(outfile), { recursive: true });
  await build({
    entryPoints: [entry],
    bundle: true,
    outfile,
    format: HANDLER_BUNDLE.format,
    platform: HANDLER_BUNDLE.platform,
    target: HANDLER_BUNDLE.target,
    minify: HANDLER_BUNDLE.minify,
    sourcemap: HANDLER_BUNDLE.sourcemap,
    sourcesContent: HANDLER_BUNDLE.sourcesContent,
    external: [...HANDLER_BUNDLE.external],
    mainFields: [...HANDLER_BUNDLE.mainFields],
    banner: { js: HANDLER_BUNDLE.banner },
    logLevel: 'silent',
  });
  return outfile;
}

/** Builds both handlers. */
export async function buildHandlerBundles(outDir: string): Promise<Record<HandlerName, string>> {
  const [verifier, processor] = await Promise.all([buildHandlerBundle('verifier', outDir), buildHandlerBundle('processor', outDir)]);
  return { verifier, processor };
}
