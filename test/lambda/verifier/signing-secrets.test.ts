import { describe, expect, it, vi } from 'vitest';
import {
  parseSigningSecrets,
  SigningSecretCache,
  SigningSecretNotConfiguredError,
  SigningSecretUnavailableError,
} from '../../../lambda/verifier/signing-secrets';

describe('parseSigningSecrets', () => {
  it('takes a plain string as the one secret, trimmed', () => {
    expect(parseSigningSecrets('  whsec_abc\n')).toEqual(['whsec_abc']);
  });

  it('takes every entry of {"secrets": [...]}', () => {
    expect(parseSigningSecrets('{"secrets":["new","old"]}')).toEqual(['new', 'old']);
  });

  it('recognises the placeholder the construct creates as not configured', () => {
    expect(() => parseSigningSecrets('{"secrets":[],"placeholder":"Xy12"}')).toThrow(SigningSecretNotConfiguredError);
    expect(() => parseSigningSecrets('{"secrets":[],"placeholder":"Xy12"}')).toThrow(/has not been set/);
  });

  it.each([
    ['', /empty/],
    ['{"secrets":', /not valid JSON/],
    ['{"secret":"x"}', /"secrets" array/],
    ['{"secrets":["a",""]}', /non-empty string/],
    ['{"secrets":["a",5]}', /non-empty string/],
  ])('refuses %j with a clear reason', (value, message) => {
    expect(() => parseSigningSecrets(value)).toThrow(message);
  });
});

describe('SigningSecretCache', () => {
  function cache(read: () => Promise<string>, start = 0) {
    let now = start;
    const c = new SigningSecretCache(read, { maxAgeMs: 300_000, minRefreshIntervalMs: 30_000, now: () => now });
    return { c, advance: (ms: number) => (now += ms) };
  }

  it('reads once for many requests within the max age, and again after it', async () => {
    const read = vi.fn(async () => 'whsec_1');
    const { c, advance } = cache(read);
    for (let i = 0; i < 50; i++) await c.get();
    expect(read).toHaveBeenCalledTimes(1);
    advance(300_001);
    await c.get();
    expect(read).toHaveBeenCalledTimes(2);
  });

  it('bounds a revoked secret: accepted by a warm instance until its cached value is maxAgeMs old, never after', async () => {
    // The secret in Secrets Manager: a rotation, then the old secret revoked 10 s after the first read.
    let stored = '{"secrets":["whsec_new","whsec_revoked"]}';
    const { c, advance } = cache(async () => stored);
    expect(await c.get()).toContain('whsec_revoked');
    advance(10_000);
    stored = '{"secrets":["whsec_new"]}';
    // A signature under the revoked secret matches, so no mismatch refresh happens: only the age ends it.
    advance(289_999);
    expect(await c.get()).toContain('whsec_revoked');
    advance(1);
    expect(await c.get()).toEqual(['whsec_new']);
  });

  it('shares one read between concurrent callers', async () => {
    const read = vi.fn(() => new Promise<string>((resolve) => setTimeout(() => resolve('s'), 5)));
    const { c } = cache(read);
    await Promise.all(Array.from({ length: 20 }, () => c.get()));
    expect(read).toHaveBeenCalledTimes(1);
  });

  it('rereads after a mismatch at most once per refresh interval', async () => {
    const values = ['old', 'new'];
    const read = vi.fn(async () => values.shift() ?? 'new');
    const { c, advance } = cache(read);
    await c.get();
    expect(await c.refreshAfterMismatch()).toBeUndefined();
    advance(30_000);
    expect(await c.refreshAfterMismatch()).toEqual(['new']);
    for (let i = 0; i < 100; i++) expect(await c.refreshAfterMismatch()).toBeUndefined();
    expect(read).toHaveBeenCalledTimes(2);
  });

  it('turns a read failure into SigningSecretUnavailableError without caching it', async () => {
    const read = vi
      .fn()
      .mockRejectedValueOnce(Object.assign(new Error('boom'), { name: 'ThrottlingException' }))
      .mockResolvedValue('s');
    const { c } = cache(read);
    await expect(c.get()).rejects.toThrow(SigningSecretUnavailableError);
    await expect(c.get()).resolves.toEqual(['s']);
  });

  it('remembers "not configured" for the refresh interval, then looks again', async () => {
    const read = vi.fn().mockResolvedValueOnce('{"secrets":[]}').mockResolvedValue('{"secrets":["s"]}');
    const { c, advance } = cache(read);
    await expect(c.get()).rejects.toThrow(SigningSecretNotConfiguredError);
    await expect(c.get()).rejects.toThrow(SigningSecretNotConfiguredError);
    expect(read).toHaveBeenCalledTimes(1);
    advance(30_000);
    await expect(c.get()).resolves.toEqual(['s']);
  });
});
