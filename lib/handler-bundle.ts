import * as path from 'node:path';

/**
 * The esbuild settings of the handler bundles, with no CDK import so that the local runtime can
 * use them too. `LAMBDA_BUNDLING` hands exactly these to NodejsFunction.
 */
export const HANDLER_BUNDLE = {
  format: 'esm',
  platform: 'node',
  target: 'node22',
  minify: true,
  sourcemap: true,
  sourcesContent: false,
  external: [] as string[],
  mainFields: ['module', 'main'],
  // Some bundled CommonJS code calls require() for Node built-ins; ESM output needs it defined.
  banner: "import{createRequire as __facesignCreateRequire}from'node:module';const require=__facesignCreateRequire(import.meta.url);",
} as const;

/** The two handlers. */
export type HandlerName = 'verifier' | 'processor';

/** A handler's entry file. */
export function handlerEntry(name: HandlerName): string {
  return path.join(__dirname, '..', 'lambda', name, 'index.ts');
}
