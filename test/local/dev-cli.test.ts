import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { hasJava } from '../../local/dynamodb-local/install';
import { freePort, listenOnLoopback } from '../../local/services/ports';

const ROOT = path.resolve(__dirname, '..', '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');
// What `npm run dev` runs: one Node process with tsx's loader (tsx's CLI would add a parent that
// SIGKILLs the child when it is slow to acknowledge a signal, orphaning DynamoDB Local).
const DEV = [
  process.execPath,
  '--import',
  pathToFileURL(path.join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href,
  path.join(ROOT, 'local/dev.ts'),
] as const;
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
    const dev = spawn(DEV[0], DEV.slice(1), {
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

      const sent = spawnSync(TSX, [path.join(ROOT, 'local/send-event.ts'), 'media.user_photo', '--session', 'ses_cli', '--id', 'evt_cli'], {
        cwd,
        encoding: 'utf8',
      });
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
      const wrongSecret = spawnSync(TSX, [path.join(ROOT, 'local/send-event.ts'), 'session.status'], {
        cwd,
        encoding: 'utf8',
        env: { ...process.env, FACESIGN_WEBHOOK_SECRET: 'whsec_wrong' },
      });
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

/** Every process descended from `root` now, read from /proc (Linux). */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // exited while we read
    }
  }
  const found: number[] = [];
  const walk = (pid: number) => {
    for (const child of children.get(pid) ?? []) {
      found.push(child);
      walk(child);
    }
  };
  walk(root);
  return found;
}

/** Running, not a zombie waiting to be reaped. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/** Starts `npm run dev` in its own process group, as a terminal does, and waits until it is ready. */
async function startDev(env: Record<string, string>) {
  const port = await freePort();
  const dev = spawn(DEV[0], DEV.slice(1), {
    cwd,
    env: { ...process.env, PORT: String(port), FACESIGN_WEBHOOK_SECRET: 'whsec_cli_test', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const state = { output: '' };
  dev.stdout.on('data', (c: Buffer) => (state.output += c.toString()));
  dev.stderr.on('data', (c: Buffer) => (state.output += c.toString()));
  const exited = new Promise<{ code: number | null; at: number }>((resolve) => dev.once('exit', (code) => resolve({ code, at: Date.now() })));
  const deadline = Date.now() + 120_000;
  while (!state.output.includes('Ctrl-C stops everything')) {
    if (Date.now() > deadline || dev.exitCode !== null) throw new Error(`dev did not start:\n${state.output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  /** Ctrl-C in a terminal: SIGINT to the whole foreground process group. */
  const ctrlC = () => process.kill(-dev.pid!, 'SIGINT');
  return { dev, port, state, exited, ctrlC };
}

const sendEvent = (...args: string[]) => spawnSync(TSX, [path.join(ROOT, 'local/send-event.ts'), ...args], { cwd, encoding: 'utf8' });

describe.skipIf(!hasJava())('Ctrl-C on npm run dev with DynamoDB Local (the hang reported in issue 11)', () => {
  it('after events were processed: exits 0 within seconds, and every descendant (workers, the DynamoDB Local JVM) is gone', async () => {
    const { dev, state, exited, ctrlC } = await startDev({ FACESIGN_DYNAMODB: 'dynamodb-local' });
    let tree: number[] = [];
    try {
      expect(state.output).toContain('DynamoDB        DynamoDB Local');
      for (const type of ['session.status', 'media.user_photo', 'session.completed']) {
        const sent = sendEvent(type, '--session', 'ses_ctrlc');
        expect(sent.status, sent.stdout + sent.stderr).toBe(0);
      }
      const events = path.join(cwd, '.facesign-local', 'archive', 'events', 'ses_ctrlc');
      const deadline = Date.now() + 60_000;
      while (!(existsSync(events) && readdirSync(events).length === 3)) {
        if (Date.now() > deadline) throw new Error(`events not archived:\n${state.output}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      tree = descendants(dev.pid!);
      // The state that hung: worker processes that served invocations, and the JVM.
      expect(tree.map(commandOf).some((c) => c.includes('lambda-worker.mjs'))).toBe(true);
      expect(tree.map(commandOf).some((c) => c.includes('java'))).toBe(true);
    } finally {
      const sentAt = Date.now();
      ctrlC();
      // npm relays the same Ctrl-C to its child a moment later: still one Ctrl-C, a graceful stop.
      setTimeout(() => dev.exitCode === null && dev.kill('SIGINT'), 50);
      const exit = await Promise.race([exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), 20_000))]);
      if (!exit) process.kill(-dev.pid!, 'SIGKILL');
      expect(exit, `still running 20 s after Ctrl-C:\n${state.output}`).toBeDefined();
      expect(exit!.code).toBe(0);
      expect(exit!.at - sentAt).toBeLessThan(15_000);
      console.log(`Ctrl-C after events on DynamoDB Local: exit ${exit!.code} after ${exit!.at - sentAt} ms`);
    }
    await new Promise((r) => setTimeout(r, 500));
    expect(tree.filter(running).map((pid) => `${pid} ${commandOf(pid)}`)).toEqual([]);
  });

  it('prints one line for a dead letter; mid-download with a hung child, a second Ctrl-C exits at once and kills every descendant', async () => {
    // A media host that starts sending and never finishes.
    let downloads = 0;
    const host = createServer((req, res) => {
      if (req.url?.startsWith('/missing')) return void res.writeHead(404).end();
      downloads++;
      res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': 1_000_000 });
      res.write(Buffer.alloc(1000));
    });
    const listener = await listenOnLoopback(host);
    const mediaHost = `127.0.0.1:${listener.port}`;
    const { dev, state, exited, ctrlC } = await startDev({ FACESIGN_DYNAMODB: 'dynamodb-local', FACESIGN_MEDIA_HOSTS: mediaHost });
    let tree: number[] = [];
    try {
      // A permanent failure goes to the dead-letter queue, and the terminal says so in one line.
      const missing = sendEvent('media.user_photo', '--id', 'evt_missing', '--media-url', `http://${mediaHost}/missing.jpg`);
      expect(missing.status, missing.stdout + missing.stderr).toBe(0);
      const dlqLine = Date.now() + 30_000;
      while (!/dead-letter media_not_available: media\.user_photo evt_missing .*\(1 in the DLQ, see \/__local\/status\)/.test(state.output)) {
        if (Date.now() > dlqLine) throw new Error(`no dead-letter line:\n${state.output}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const sent = sendEvent('media.user_video', '--media-url', `http://${mediaHost}/stuck.mp4`);
      expect(sent.status, sent.stdout + sent.stderr).toBe(0);
      const deadline = Date.now() + 60_000;
      while (downloads === 0) {
        if (Date.now() > deadline) throw new Error(`the download did not start:\n${state.output}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      tree = descendants(dev.pid!);
      // A child that hangs the graceful stop: DynamoDB Local stopped (SIGSTOP) ignores the SIGINT
      // and SIGTERM until killed, so stopping it would wait its full 5 s.
      const jvm = tree.find((pid) => commandOf(pid).includes('java'));
      expect(jvm).toBeDefined();
      process.kill(jvm!, 'SIGSTOP');
    } finally {
      ctrlC();
      const stopping = Date.now() + 10_000;
      while (!state.output.includes('stopping ...') && Date.now() < stopping && dev.exitCode === null) await new Promise((r) => setTimeout(r, 5));
      // A second Ctrl-C, after the moment in which a relayed copy of the first would arrive.
      await new Promise((r) => setTimeout(r, 1100));
      const secondAt = Date.now();
      if (dev.exitCode === null) ctrlC();
      const exit = await Promise.race([exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), 20_000))]);
      if (!exit) process.kill(-dev.pid!, 'SIGKILL');
      await listener.close();
      expect(exit, `still running 20 s after Ctrl-C twice:\n${state.output}`).toBeDefined();
      expect(exit!.code).toBe(130);
      expect(state.output).toContain('stopping now');
      expect(exit!.at - secondAt).toBeLessThan(5_000);
      console.log(`Ctrl-C twice mid-download: exit ${exit!.code}, ${Math.max(0, exit!.at - secondAt)} ms after the second`);
    }
    await new Promise((r) => setTimeout(r, 500));
    expect(tree.length).toBeGreaterThan(0);
    expect(tree.filter(running).map((pid) => `${pid} ${commandOf(pid)}`)).toEqual([]);
  });
});
