import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * FaceSign's reference verifier, copied from its webhook document as it stands. What it accepts
 * (inside our replay window) is an authentic delivery we must keep: FaceSign never retries a 4xx.
 */
export function referenceVerifier(rawBody: string, signatureHeader: string | undefined, secret: string): boolean {
  if (!signatureHeader) return false;
  const parts = Object.fromEntries(signatureHeader.split(',').map((p) => p.split('=')));
  if (!parts.t || !parts.v1) return false;
  const expected = createHmac('sha256', secret).update(`${parts.t}.${rawBody}`, 'utf8').digest('hex');
  try {
    return timingSafeEqual(Buffer.from(parts.v1, 'hex'), Buffer.from(expected, 'hex'));
  } catch {
    return false;
  }
}
