/**
 * The command line and environment of `npm run dev`, checked before anything starts. Every
 * mistake is a `DevUsageError` whose message says what to do.
 */
import { parseArgs } from 'node:util';
import { ENV } from '../contract/function-environment';
import { DEFAULT_LOCAL_PORT } from './http-api';
import { parsePublicUrl, PUBLIC_URL_FLAG, PublicUrlError } from './public-url';
import type { DynamoDBEngine } from './services/dynamodb';

export const DEV_USAGE = `usage: npm run dev [-- ${PUBLIC_URL_FLAG} https://<tunnel host>]
  ${PUBLIC_URL_FLAG}  receive real FaceSign deliveries through a tunnel (ngrok, cloudflared) at this https origin;
                the signing secret is then read from FACESIGN_WEBHOOK_SECRET, never from the command line
environment: PORT, FACESIGN_WEBHOOK_SECRET, FACESIGN_MEDIA_HOSTS, FACESIGN_DYNAMODB (see CONTRIBUTING.md)`;

/** A command line or environment `npm run dev` cannot run with. */
export class DevUsageError extends Error {
  override readonly name = 'DevUsageError';
}

/** What `npm run dev` runs with. */
export interface DevOptions {
  readonly port: number;
  /** The tunnel's public URL, when opted in. */
  readonly publicUrl?: URL;
  /** FACESIGN_WEBHOOK_SECRET; required with a public URL. @default - generated */
  readonly signingSecret?: string;
  /** FACESIGN_MEDIA_HOSTS, when set. */
  readonly mediaHosts?: readonly string[];
  readonly dynamodb: DynamoDBEngine;
  readonly help: boolean;
}

const SECRET_ARGUMENT =
  'is not accepted: a command-line argument is visible to every user of the machine (ps) and stays in the shell history. Set FACESIGN_WEBHOOK_SECRET instead (read -rs FACESIGN_WEBHOOK_SECRET && export FACESIGN_WEBHOOK_SECRET)';
const DYNAMODB_ENGINES: readonly DynamoDBEngine[] = ['auto', 'dynamodb-local', 'dynalite'];

/** Reads `npm run dev`'s arguments and environment; throws a `DevUsageError` for a bad one. */
export function parseDevOptions(argv: readonly string[], env: NodeJS.ProcessEnv): DevOptions {
  // Before parsing, so that even an unknown secret-like flag never gets as far as an error that echoes it.
  const secretArgument = argv.find((arg) => /^-{1,2}[a-z0-9_-]*secret/i.test(arg));
  if (secretArgument !== undefined) throw new DevUsageError(`${secretArgument.split('=')[0]} ${SECRET_ARGUMENT}`);
  let parsed: ReturnType<typeof parseDevArgs>;
  try {
    parsed = parseDevArgs(argv);
  } catch (error) {
    throw new DevUsageError(`${(error as Error).message}\n${DEV_USAGE}`);
  }
  const { values, positionals } = parsed;
  if (positionals.length > 0) throw new DevUsageError(`unexpected argument "${positionals[0]}"\n${DEV_USAGE}`);

  let publicUrl: URL | undefined;
  if (values['public-url'] !== undefined) {
    try {
      publicUrl = parsePublicUrl(values['public-url']);
    } catch (error) {
      if (error instanceof PublicUrlError) throw new DevUsageError(error.message);
      throw error;
    }
  }
  const signingSecret = env.FACESIGN_WEBHOOK_SECRET?.trim() || undefined;
  if (publicUrl && !signingSecret) {
    throw new DevUsageError(
      `${PUBLIC_URL_FLAG} needs FACESIGN_WEBHOOK_SECRET: the signing secret FaceSign's dashboard shows for this webhook (a generated one never matches what FaceSign signs with). Set it without echoing it: read -rs FACESIGN_WEBHOOK_SECRET && export FACESIGN_WEBHOOK_SECRET`,
    );
  }
  const port = Number(env.PORT ?? DEFAULT_LOCAL_PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new DevUsageError(`PORT must be a port number (0 to 65535), got "${env.PORT}"`);
  const dynamodb = (env.FACESIGN_DYNAMODB?.trim() || 'auto') as DynamoDBEngine;
  if (!DYNAMODB_ENGINES.includes(dynamodb)) {
    throw new DevUsageError(`FACESIGN_DYNAMODB must be one of ${DYNAMODB_ENGINES.join(', ')}, got "${env.FACESIGN_DYNAMODB}"`);
  }
  // The processor's own variable: checked by the processor, which names it when it is bad.
  const givenHosts = env[ENV.allowedMediaHosts]?.trim();
  const mediaHosts = givenHosts
    ? givenHosts
        .split(',')
        .map((h) => h.trim())
        .filter(Boolean)
    : undefined;
  return { port, publicUrl, signingSecret, mediaHosts, dynamodb, help: values.help === true };
}

function parseDevArgs(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: { 'public-url': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
}
