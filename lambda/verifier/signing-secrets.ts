/**
 * The verifier's view of the signing secret in Secrets Manager: its two accepted forms, and a
 * cache so that neither normal traffic nor a burst of forged requests costs a Secrets Manager
 * call per request.
 */

/** The secret cannot be read (Secrets Manager error, throttling, no permission). Answered with 503. */
export class SigningSecretUnavailableError extends Error {
  override readonly name = 'SigningSecretUnavailableError';
}

/** The secret was read but holds no usable signing secret yet. Answered with 503 so FaceSign retries. */
export class SigningSecretNotConfiguredError extends Error {
  override readonly name = 'SigningSecretNotConfiguredError';
}

/**
 * Reads a secret string in one of two forms:
 * - the signing secret itself, as FaceSign's dashboard shows it (surrounding white space ignored);
 * - JSON `{"secrets": ["<newest>", "<previous>", ...]}`: every listed secret is accepted, so a
 *   rotation can add the new secret before FaceSign starts using it and drop the old one after.
 * The construct creates the secret as `{"secrets": [], ...}` so that an unset secret is
 * recognised as such.
 */
export function parseSigningSecrets(secretString: string): string[] {
  const text = secretString.trim();
  if (!text.startsWith('{')) {
    if (text === '') throw new SigningSecretNotConfiguredError('the signing secret is empty');
    return [text];
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new SigningSecretNotConfiguredError('the signing secret starts with "{" but is not valid JSON');
  }
  const list = (parsed as { secrets?: unknown }).secrets;
  if (!Array.isArray(list)) {
    throw new SigningSecretNotConfiguredError('the signing secret JSON must have a "secrets" array');
  }
  const secrets = list.filter((s): s is string => typeof s === 'string').map((s) => s.trim());
  if (secrets.length !== list.length || secrets.some((s) => s === '')) {
    throw new SigningSecretNotConfiguredError('every entry of the signing secret "secrets" array must be a non-empty string');
  }
  if (secrets.length === 0) {
    throw new SigningSecretNotConfiguredError('the signing secret has not been set: put the value from the FaceSign dashboard into the secret');
  }
  return secrets;
}

/** Options of {@link SigningSecretCache}. */
export interface SigningSecretCacheOptions {
  /** How long a value read is used before it is read again. */
  readonly maxAgeMs: number;
  /**
   * After a signature mismatch the value is read again (a rotation may have happened), but not
   * more often than this, so forged requests cannot turn into Secrets Manager calls.
   */
  readonly minRefreshIntervalMs: number;
  readonly now?: () => number;
}

/**
 * Caches the parsed signing secrets; concurrent callers share one read. A secret that is not set
 * yet is remembered for `minRefreshIntervalMs`, so that requests arriving before the user sets it
 * do not each cost a read.
 */
export class SigningSecretCache {
  private value: { secrets?: string[]; problem?: Error; fetchedAt: number } | undefined;
  private inFlight: Promise<string[]> | undefined;
  private readonly now: () => number;

  /** @param readSecretString reads the raw secret string; its errors become {@link SigningSecretUnavailableError} */
  constructor(
    private readonly readSecretString: () => Promise<string>,
    private readonly options: SigningSecretCacheOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** The active secrets, read when the cached value is missing or older than `maxAgeMs`. */
  async get(): Promise<string[]> {
    const cached = this.value;
    if (cached) {
      const age = this.now() - cached.fetchedAt;
      if (cached.secrets && age < this.options.maxAgeMs) return cached.secrets;
      if (cached.problem && age < this.options.minRefreshIntervalMs) throw cached.problem;
    }
    return this.refresh();
  }

  /**
   * Reads the secret again if the cached value is older than `minRefreshIntervalMs`. Returns the
   * new secrets, or undefined when a refresh is not allowed yet.
   */
  async refreshAfterMismatch(): Promise<string[] | undefined> {
    if (this.value && this.now() - this.value.fetchedAt < this.options.minRefreshIntervalMs) return undefined;
    return this.refresh();
  }

  private refresh(): Promise<string[]> {
    this.inFlight ??= this.read().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async read(): Promise<string[]> {
    let text: string;
    try {
      text = await this.readSecretString();
    } catch (error) {
      const name = error instanceof Error ? error.name : 'unknown error';
      throw new SigningSecretUnavailableError(`the signing secret could not be read from Secrets Manager (${name})`);
    }
    try {
      const secrets = parseSigningSecrets(text);
      this.value = { secrets, fetchedAt: this.now() };
      return secrets;
    } catch (problem) {
      this.value = { problem: problem as Error, fetchedAt: this.now() };
      throw problem;
    }
  }
}
