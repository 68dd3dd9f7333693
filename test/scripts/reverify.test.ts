/**
 * `npm run reverify`: its arguments, the Lambda invocation (a timeout past the function's, the
 * function's own error surfaced), repeated invocations until the reverifier is done, what it prints
 * and its exit code.
 */
import { InvokeCommand, LambdaClient, type InvokeCommandOutput } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import type { ReverifyReport } from '../../contract/held-delivery';
import { exitCodeOf, formatReport, lambdaInvoker, MAX_ROUNDS, parseReverifyArgs, reverifyAll } from '../../scripts/reverify';

const lambda = mockClient(LambdaClient);
afterEach(() => lambda.reset());

/** An Invoke payload: the SDK's is a Uint8Array with helper methods the code does not use. */
const payload = (text: string) => Buffer.from(text) as unknown as InvokeCommandOutput['Payload'];

const report = (overrides: Partial<ReverifyReport> = {}): ReverifyReport => ({
  secretConfigured: true,
  requeued: [],
  stillUnverified: 0,
  refused: [],
  expired: 0,
  unreadable: 0,
  failed: [],
  complete: true,
  ...overrides,
});

describe('parseReverifyArgs', () => {
  it('takes a function, or the local runtime at its default or given loopback URL', () => {
    expect(parseReverifyArgs(['--function', 'Stack-Reverifier-1'])).toEqual({ kind: 'lambda', functionName: 'Stack-Reverifier-1' });
    expect(parseReverifyArgs(['--local'])).toEqual({ kind: 'local', url: 'http://127.0.0.1:3000' });
    expect(parseReverifyArgs(['--local', '--url', 'http://127.0.0.1:4000/'])).toEqual({ kind: 'local', url: 'http://127.0.0.1:4000' });
  });

  it.each([
    [[], /give exactly one of --function and --local/],
    [['--function', 'f', '--local'], /give exactly one of --function and --local/],
    [['--function'], /--function needs a value/],
    [['--local', '--url', 'https://example.com'], /--url must be the local runtime's loopback URL, got https:\/\/example.com/],
    [['--fn', 'x'], /unknown option --fn/],
  ])('refuses %j, saying what is wrong', (argv, message) => {
    expect(() => parseReverifyArgs(argv as string[])).toThrow(message);
  });
});

describe('lambdaInvoker', () => {
  it('invokes the function synchronously and returns its report', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: payload(JSON.stringify(report({ stillUnverified: 2 }))) });
    const out = await lambdaInvoker('fn', new LambdaClient({ region: 'eu-west-1' }))();
    expect(out.stillUnverified).toBe(2);
    expect(lambda.commandCalls(InvokeCommand)[0].args[0].input).toMatchObject({ FunctionName: 'fn', InvocationType: 'RequestResponse' });
  });

  it("surfaces the function's own error (for example the secret could not be read)", async () => {
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: payload(JSON.stringify({ errorType: 'SigningSecretUnavailableError', errorMessage: 'the signing secret could not be read (AccessDenied)' })),
    });
    await expect(lambdaInvoker('fn', new LambdaClient({ region: 'eu-west-1' }))()).rejects.toThrow(
      'the reverifier failed: SigningSecretUnavailableError: the signing secret could not be read (AccessDenied)',
    );
  });

  it('refuses an answer that is not a report', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: payload('null') });
    await expect(lambdaInvoker('fn', new LambdaClient({ region: 'eu-west-1' }))()).rejects.toThrow(/not its report: null/);
  });
});

describe('reverifyAll', () => {
  it('invokes again while the reverifier ran out of time, and adds up what it queued', async () => {
    const answers = [
      report({ requeued: [{ key: 'held/a', eventId: 'evt_a' }], complete: false }),
      report({ requeued: [{ key: 'held/b', eventId: 'evt_b' }], expired: 1, stillUnverified: 3 }),
    ];
    const merged = await reverifyAll(async () => answers.shift()!);
    expect(merged).toMatchObject({ requeued: [{ key: 'held/a' }, { key: 'held/b' }], expired: 1, stillUnverified: 3, complete: true });
  });

  it('starts each round after the key the previous one stopped at, and adds up what each round left', async () => {
    const answers = [
      report({ stillUnverified: 2, refused: [{ key: 'held/b', reason: '400 invalid_json: x' }], complete: false, resumeAfter: 'held/c' }),
      report({ stillUnverified: 1, unreadable: 1, failed: [{ key: 'held/e', reason: 'queue_unavailable' }] }),
    ];
    const startedAfter: Array<string | undefined> = [];
    const merged = await reverifyAll(async (startAfter) => (startedAfter.push(startAfter), answers.shift()!));
    expect(startedAfter).toEqual([undefined, 'held/c']);
    expect(merged).toMatchObject({ stillUnverified: 3, refused: [{ key: 'held/b' }], unreadable: 1, failed: [{ key: 'held/e' }], complete: true });
  });

  it('sends where to continue in the Invoke payload', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: payload(JSON.stringify(report())) });
    await lambdaInvoker('reverifier', new LambdaClient({}))('held/2026/12/06/1-abc.json');
    expect(JSON.parse(Buffer.from(lambda.commandCalls(InvokeCommand)[0]!.args[0].input.Payload as Uint8Array).toString())).toEqual({
      startAfter: 'held/2026/12/06/1-abc.json',
    });
  });

  it('stops after MAX_ROUNDS and says it is not finished', async () => {
    let calls = 0;
    const merged = await reverifyAll(async () => (calls++, report({ complete: false })));
    expect(calls).toBe(MAX_ROUNDS);
    expect(merged.complete).toBe(false);
    expect(exitCodeOf(merged)).toBe(1);
    expect(formatReport(merged)).toContain('run it again');
  });
});

describe('what it prints and its exit code', () => {
  it('0 when done, with the counts and each event queued', () => {
    const done = report({ requeued: [{ key: 'held/k', eventId: 'evt_1', eventType: 'session.status' }], stillUnverified: 1, expired: 2 });
    expect(exitCodeOf(done)).toBe(0);
    const text = formatReport(done);
    expect(text).toMatch(/^1 re-verified and queued$/m);
    expect(text).toMatch(/^1 still not verifying/m);
    expect(text).toMatch(/^2 expired/m);
    expect(text).toContain('queued session.status evt_1 (held/k)');
  });

  it('1 with no secret set, saying nothing changed', () => {
    const unset = report({ secretConfigured: false, message: 'the signing secret has not been set' });
    expect(exitCodeOf(unset)).toBe(1);
    expect(formatReport(unset)).toContain('no signing secret is configured (the signing secret has not been set): nothing was re-verified and nothing changed');
  });

  it('1 when a held delivery could not be queued, naming it', () => {
    const failed = report({ failed: [{ key: 'held/x', reason: 'queue_unavailable: QueueDoesNotExist' }] });
    expect(exitCodeOf(failed)).toBe(1);
    expect(formatReport(failed)).toContain('failed held/x: queue_unavailable: QueueDoesNotExist');
  });
});
