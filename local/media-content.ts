import { createCipheriv, createHash } from 'node:crypto';
import { Readable } from 'node:stream';

/**
 * Deterministic pseudo-random bytes of any size (AES-128-CTR keystream under a key derived from
 * the seed): the media server streams them, a test recomputes their SHA-256 without storing them.
 */
export function mediaStream(seed: string, size: number): Readable {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(1024 * 1024);
  let left = size;
  return new Readable({
    read() {
      if (left === 0) {
        this.push(null);
        return;
      }
      const n = Math.min(left, zeros.length);
      left -= n;
      this.push(cipher.update(zeros.subarray(0, n)));
    },
  });
}

/** SHA-256 (hex) of `mediaStream(seed, size)`. */
export async function mediaSha256(seed: string, size: number): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of mediaStream(seed, size)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
