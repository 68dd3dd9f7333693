/**
 * A Lambda function run locally: a small pool of worker processes (each one execution
 * environment, one invocation at a time, its own environment variables), a timeout that kills
 * the environment as Lambda does, and a fresh environment after a crash.
 *
 * A crashed environment behaves as it does in Lambda, whatever killed it (a signal from outside,
 * the heap limit, `process.exit`, an error thrown while the bundle loads): the invocation it was
 * running fails, the environment is thrown away, and the next invocation gets a new one with a
 * cold start. Nothing else is affected: every error of the IPC channel is handled here, so a dead
 * worker can never take the runtime down with it.
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html (failures during the invoke phase)
 * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html (a failed batch returns after the visibility timeout)
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
  /** The function's memory; the worker's V8 heap is capped at this, so running out crashes it as in Lambda. */
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

/** One execution environment as seen from outside, for the status page and fault tests. */
export interface EnvironmentInfo {
  readonly pid: number | undefined;
  readonly busy: boolean;
  /** What the running invocation was given (absent while idle). */
  readonly event?: unknown;
  /** When the running invocation started (epoch ms). */
  readonly startedAt?: number;
}

interface Environment {
  readonly child: ChildProcess;
  busy: boolean;
  /** Set once the process has exited or can no longer be reached; never handed out again. */
  dead: boolean;
  /** Resolves when the process has exited. */
  readonly exited: Promise<void>;
  /** Ended by its invocation's timeout (counted as a crash there). */
  timedOut?: boolean;
  /** Fails the running invocation, if any, with the reason the environment died. */
  fail?: (error: InvocationError) => void;
  event?: unknown;
  startedAt?: number;
}

/** How long stop() waits for a killed worker's exit before moving on (SIGKILL cannot be refused, so this is a bound, not a wait). */
const EXIT_WAIT_MS = 2000;

export class LocalLambda {
  private readonly environments: Environment[] = [];
  private readonly waiting: Array<() => void> = [];
  private nextId = 0;
  private stopped = false;
  /** Wall time of the most recent 10,000 completed invocations, in ms (what Lambda would bill, roughly). */
  readonly durations: number[] = [];
  /** Execution environments started so far: each one is a cold start. */
  coldStarts = 0;
  /** Execution environments that died other than by stop(): crashes, kills, timeouts. */
  crashes = 0;

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
      environment.event = undefined;
      environment.startedAt = undefined;
      this.wakeOne();
    }
  }

  /** The live execution environments. */
  environmentsInfo(): EnvironmentInfo[] {
    return this.environments.filter((e) => !e.dead).map((e) => ({ pid: e.child.pid, busy: e.busy, event: e.event, startedAt: e.startedAt }));
  }

  /** Ends every execution environment; invocations running or waiting fail. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const wake of this.waiting.splice(0)) wake();
    await Promise.all(this.environments.map((e) => this.kill(e)));
    this.environments.length = 0;
  }

  /** Kills every worker at once, without waiting: for a process that is about to exit. */
  killNow(): void {
    this.stopped = true;
    for (const e of this.environments) {
      try {
        e.child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  }

  private wakeOne(): void {
    this.waiting.shift()?.();
  }

  private async acquire(): Promise<Environment> {
    for (;;) {
      if (this.stopped) throw new InvocationError(`${this.options.functionName} is stopped`);
      const idle = this.environments.find((e) => !e.busy && !e.dead && isAlive(e.child));
      if (idle) {
        idle.busy = true;
        return idle;
      }
      this.discardDead();
      if (this.environments.length < this.options.concurrency) {
        const environment = this.spawn();
        environment.busy = true;
        this.environments.push(environment);
        return environment;
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  private discardDead(): void {
    for (let i = this.environments.length - 1; i >= 0; i--) {
      const e = this.environments[i];
      if (e.dead || !isAlive(e.child)) {
        e.dead = true;
        this.environments.splice(i, 1);
      }
    }
  }

  private spawn(): Environment {
    this.coldStarts++;
    const child = fork(path.join(__dirname, 'lambda-worker.mjs'), [], {
      env: { PATH: process.env.PATH ?? '', AWS_LAMBDA_FUNCTION_NAME: this.options.functionName, ...this.options.environment },
      execArgv: [`--max-old-space-size=${this.options.memoryMb}`],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    let markExited!: () => void;
    const environment: Environment = { child, busy: false, dead: false, exited: new Promise<void>((resolve) => (markExited = resolve)) };
    const forward = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) this.options.onLog?.(line);
    };
    child.stdout?.on('data', forward);
    child.stderr?.on('data', forward);
    // A pipe error after the worker died is not the runtime's problem.
    child.stdout?.on('error', () => undefined);
    child.stderr?.on('error', () => undefined);
    let ended = false;
    const die = (reason: string) => {
      if (!ended && !environment.timedOut && !this.stopped) this.crashes++;
      ended = true;
      environment.dead = true;
      const fail = environment.fail;
      environment.fail = undefined;
      fail?.(new InvocationError(`${this.options.functionName} ${reason}`));
      const index = this.environments.indexOf(environment);
      if (index >= 0 && !environment.busy) this.environments.splice(index, 1);
      // A waiting invocation may now start a fresh environment in its place.
      this.wakeOne();
    };
    // 'error': the process could not be spawned or killed, or a message could not be sent.
    child.on('error', (error) => {
      die(`environment failed: ${error.message}`);
      if (isAlive(child)) child.kill('SIGKILL');
    });
    // The IPC channel closed: the worker is dead or dying. Make sure it is dead.
    // Its exit, with the code or signal, normally follows at once and fails the invocation; if
    // the process lingers without a channel it is of no use, so it is killed.
    child.on('disconnect', () => {
      environment.dead = true;
      setTimeout(() => {
        if (isAlive(child)) child.kill('SIGKILL');
      }, 1000).unref();
    });
    child.once('exit', (code, signal) => {
      die(`exited during an invocation (code ${code}, signal ${signal})`);
      markExited();
    });
    return environment;
  }

  private run(environment: Environment, event: unknown): Promise<unknown> {
    const { child } = environment;
    const id = ++this.nextId;
    environment.event = event;
    environment.startedAt = Date.now();
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        child.off('message', onMessage);
        environment.fail = undefined;
        fn();
      };
      const onMessage = (message: { id: number; ok: boolean; fatal?: boolean; result?: unknown; error?: { name: string; message: string } }) => {
        if (message?.id !== id) return;
        // The worker is exiting (its init failed): never hand it another invocation.
        if (message.fatal) environment.dead = true;
        settle(() => (message.ok ? resolve(message.result) : reject(new InvocationError(`${message.error?.name}: ${message.error?.message}`))));
      };
      const timer = setTimeout(() => {
        settle(() => reject(new InvocationError(`${this.options.functionName} timed out after ${this.options.timeoutMs} ms`)));
        // Lambda ends the environment of a timed-out invocation; the next one is a cold start.
        this.crashes++;
        environment.timedOut = true;
        void this.kill(environment);
      }, this.options.timeoutMs);
      environment.fail = (error) => settle(() => reject(error));
      if (environment.dead || !isAlive(child) || !child.connected) {
        settle(() => reject(new InvocationError(`${this.options.functionName} lost its execution environment before the invocation started`)));
        return;
      }
      child.on('message', onMessage);
      const message = {
        type: 'invoke',
        id,
        event,
        bundle: this.options.bundle,
        functionName: this.options.functionName,
        timeoutMs: this.options.timeoutMs,
        memoryMb: this.options.memoryMb,
      };
      try {
        // The callback gets the error of a send on a channel that closed under us (it is then not emitted as 'error').
        child.send(message, (error) => {
          if (!error) return;
          environment.dead = true;
          settle(() => reject(new InvocationError(`${this.options.functionName} could not be invoked: ${error.message}`)));
          if (isAlive(child)) child.kill('SIGKILL');
        });
      } catch (error) {
        environment.dead = true;
        settle(() => reject(new InvocationError(`${this.options.functionName} could not be invoked: ${(error as Error).message}`)));
        if (isAlive(child)) child.kill('SIGKILL');
      }
    });
  }

  private async kill(environment: Environment): Promise<void> {
    environment.dead = true;
    const { child } = environment;
    if (isAlive(child)) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
    // The exit may already have happened (a signal from outside, a crash): then this is resolved.
    await Promise.race([environment.exited, new Promise((r) => setTimeout(r, EXIT_WAIT_MS).unref())]);
  }
}

/** A child that has not exited, by code or by signal. (`killed` only says a signal was sent by us.) */
function isAlive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}
