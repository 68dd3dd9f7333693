/**
 * `npm run send-event -- <type> [--url URL] [--session ID] [--media-url URL] [--id ID]`
 *
 * Builds a realistic FaceSign event of the given type, signs it with the project's own signing
 * code (the module the verifier uses), POSTs it and prints the answer. Defaults come from the
 * running `npm run dev` (.facesign-local/runtime.json); against a deployed stack pass --url and
 * set FACESIGN_WEBHOOK_SECRET. The secret is never a command-line argument: every user of the
 * machine can read other processes' arguments (`ps`), and shells keep them in their history.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { FACESIGN_EVENT_TYPES, isMediaEventType } from '../contract/event';
import { signFaceSignPayload } from '../contract/signature';
import { DEFAULT_LOCAL_PORT, localWebhookUrl } from './http-api';
import { buildSampleEvent, sampleMediaUrl } from './sample-events';

const USAGE = `usage: npm run send-event -- <type> [--url URL] [--session ID] [--media-url URL] [--id ID]
types: ${FACESIGN_EVENT_TYPES.join(', ')} (or any other type string)
the signing secret: FACESIGN_WEBHOOK_SECRET, else the running npm run dev's (.facesign-local/runtime.json)`;

const SECRET_ARGUMENT_REFUSED =
  '--secret is not accepted: a command-line argument is visible to every user of the machine (ps) and stays in the shell history. Set FACESIGN_WEBHOOK_SECRET instead (read -rs FACESIGN_WEBHOOK_SECRET && export FACESIGN_WEBHOOK_SECRET)';

export async function sendEvent(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  if (argv.some((arg) => arg === '--secret' || arg.startsWith('--secret='))) {
    console.error(SECRET_ARGUMENT_REFUSED);
    return 2;
  }
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      session: { type: 'string' },
      'media-url': { type: 'string' },
      id: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [type] = positionals;
  if (values.help || !type || positionals.length > 1) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const runtimeFile = path.resolve('.facesign-local', 'runtime.json');
  const local = existsSync(runtimeFile)
    ? (JSON.parse(readFileSync(runtimeFile, 'utf8')) as { webhookUrl?: string; signingSecret?: string; sampleMediaOrigin?: string })
    : {};
  const url = values.url ?? local.webhookUrl ?? localWebhookUrl(DEFAULT_LOCAL_PORT);
  // The local runtime's secret only for the local runtime: never signed into a request elsewhere.
  const localSecret = url === local.webhookUrl ? local.signingSecret : undefined;
  const secret = env.FACESIGN_WEBHOOK_SECRET?.trim() || localSecret;
  if (!secret) {
    // npm run dev --public-url runs with FaceSign's secret, which it writes nowhere.
    const why =
      url === local.webhookUrl
        ? "npm run dev runs with --public-url, so its secret is FaceSign's and is not in runtime.json: set FACESIGN_WEBHOOK_SECRET (read -rs FACESIGN_WEBHOOK_SECRET && export FACESIGN_WEBHOOK_SECRET)"
        : 'set FACESIGN_WEBHOOK_SECRET, or start npm run dev first (its secret is used for its own URL only)';
    console.error(`no signing secret for ${url}: ${why}`);
    return 2;
  }
  const mediaUrl =
    values['media-url'] ?? (isMediaEventType(type) && local.sampleMediaOrigin && !values.url ? sampleMediaUrl(local.sampleMediaOrigin, type) : undefined);
  const event = buildSampleEvent(type, { id: values.id, sessionId: values.session, mediaUrl });
  const body = JSON.stringify(event);
  const { headers } = signFaceSignPayload(body, secret);

  console.log(`POST ${url}\n${JSON.stringify(event, null, 2)}`);
  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  } catch (error) {
    console.error(`could not reach ${url}: ${(error as Error).message}. Is npm run dev running?`);
    return 1;
  }
  console.log(`\n${response.status} ${response.statusText}\n${await response.text()}`);
  return response.ok ? 0 : 1;
}

if (require.main === module) {
  sendEvent(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      console.error((error as Error).message);
      process.exit(2);
    },
  );
}
