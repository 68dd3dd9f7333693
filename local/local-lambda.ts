/**
 * A Lambda function run locally: a small pool of worker processes (each one execution
 * environment, one invocation at a time, its own environment variables), a timeout that kills
 * the environment as Lambda does, and a fresh environment after a crash.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { rememberRecent } from './recent';

/** How a local function is run. */
export interface LocalLambdaOptions {
  readonly functionName: string;
  /** Path of the bundle's index.mjs. */
  readonly bundle: string;
  readonly environment: Record<string, string>;
  readonly timeoutMs: number;
  readonly memoryMb: number;
  /** Execution environments; invocations beyond this wait. */
  readonly concurrency: number;
  /** Receives every line the function prints. */
  readonly onLog?: (line: string) => void;
}

/** An invocation that failed as a Lambda invocation fails: an error thrown, a crash, a timeout. */
export class InvocationError extends Error {
  override readonly name = 'InvocationError';
}

interface Environment {
  child: ChildProcess;
  busy: boolean;
}

export class LocalLambda {
  private readonly environments: Environment[] = [];
  private readonly waiting: Array<() => void> = [];
  private nextId = 0;
  private stopped = false;
  /** Wall time of the most recent 10,000 completed invocations, in ms (what Lambda would bill, roughly). */
  readonly durations: number[] = [];

  constructor(private readonly options: LocalLambdaOptions) {}

  /** Invokes the handler with the event and resolves with its result. */
  async invoke<T = unknown>(event: unknown): Promise<T> {
    const environment = await this.acquire();
    const started = performance.now();
    try {
      const result = (await this.run(environment, event)) as T;
      rememberRecent(this.durations, performance.now() - started);
      return result;
    } finally {
      environment.busy = false;
      this.waiting.shift()?.();
    }
  }

  /** Ends every execution environment. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.environments.map((e) => this.kill(e)));
    this.environments.length = 0;
  }

  private async acquire(): Promise<Environment> {
    for (;;) {
      if (this.stopped) throw new InvocationError(`${this.options.functionName} is stopped`);
      const idle = this.environments.find((e) => !e.busy && e.child.exitCode === null && !e.child.killed);
      if (idle) {
        idle.busy = true;
        return idle;
      }
      for (let i = this.environments.length - 1; i >= 0; i--) {
        const e = this.environments[i];
        if (e.child.exitCode !== null || e.child.killed) this.environments.splice(i, 1);
      }
      if (this.environments.length < this.options.concurrency) {
        const environment: Environment = { child: this.spawn(), busy: true };
        this.environments.push(environment);
        return environment;
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  private spawn(): ChildProcess {
    const child = fork(path.join(__dirname, 'lambda-worker.mjs'), [], {
      env: { PATH: process.env.PATH ?? '', AWS_LAMBDA_FUNCTION_NAME: this.options.functionName, ...this.options.environment },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    const forward = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) this.options.onLog?.(line);
    };
    child.stdout?.on('data', forward);
    child.stderr?.on('data', forward);
    return child;
  }

  private run(environment: Environment, event: unknown): Promise<unknown> {
    const { child } = environment;
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
      };
      const onMessage = (message: { id: number; ok: boolean; result?: unknown; error?: { name: string; message: string } }) => {
        if (message.id !== id) return;
        cleanup();
        if (message.ok) resolve(message.result);
        else reject(new InvocationError(`${message.error?.name}: ${message.error?.message}`));
      };
      const onExit = (code: number | null, signal: string | null) => {
        cleanup();
        reject(new InvocationError(`${this.options.functionName} exited during an invocation (code ${code}, signal ${signal})`));
      };
      const timer = setTimeout(() => {
        cleanup();
        void this.kill(environment);
        reject(new InvocationError(`${this.options.functionName} timed out after ${this.options.timeoutMs} ms`));
      }, this.options.timeoutMs);
      child.on('message', onMessage);
      child.once('exit', onExit);
      child.send({
        type: 'invoke',
        id,
        event,
        bundle: this.options.bundle,
        functionName: this.options.functionName,
        timeoutMs: this.options.timeoutMs,
        memoryMb: this.options.memoryMb,
      });
    });
  }

  private kill(environment: Environment): Promise<void> {
    const { child } = environment;
    if (child.exitCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }
}
