import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { InvocationError, LocalLambda, type LocalLambdaOptions } from '../../local/local-lambda';

// Execution environments killed from outside, by PID, as an out-of-memory killer or an operator
// would: Lambda's semantics for a crashed environment, against real worker processes.
const dir = mkdtempSync(path.join(tmpdir(), 'facesign-local-lambda-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const handlerBundle = path.join(dir, 'handler.mjs');
writeFileSync(
  handlerBundle,
  `
const initialisedAt = Date.now();
export async function handler(event) {
  if (event.action === 'exit') process.exit(3);
  if (event.action === 'oom') { const hog = []; for (;;) hog.push(new Array(1e6).fill(Math.random())); }
  if (event.action === 'uncaught') { setTimeout(() => { throw new Error('boom'); }, 1); await new Promise((r) => setTimeout(r, 1000)); }
  if (event.action === 'throw') throw new TypeError('bad input');
  await new Promise((r) => setTimeout(r, event.ms ?? 0));
  return { n: event.n, pid: process.pid, initialisedAt };
}
`,
);
// Fails its first init (as a bundle whose config cannot be read would), then loads.
const flakyInitBundle = path.join(dir, 'flaky-init.mjs');
writeFileSync(
  flakyInitBundle,
  `
import { existsSync, writeFileSync } from 'node:fs';
const marker = ${JSON.stringify(path.join(dir, 'init-failed-once'))};
if (!existsSync(marker)) { writeFileSync(marker, ''); throw new Error('environment variable X is required and is not set'); }
export async function handler() { return { pid: process.pid }; }
`,
);

const running: LocalLambda[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((fn) => fn.stop()));
});

function localLambda(options: Partial<LocalLambdaOptions> = {}): LocalLambda {
  const fn = new LocalLambda({ functionName: 'test-fn', bundle: handlerBundle, environment: {}, timeoutMs: 10_000, memoryMb: 256, concurrency: 2, ...options });
  running.push(fn);
  return fn;
}

type Result = { n: number; pid: number };
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const until = async (check: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('LocalLambda: a crashed execution environment', () => {
  it('an idle worker killed by SIGKILL is discarded, and the next invocation gets a fresh one (a cold start)', async () => {
    const fn = localLambda({ concurrency: 1 });
    const first = await fn.invoke<Result>({ n: 1 });
    process.kill(first.pid, 'SIGKILL');
    await until(() => fn.environmentsInfo().every((e) => e.pid !== first.pid));
    const second = await fn.invoke<Result>({ n: 2 });
    expect(second.n).toBe(2);
    expect(second.pid).not.toBe(first.pid);
    expect(fn.coldStarts).toBe(2);
    expect(fn.crashes).toBe(1);
  });

  it('a worker killed mid-invocation fails that invocation with the signal, and the next one runs in a new worker', async () => {
    const fn = localLambda({ concurrency: 1 });
    const { pid } = await fn.invoke<Result>({ n: 0 });
    const slow = fn.invoke<Result>({ n: 1, ms: 5000 });
    await until(() => fn.environmentsInfo().some((e) => e.busy));
    process.kill(pid, 'SIGKILL');
    await expect(slow).rejects.toThrow(InvocationError);
    await expect(slow).rejects.toThrow(/signal SIGKILL/);
    const next = await fn.invoke<Result>({ n: 2 });
    expect(next.pid).not.toBe(pid);
  });

  it.each([
    ['process.exit', 'exit', /code 3/],
    ['an uncaught exception', 'uncaught', /exited during an invocation \(code 1/],
    ['running out of memory (the heap is capped at the function memory)', 'oom', /exited during an invocation/],
  ])('%s fails the invocation; the next one gets a fresh worker', async (_name, action, message) => {
    const fn = localLambda({ concurrency: 1, memoryMb: 64 });
    const { pid } = await fn.invoke<Result>({ n: 0 });
    await expect(fn.invoke({ action })).rejects.toThrow(message);
    const next = await fn.invoke<Result>({ n: 1 });
    expect(next.pid).not.toBe(pid);
    expect(alive(pid)).toBe(false);
  });

  it('an error the handler throws fails the invocation and keeps the environment (warm)', async () => {
    const fn = localLambda({ concurrency: 1 });
    const { pid } = await fn.invoke<Result>({ n: 0 });
    await expect(fn.invoke({ action: 'throw' })).rejects.toThrow('TypeError: bad input');
    expect((await fn.invoke<Result>({ n: 1 })).pid).toBe(pid);
    expect(fn.coldStarts).toBe(1);
  });

  it('a crash in init fails the invocation and the next one retries the init in a fresh environment', async () => {
    const fn = localLambda({ concurrency: 1, bundle: flakyInitBundle });
    await expect(fn.invoke({})).rejects.toThrow(/Runtime.InitError: environment variable X is required/);
    const { pid } = await fn.invoke<{ pid: number }>({});
    expect(typeof pid).toBe('number');
    expect(fn.coldStarts).toBe(2);
  });

  it('a timed-out invocation ends its environment, as Lambda does', async () => {
    const fn = localLambda({ concurrency: 1, timeoutMs: 300 });
    const { pid } = await fn.invoke<Result>({ n: 0 });
    await expect(fn.invoke({ n: 1, ms: 5000 })).rejects.toThrow(/timed out after 300 ms/);
    await until(() => !alive(pid));
    expect((await fn.invoke<Result>({ n: 2 })).pid).not.toBe(pid);
  });

  it('a kill in the same tick as the next invocation never escapes as an unhandled error', async () => {
    const fn = localLambda({ concurrency: 1 });
    for (let i = 0; i < 10; i++) {
      const { pid } = await fn.invoke<Result>({ n: i });
      process.kill(pid, 'SIGKILL');
      const outcome = await fn.invoke<Result>({ n: i }).then(
        (r) => r.n,
        (e: Error) => e,
      );
      // Either the dead worker was noticed first (fresh one, success), or the invocation failed as Lambda's would.
      if (outcome instanceof Error) expect(outcome).toBeInstanceOf(InvocationError);
      else expect(outcome).toBe(i);
    }
    expect((await fn.invoke<Result>({ n: 99 })).n).toBe(99);
  });

  it('under load, with workers killed by PID every 30 ms: every invocation settles, only as a result or an InvocationError, and serving continues', async () => {
    const fn = localLambda({ concurrency: 4 });
    let killing = true;
    let kills = 0;
    const killed = new Set<number>();
    const killer = (async () => {
      while (killing) {
        await new Promise((r) => setTimeout(r, 30));
        const victims = fn.environmentsInfo().filter((e) => e.pid !== undefined);
        const victim = victims[Math.floor(Math.random() * victims.length)];
        if (victim?.pid && alive(victim.pid)) {
          process.kill(victim.pid, 'SIGKILL');
          killed.add(victim.pid);
          kills++;
        }
      }
    })();
    const outcomes = await Promise.all(
      Array.from({ length: 200 }, (_, n) =>
        fn.invoke<Result>({ n, ms: 5 + (n % 20) }).then(
          (r) => (r.n === n ? 'ok' : 'wrong result'),
          (e: Error) => (e instanceof InvocationError ? 'failed' : `unexpected ${e.name}: ${e.message}`),
        ),
      ),
    );
    killing = false;
    await killer;
    expect(outcomes.filter((o) => o !== 'ok' && o !== 'failed')).toEqual([]);
    expect(outcomes.filter((o) => o === 'failed').length).toBeGreaterThan(0);
    expect(kills).toBeGreaterThan(5);
    expect(fn.crashes).toBeGreaterThan(0);
    // After the faults (once the last kill has been seen): all served, from fresh environments.
    await until(() => fn.environmentsInfo().every((e) => !killed.has(e.pid!)));
    const after = await Promise.all(Array.from({ length: 20 }, (_, n) => fn.invoke<Result>({ n })));
    expect(after.map((r) => r.n)).toEqual(Array.from({ length: 20 }, (_, n) => n));
  });

  it('stop() completes when the workers already died of a signal (Ctrl-C reaches the whole process group)', async () => {
    const fn = localLambda({ concurrency: 2 });
    const results = await Promise.all([fn.invoke<Result>({ n: 1, ms: 50 }), fn.invoke<Result>({ n: 2, ms: 50 })]);
    const pids = [...new Set(results.map((r) => r.pid))];
    for (const pid of pids) process.kill(pid, 'SIGINT');
    await until(() => pids.every((pid) => !alive(pid)));
    let done = false;
    await Promise.race([fn.stop().then(() => (done = true)), new Promise((r) => setTimeout(r, 5000))]);
    expect(done).toBe(true);
    await expect(fn.invoke({})).rejects.toThrow(/is stopped/);
  });

  it('stop() fails invocations running and waiting, and kills every worker', async () => {
    const fn = localLambda({ concurrency: 1 });
    const settled = (p: Promise<unknown>) =>
      p.then(
        () => 'resolved',
        (e: Error) => e,
      );
    const runningCall = settled(fn.invoke({ ms: 10_000 }));
    const waitingCall = settled(fn.invoke({ ms: 10 }));
    await until(() => fn.environmentsInfo().some((e) => e.busy));
    const [{ pid }] = fn.environmentsInfo();
    await fn.stop();
    expect(await runningCall).toBeInstanceOf(InvocationError);
    expect(String(await waitingCall)).toMatch(/is stopped/);
    expect(alive(pid!)).toBe(false);
  });
});
