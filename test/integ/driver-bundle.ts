/**
 * The integration test's driver Lambda, bundled with the handlers' own settings
 * (scripts/handler-bundles.ts) into `dist/integ-driver`, outside what the package ships. The unit
 * tests' global setup and `npm run integ` build it; the integ app deploys that folder as it is.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { packageRoot } from '../../lib/handler-code';
import { bundleEntry } from '../../scripts/handler-bundles';

/** The folder holding the driver's index.mjs, its chunks and their source maps. */
export const DRIVER_BUNDLE_DIR = path.join(packageRoot(), 'dist', 'integ-driver');

/** Builds the driver bundle and returns its index.mjs. */
export function buildDriverBundle(): Promise<string> {
  return bundleEntry(path.join(__dirname, 'driver', 'index.ts'), DRIVER_BUNDLE_DIR);
}

/** The driver's deployment code; throws, saying what to run, when it has not been built. */
export function driverCode(): lambda.Code {
  if (!existsSync(path.join(DRIVER_BUNDLE_DIR, 'index.mjs'))) {
    throw new Error(`the integration test driver bundle is missing: no index.mjs in ${DRIVER_BUNDLE_DIR}. npm run integ and npm test build it`);
  }
  return lambda.Code.fromAsset(DRIVER_BUNDLE_DIR);
}
