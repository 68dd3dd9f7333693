/**
 * Tells a delivery that FaceSign most likely sent, signed with a secret we do not hold, apart from
 * internet noise. Such a delivery gets a 401, which FaceSign does not retry (docs/reference.md,
 * "A 4xx is never retried"), so a wrong or stale signing secret loses every event: the verifier
 * pages at the first one and holds its bytes for re-verification once the secret is fixed. A
 * forger can make a request look like this, so the verdict only ever raises an alarm and holds
 * bytes (capped); it never accepts anything.
 */
import { parseJson, usableIdentifier } from '../../contract/event';
import { MAX_FUTURE_SECONDS } from '../../contract/signature';

/** FaceSign's exact header, as its signer writes it: `t=<Unix seconds>,v1=<64 lowercase hex>`, nothing else. */
const FACESIGN_HEADER = /^t=([0-9]{1,12}),v1=[0-9a-f]{64}$/;

/** The identifiers of a delivery that looks like FaceSign's. */
export interface FaceSignLookalike {
  readonly id: string;
  readonly type: string;
  readonly sessionId: string;
  /** The signed `t`, Unix seconds. */
  readonly signedAt: number;
}

/**
 * A delivery whose signature did not verify looks like FaceSign's when all of these hold:
 * - the signature header is in FaceSign's exact form (one `t` in seconds, one lowercase `v1`);
 * - its `t` is inside the window the verifier would accept (at most `toleranceSeconds` old and at
 *   most {@link MAX_FUTURE_SECONDS} ahead), so it would have been accepted under the right secret;
 * - the body is at most `maxBodyBytes`, UTF-8, and a JSON object with FaceSign's envelope:
 *   `id`, `type` and `sessionId` usable identifiers and `createdAt` a number.
 * Returns its identifiers, or undefined. Cost: one JSON parse of a body already within the size
 * limit, and only on a request that failed verification with a well-formed, fresh header.
 */
export function faceSignLookalike(
  signatureHeader: string | undefined,
  body: Uint8Array,
  options: { readonly nowMs: number; readonly toleranceSeconds: number; readonly maxBodyBytes: number },
): FaceSignLookalike | undefined {
  const match = signatureHeader === undefined ? null : FACESIGN_HEADER.exec(signatureHeader);
  if (!match) return undefined;
  const signedAt = Number(match[1]);
  const age = options.nowMs / 1000 - signedAt;
  if (age > options.toleranceSeconds || -age > Math.min(MAX_FUTURE_SECONDS, options.toleranceSeconds)) return undefined;
  if (body.length === 0 || body.length > options.maxBodyBytes) return undefined;
  let value: unknown;
  try {
    value = parseJson(utf8.decode(body));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const envelope = value as Record<string, unknown>;
  const id = usableIdentifier(envelope.id);
  const type = usableIdentifier(envelope.type);
  const sessionId = usableIdentifier(envelope.sessionId);
  if (id === undefined || type === undefined || sessionId === undefined) return undefined;
  if (typeof envelope.createdAt !== 'number' || !Number.isFinite(envelope.createdAt)) return undefined;
  return { id, type, sessionId, signedAt };
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
