/**
 * `npm run send-event -- <type> [--url URL] [--secret S] [--session ID] [--media-url URL] [--id ID]`
 *
 * Builds a realistic FaceSign event of the given type, signs it with the project's own signing
 * code (the module the verifier uses), POSTs it and prints the answer. Defaults come from the
 * running `npm run dev` (.facesign-local/runtime.json); against a deployed stack pass --url and
 * --secret.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { FACESIGN_EVENT_TYPES, isMediaEventType } from '../lambda/shared/event';
import { signFaceSignPayload } from '../lambda/shared/signature';
import { buildSampleEvent } from './sample-events';

const USAGE = `usage: npm run send-event -- <type> [--url URL] [--secret SECRET] [--session ID] [--media-url URL] [--id ID]
types: ${FACESIGN_EVENT_TYPES.join(', ')} (or any other type string)`;

export async function sendEvent(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      secret: { type: 'string' },
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
  const url = values.url ?? local.webhookUrl ?? 'http://127.0.0.1:3000/webhooks/facesign';
  const secret = values.secret ?? process.env.FACESIGN_WEBHOOK_SECRET ?? local.signingSecret;
  if (!secret) {
    console.error('no signing secret: pass --secret, set FACESIGN_WEBHOOK_SECRET, or start npm run dev first');
    return 2;
  }
  const extension = type === 'media.user_video' ? 'mp4' : 'jpg';
  const mediaUrl =
    values['media-url'] ??
    (isMediaEventType(type) && local.sampleMediaOrigin && !values.url ? `${local.sampleMediaOrigin}/sample.${extension}?X-Signature=local` : undefined);
  const event = buildSampleEvent(type, { id: values.id, sessionId: values.session, mediaUrl });
  const body = JSON.stringify(event);
  const { headers } = signFaceSignPayload(body, secret);

  console.log(`POST ${url}\n${JSON.stringify(event, null, 2)}`);
  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  } catch (error) {
    console.error(`could not reach ${url}: ${(error as Error).message}`);
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
