import { OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { HANDLER_BUNDLE } from './handler-bundle';

/**
 * How both handlers are bundled for deployment: ESM, minified, with source maps, the AWS SDK v3
 * bundled in rather than taken from the runtime (a pinned, tested SDK and a faster cold start).
 * The local runtime and the end-to-end tests build with the same {@link HANDLER_BUNDLE} settings.
 */
export const LAMBDA_BUNDLING: BundlingOptions = {
  format: OutputFormat.ESM,
  target: HANDLER_BUNDLE.target,
  minify: HANDLER_BUNDLE.minify,
  sourceMap: HANDLER_BUNDLE.sourcemap,
  sourcesContent: HANDLER_BUNDLE.sourcesContent,
  externalModules: [...HANDLER_BUNDLE.external],
  mainFields: [...HANDLER_BUNDLE.mainFields],
  banner: HANDLER_BUNDLE.banner,
};
