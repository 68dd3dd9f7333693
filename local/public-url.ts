/**
 * The tunnel opt-in, `npm run dev -- --public-url https://<tunnel host>`: which requests the local
 * HTTP API serves, and to whom.
 *
 * - Loopback Hosts (`127.0.0.1:<port>`, `localhost:<port>`) get every route, as before (the DNS
 *   rebinding defence in services/loopback-host.ts).
 * - The public URL's host gets the webhook route only: a tunnel (ngrok, cloudflared) passes the
 *   public Host through unchanged unless told to rewrite it
 *   (https://ngrok.com/docs/using-ngrok-with/virtualHosts), so a tunnelled request names it.
 *   Everything else (`/__local/*`, the inspector, whatever a later route serves) stays loopback-only.
 * - A request carrying a proxy's forwarding headers (X-Forwarded-For, Forwarded, ...) came through
 *   a tunnel or proxy even when its Host was rewritten to a loopback one: it, too, gets the
 *   webhook route only, and only with the opt-in.
 * - Any other Host is refused with a 403 that names the opt-in.
 * - On this machine, the webhook route refuses a browser's foreign Origin: a page on any site can
 *   POST to 127.0.0.1 without CORS (a form, fetch in no-cors mode) and would fill the inspector
 *   with its requests, pushing real deliveries out. FaceSign and send-event send no Origin.
 *
 * None of this touches what the verifier checks: it verifies the HMAC over the body bytes, which a
 * tunnel forwards unchanged; the forwarding headers reach it as any other header does.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { WEBHOOK_PATH } from '../contract/webhook-path';
import { isLoopbackHost, isOwnOrigin } from './services/loopback-host';

/** The command-line flag of the opt-in, as the messages name it. */
export const PUBLIC_URL_FLAG = '--public-url';

const EXAMPLE = 'https://abc123.ngrok-free.app';

/** A bad `--public-url`. */
export class PublicUrlError extends Error {
  override readonly name = 'PublicUrlError';
}

/**
 * Checks a public URL and returns it parsed: https (FaceSign posts only to HTTPS endpoints, and
 * ngrok and cloudflared give an https URL), a bare origin (the webhook path is added to it), no
 * credentials, and not a name of this machine.
 */
export function parsePublicUrl(value: string): URL {
  const given = value.trim();
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    throw new PublicUrlError(`${PUBLIC_URL_FLAG} must be the tunnel's https URL, such as ${EXAMPLE}; got "${value}"`);
  }
  if (url.protocol !== 'https:') {
    throw new PublicUrlError(
      `${PUBLIC_URL_FLAG} must be an https URL (FaceSign posts webhooks to https endpoints only, and ngrok and cloudflared give an https URL); got "${value}"`,
    );
  }
  if (url.username || url.password) {
    throw new PublicUrlError(`${PUBLIC_URL_FLAG} must not contain credentials (user:password@); got "${url.protocol}//...@${url.host}"`);
  }
  if (url.pathname !== '/' || url.search || url.hash || /[?#]/.test(given)) {
    throw new PublicUrlError(
      `${PUBLIC_URL_FLAG} must be a bare origin, https://<host>, with no path, query or fragment (the webhook path ${WEBHOOK_PATH} is added to it); got "${value}"`,
    );
  }
  if (isLoopbackName(url.hostname)) {
    throw new PublicUrlError(`${PUBLIC_URL_FLAG} must be the tunnel's public URL, not a name of this machine; got "${value}"`);
  }
  return url;
}

/**
 * True when a Host header names the public URL's host: the same name (any case) and port, where
 * `host` and `host:443` are the same for an https URL without a port (RFC 9110, section 4.2.2:
 * https's default port is 443). Anything that is not a plain `host[:port]` is not it.
 */
export function isPublicHost(host: string | undefined, publicUrl: URL): boolean {
  if (!host || !/^[a-z0-9.-]+(:\d{1,5})?$/i.test(host)) return false;
  return host.toLowerCase().replace(/:443$/, '') === publicUrl.host;
}

/** The headers a proxy or tunnel adds to say it forwarded the request. */
const FORWARDING_HEADERS = ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'cf-connecting-ip'] as const;

/** The verdict on a request's Host: served, or refused with a 403 and why. */
export type Admission = { readonly admitted: true } | { readonly admitted: false; readonly message: string };

/** Decides whether the local HTTP API serves a request, from its Host, path and headers (see the file's comment). */
export function admitRequest(request: {
  readonly headers: IncomingHttpHeaders;
  readonly path: string;
  /** The port the request arrived on. */
  readonly localPort: number;
  readonly publicUrl?: URL;
}): Admission {
  const { headers, path, localPort, publicUrl } = request;
  const host = headers.host;
  const loopback = isLoopbackHost(host, localPort);
  const viaPublicHost = publicUrl !== undefined && isPublicHost(host, publicUrl);
  const loopbackOnly = `127.0.0.1:${localPort} or localhost:${localPort}`;
  if (!loopback && !viaPublicHost) {
    return {
      admitted: false,
      message: publicUrl
        ? `Host "${String(host ?? '')}" refused: this local server answers ${loopbackOnly}, and ${publicUrl.host} (${PUBLIC_URL_FLAG}) on ${WEBHOOK_PATH} only`
        : `Host "${String(host ?? '')}" refused: this local server answers only ${loopbackOnly}. To receive FaceSign deliveries through a tunnel, start it with npm run dev -- ${PUBLIC_URL_FLAG} https://<tunnel host>`,
    };
  }
  const forwardedBy = FORWARDING_HEADERS.find((name) => headers[name] !== undefined);
  if (!viaPublicHost && forwardedBy === undefined) {
    const origin = headers.origin;
    if (path === WEBHOOK_PATH && origin !== undefined && !isOwnOrigin(origin, localPort)) {
      return {
        admitted: false,
        message: `Origin "${origin}" refused: a web page on another origin cannot post to this local webhook route (FaceSign and npm run send-event send no Origin)`,
      };
    }
    return { admitted: true };
  }
  if (path !== WEBHOOK_PATH) {
    return {
      admitted: false,
      message: `${path} is served on ${loopbackOnly} only; through ${viaPublicHost ? `the public URL's host ${publicUrl!.host}` : `a proxy or tunnel (${forwardedBy})`}, only ${WEBHOOK_PATH} is`,
    };
  }
  if (!publicUrl) {
    return {
      admitted: false,
      message: `a request forwarded by a proxy or tunnel (${forwardedBy}) is served only with the opt-in: npm run dev -- ${PUBLIC_URL_FLAG} https://<tunnel host>`,
    };
  }
  return { admitted: true };
}

/** localhost, *.localhost, 127.0.0.0/8, ::1 and 0.0.0.0: names that reach this machine. */
function isLoopbackName(hostname: string): boolean {
  const name = hostname.toLowerCase();
  return name === 'localhost' || name.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(name) || name === '[::1]' || name === '0.0.0.0';
}
