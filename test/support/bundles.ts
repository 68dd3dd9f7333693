import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { FaceSignWebhooksStack } from '../../lib';
import { freePort } from '../../local/services/ports';

/** The handlers' code as `cdk synth` stages it for deployment: each one's asset folder in the cloud assembly. */
export interface DeployedBundles {
  readonly verifier: string;
  readonly processor: string;
  readonly reverifier: string;
}

/** Synthesizes the app into a temporary folder and returns the asset folder each handler function deploys. */
export function synthesizeBundles(): DeployedBundles {
  const outdir = mkdtempSync(path.join(tmpdir(), 'facesign-synth-'));
  const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
  const stack = new FaceSignWebhooksStack(app, 'Bundles');
  const assembly = app.synth();
  const template = Template.fromStack(stack);
  const find = (service: string) => {
    const fns = template.findResources('AWS::Lambda::Function', {
      Properties: { Environment: { Variables: { POWERTOOLS_SERVICE_NAME: service } } },
    });
    const [fn] = Object.values(fns);
    const assetPath = fn?.Metadata?.['aws:asset:path'];
    if (!assetPath) throw new Error(`no asset found for ${service}`);
    return path.join(assembly.directory, assetPath);
  };
  return { verifier: find('facesign-verifier'), processor: find('facesign-processor'), reverifier: find('facesign-reverifier') };
}

/** Invokes a bundle's handler in a fresh Node process with the given environment. */
export async function invokeBundle(bundle: string, events: unknown[], env: Record<string, string>): Promise<unknown[]> {
  return (await invokeBundleWithOutput(bundle, events, env)).results;
}

/**
 * {@link invokeBundle}, also returning every JSON line the bundle printed on stdout (Powertools'
 * log lines and EMF metrics), parsed.
 */
export async function invokeBundleWithOutput(
  bundle: string,
  events: unknown[],
  env: Record<string, string>,
): Promise<{ results: unknown[]; lines: Array<Record<string, unknown>> }> {
  const runner = path.join(__dirname, 'invoke-bundle.mjs');
  const child = spawn(process.execPath, [runner, bundle], {
    env: { PATH: process.env.PATH ?? '', AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdin.end(JSON.stringify({ events }));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const marker = stdout.lastIndexOf('@@RESULTS@@');
  if (code !== 0 || marker < 0) throw new Error(`bundle ${bundle} exited ${code}: ${stderr.slice(-2000)}`);
  const lines = stdout
    .slice(0, marker)
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { results: JSON.parse(stdout.slice(marker + '@@RESULTS@@'.length)), lines };
}

/** A loopback URL on a port nothing listens on: an endpoint that refuses connections. */
export async function freePortUrl(): Promise<string> {
  return `http://127.0.0.1:${await freePort()}`;
}
