/**
 * Builds what `npm pack` ships: the construct compiled to JavaScript with its type declarations,
 * the framework-agnostic signature and event modules, and the two handler bundles
 * (scripts/handler-bundles.ts, the very files this repository deploys), so an installed construct
 * needs no esbuild, no Docker and no TypeScript sources of ours.
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { buildHandlerBundles } from './handler-bundles';

async function main(): Promise<void> {
  const root = path.resolve(__dirname, '..');
  const dist = path.join(root, 'dist');
  // Only what tsc writes is cleared first: dist/assets is replaced file by file (atomically), so a
  // synth or test reading the bundles meanwhile never finds them missing.
  for (const compiled of ['lib', 'contract', 'lambda']) rmSync(path.join(dist, compiled), { recursive: true, force: true });
  execFileSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(root, 'tsconfig.build.json')], {
    stdio: 'inherit',
  });
  const bundles = await buildHandlerBundles();
  console.log(
    `built ${path.relative(root, dist)}: lib, contract, ${Object.values(bundles)
      .map((b) => path.relative(root, b))
      .join(', ')}`,
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
