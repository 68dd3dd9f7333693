import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../local/services/ports';

const ROOT = path.resolve(__dirname, '..', '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');
const cwd = mkdtempSync(path.join(tmpdir(), 'facesign-dev-'));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

const refuses = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });

describe('npm run dev and npm run send-event, as a user runs them', () => {
  it('starts (with the pure-Node DynamoDB), takes a signed event from send-event, writes the archive, and Ctrl-C frees every port', async () => {
    const port = await freePort();
    const dev = spawn(TSX, [path.join(ROOT, 'local/dev.ts')], {
      cwd,
      env: { ...process.env, PORT: String(port), FACESIGN_DYNAMODB: 'dynalite', FACESIGN_WEBHOOK_SECRET: 'whsec_cli_test', POWERTOOLS_LOG_LEVEL: 'INFO' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    dev.stdout.on('data', (c: Buffer) => (output += c.toString()));
    dev.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((resolve) => dev.once('exit', (code) => resolve(code)));
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`dev did not start:\n${output}`)), 90_000);
        const check = setInterval(() => {
          if (output.includes('Ctrl-C stops everything')) {
            clearTimeout(timer);
            clearInterval(check);
            resolve();
          }
        }, 100);
      });
      expect(output).toContain(`webhook URL     http://127.0.0.1:${port}/webhooks/facesign`);
      expect(output).toContain('signing secret  whsec_cli_test');
      expect(output).toContain('DynamoDB        dynalite');

      const sent = spawnSync(TSX, [path.join(ROOT, 'local/send-event.ts'), 'media.user_photo', '--session', 'ses_cli', '--id', 'evt_cli'], { cwd, encoding: 'utf8' });
      expect(sent.status, sent.stdout + sent.stderr).toBe(0);
      expect(sent.stdout).toContain('200 OK');
      expect(sent.stdout).toContain('{"received":true}');

      const archive = path.join(cwd, '.facesign-local', 'archive');
      const deadline = Date.now() + 30_000;
      while (!(existsSync(path.join(archive, 'media', 'ses_cli', 'media.user_photo')) && existsSync(path.join(archive, 'events', 'ses_cli')))) {
        if (Date.now() > deadline) throw new Error(`no archive files:\n${output}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      const [eventFile] = readdirSync(path.join(archive, 'events', 'ses_cli'));
      expect(eventFile).toMatch(/^\d+-evt_cli\.json$/);
      expect(JSON.parse(readFileSync(path.join(archive, 'events', 'ses_cli', eventFile), 'utf8'))).toMatchObject({ id: 'evt_cli', type: 'media.user_photo' });

      // The secret comes from the environment, never from the command line (ps shows arguments).
      const wrongSecret = spawnSync(TSX, [path.join(ROOT, 'local/send-event.ts'), 'session.status'], { cwd, encoding: 'utf8', env: { ...process.env, FACESIGN_WEBHOOK_SECRET: 'whsec_wrong' } });
      expect(wrongSecret.status).toBe(1);
      expect(wrongSecret.stdout).toContain('signature_mismatch');
      const onCommandLine = spawnSync(TSX, [path.join(ROOT, 'local/send-event.ts'), 'session.status', '--secret', 'whsec_wrong'], { cwd, encoding: 'utf8' });
      expect(onCommandLine.status).toBe(2);
      expect(onCommandLine.stderr).toContain('--secret is not accepted');
      expect(onCommandLine.stdout).not.toContain('POST');

      // The runtime file holds the secret: owner-only.
      expect(statSync(path.join(cwd, '.facesign-local', 'runtime.json')).mode & 0o777).toBe(0o600);
      expect(statSync(path.join(cwd, '.facesign-local')).mode & 0o777).toBe(0o700);
      // A page that rebinds its name to 127.0.0.1 gets nothing from the status page.
      const rebound = await new Promise<number>((resolve, reject) =>
        request({ host: '127.0.0.1', port, path: '/__local/status', headers: { host: `rebound.example:${port}` } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        })
          .on('error', reject)
          .end(),
      );
      expect(rebound).toBe(403);
    } finally {
      dev.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    const ports = [...output.matchAll(/127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1]));
    expect(ports).toContain(port);
    for (const p of new Set(ports)) expect(await refuses(p), `port ${p} still bound`).toBe(true);
  });
});
