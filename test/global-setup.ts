/**
 * Runs once before the unit tests: builds the handler bundles (dist/assets) and the integration
 * test's driver bundle with the one bundling path (scripts/handler-bundles.ts). Every test that
 * synthesizes a template, and every test that runs a bundle, then uses these very files.
 */
import { buildHandlerBundles } from '../scripts/handler-bundles';
import { buildDriverBundle } from './integ/driver-bundle';

export default async function setup(): Promise<void> {
  await Promise.all([buildHandlerBundles(), buildDriverBundle()]);
}
