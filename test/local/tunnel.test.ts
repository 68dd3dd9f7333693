/**
 * `npm run dev -- --public-url <tunnel URL>` as a user runs it, with the real bundles, sent what a
 * tunnel (ngrok, cloudflared) forwards: the tunnel's Host, X-Forwarded-For/Proto/Host, and the
 * body bytes FaceSign signed, unchanged.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { signFaceSignPayload } from '../../contract/signature';
import { WEBHOOK_PATH } from '../../contract/webhook-path';
import { buildSampleEvent } from '../../local/sample-events';
import { freePort, listenOnLoopback } from '../../local/services/ports';
import { sendRaw } from '../support/raw-request';

const ROOT = path.resolve(__dirname, '..', '..');
const DEV = [process.execPath, '--import', pathToFileURL(path.join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href, path.join(ROOT, 'local/dev.ts')];
const TUNNEL = 'abc123.ngrok-free.app';
const SECRET = 'whsec_from_the_facesign_dashboard';
const cwd = mkdtempSync(path.join(tmpdir(), 'facesign-tunnel-'));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

/** The TCP ports a process listens on, read from /proc (Linux): its socket inodes in LISTEN state. */
function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]);
    } catch {
      // closed while we read
    }
  }
  const ports: number[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').trim().split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // local_address is hex ip:port; state 0A is LISTEN; field 9 is the inode.
      if (fields[3] === '0A' && inodes.has(fields[9])) ports.push(parseInt(fields[1].split(':')[1], 16));
    }
  }
  return ports.sort((a, b) => a - b);
}

/** A delivery as it leaves the tunnel's agent: the public Host and the forwarding headers; the signed body as is. */
function throughTunnel(port: number, event: Record<string, unknown>) {
  const body = Buffer.from(JSON.stringify(event));
  return {
    body,
    answer: sendRaw(port, {
      path: WEBHOOK_PATH,
      method: 'POST',
      headers: {
        host: TUNNEL,
        'user-agent': 'FaceSign-Webhooks/1.0',
        'content-type': 'application/json',
        'x-forwarded-for': '203.0.113.7',
        'x-forwarded-proto': 'https',
        'x-forwarded-host': TUNNEL,
        ...signFaceSignPayload(body, SECRET).headers,
      },
      body,
    }),
  };
}

async function until<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, output: () => string, timeoutMs = 40_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('npm run dev -- --public-url, receiving through a tunnel', { timeout: 180_000 }, () => {
  it('serves the webhook route on the tunnel Host with FaceSign’s secret, processes the event, refuses everything else through the tunnel, and downloads media as deployed', async () => {
    // A loopback media host over plain http: allowed in plain npm run dev, never with --public-url.
    let mediaHits = 0;
    const media = createServer((_req, res) => {
      mediaHits++;
      res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': 3 }).end('jpg');
    });
    const mediaListener = await listenOnLoopback(media);
    const port = await freePort();
    const dev = spawn(DEV[0], [...DEV.slice(1), '--public-url', `https://${TUNNEL}`], {
      cwd,
      env: {
        ...process.env,
        PORT: String(port),
        FACESIGN_DYNAMODB: 'dynalite',
        FACESIGN_WEBHOOK_SECRET: SECRET,
        // The loopback host is allowed by name, so only the scheme can keep it out.
        FACESIGN_MEDIA_HOSTS: `127.0.0.1:${mediaListener.port},media.facesign.ai`,
        POWERTOOLS_LOG_LEVEL: 'INFO',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    dev.stdout.on('data', (c: Buffer) => (output += c.toString()));
    dev.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((resolve) => dev.once('exit', (code) => resolve(code)));
    try {
      await until(
        'the banner',
        () => (output.includes('Ctrl-C stops everything') ? true : dev.exitCode !== null ? false : undefined),
        () => output,
        120_000,
      ).then((started) => expect(started, output).toBe(true));
      expect(output).toContain(`public URL      https://${TUNNEL}${WEBHOOK_PATH}   (give FaceSign this webhook URL)`);
      expect(output).toContain('signing secret  from FACESIGN_WEBHOOK_SECRET (not shown)');
      expect(output).toContain(`media hosts     127.0.0.1:${mediaListener.port}, media.facesign.ai   (https only, as deployed)`);
      // FaceSign's secret is printed nowhere and written nowhere.
      expect(output).not.toContain(SECRET);
      const runtimeFile = readFileSync(path.join(cwd, '.facesign-local', 'runtime.json'), 'utf8');
      expect(runtimeFile).not.toContain(SECRET);
      expect(JSON.parse(runtimeFile)).toEqual({ webhookUrl: `http://127.0.0.1:${port}${WEBHOOK_PATH}` });

      // What the tunnel forwards: 200, and the event processed (archived byte for byte).
      const status = throughTunnel(port, buildSampleEvent('session.status', { id: 'evt_tunnel', sessionId: 'ses_tunnel' }));
      expect(await status.answer).toEqual({ status: 200, body: '{"received":true}' });
      const events = path.join(cwd, '.facesign-local', 'archive', 'events', 'ses_tunnel');
      const archived = await until(
        'the archived event',
        () => (existsSync(events) ? readdirSync(events)[0] : undefined),
        () => output,
      );
      expect(archived).toMatch(/^\d+-evt_tunnel\.json$/);
      expect(readFileSync(path.join(events, archived)).equals(status.body)).toBe(true);

      // Signed with another secret (the generated one a plain npm run dev would use): 401.
      const forged = Buffer.from(JSON.stringify(buildSampleEvent('session.status')));
      const wrongSecret = await sendRaw(port, {
        path: WEBHOOK_PATH,
        method: 'POST',
        headers: { host: TUNNEL, 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.7', ...signFaceSignPayload(forged, 'whsec_other').headers },
        body: forged,
      });
      expect(wrongSecret.status).toBe(401);
      expect(JSON.parse(wrongSecret.body).error).toBe('signature_mismatch');

      // A media URL on a plain-http loopback host, even an allowed one, is not downloaded: https only,
      // as in AWS. The event is dead-lettered with the reason.
      const photo = throughTunnel(
        port,
        buildSampleEvent('media.user_photo', {
          id: 'evt_tunnel_media',
          sessionId: 'ses_tunnel',
          mediaUrl: `http://127.0.0.1:${mediaListener.port}/p.jpg?X-Signature=x`,
        }),
      );
      expect((await photo.answer).status).toBe(200);
      await until(
        'the dead-letter line',
        () => (/dead-letter media_host_not_allowed: media\.user_photo evt_tunnel_media/.test(output) ? true : undefined),
        () => output,
      );
      expect(mediaHits).toBe(0);

      // Through the tunnel Host, nothing but the webhook route; on loopback, the status page as always.
      const viaTunnel = await sendRaw(port, { path: '/__local/status', headers: { host: TUNNEL, 'x-forwarded-for': '203.0.113.7' } });
      expect(viaTunnel.status).toBe(403);
      expect(viaTunnel.body).not.toContain('evt_tunnel');
      expect(JSON.parse(viaTunnel.body).message).toContain(`only ${WEBHOOK_PATH} is`);
      const local = await sendRaw(port, { path: '/__local/status', headers: { host: `127.0.0.1:${port}` } });
      expect(local.status).toBe(200);
      expect(JSON.parse(local.body).deadLetterQueue.messages).toContainEqual(
        expect.objectContaining({ eventId: 'evt_tunnel_media', failureReason: 'media_host_not_allowed' }),
      );
      // The inspector stays on 127.0.0.1: through the tunnel, its page, state and buttons answer 403.
      expect(output).toContain(`inspector       http://127.0.0.1:${port}/   (every delivery, live; the dead-letter queue; 127.0.0.1 only)`);
      for (const [method, route] of [
        ['GET', '/'],
        ['GET', '/__inspector/state'],
        ['POST', '/__inspector/send'],
      ]) {
        const refused = await sendRaw(port, {
          path: route,
          method,
          headers: { host: TUNNEL, 'x-forwarded-for': '203.0.113.7', origin: `http://127.0.0.1:${port}`, 'content-type': 'application/json' },
          body: method === 'POST' ? Buffer.from('{"type":"session.status"}') : undefined,
        });
        expect(refused.status, `${method} ${route}`).toBe(403);
        expect(refused.body).not.toContain('evt_tunnel');
      }
      // On loopback it shows the tunnelled delivery; with no sample media host, its media samples are refused, saying why.
      const inspected = JSON.parse((await sendRaw(port, { path: '/__inspector/state', headers: { host: `127.0.0.1:${port}` } })).body);
      expect(inspected.deliveries).toContainEqual(expect.objectContaining({ eventId: 'evt_tunnel' }));
      // The page shows the URL to give FaceSign, as the terminal does.
      expect(inspected.publicWebhookUrl).toBe(`https://${TUNNEL}${WEBHOOK_PATH}`);
      expect(Object.keys(inspected.unavailableSamples)).toContain('media.user_photo');
      const mediaSample = await sendRaw(port, {
        path: '/__inspector/send',
        method: 'POST',
        headers: { host: `127.0.0.1:${port}`, origin: `http://127.0.0.1:${port}`, 'content-type': 'application/json' },
        body: Buffer.from('{"type":"media.user_photo"}'),
      });
      expect(mediaSample.status).toBe(409);
      expect(JSON.parse(mediaSample.body).message).toMatch(/^media\.user_photo needs the sample media host/);
      // Another tunnel's Host: refused.
      expect((await sendRaw(port, { path: WEBHOOK_PATH, method: 'POST', headers: { host: 'other.ngrok-free.app' }, body: status.body })).status).toBe(403);
      expect(statSync(path.join(cwd, '.facesign-local', 'runtime.json')).mode & 0o777).toBe(0o600);
      // Five servers in the dev process: the HTTP API, dynalite, fauxqs, Secrets Manager and
      // EventBridge. No sample media host here, and no fault proxies (only the e2e suite starts them).
      const listening = listeningPorts(dev.pid!);
      expect(listening).toContain(port);
      expect(listening).toHaveLength(5);
    } finally {
      dev.kill('SIGINT');
      await mediaListener.close();
    }
    expect(await exited).toBe(0);
  });
});
