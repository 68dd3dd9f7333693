/**
 * Defences of the local servers against other programs on this machine and against web pages:
 *
 * - Binding 127.0.0.1 keeps other hosts out, but a web page can still reach a loopback server by
 *   DNS rebinding (its own name, re-pointed at 127.0.0.1): the browser then sends that name in
 *   the Host header. Every local server that serves data answers only Host headers naming the
 *   loopback address or localhost with its own port, as a browser sends when the URL really is
 *   http://127.0.0.1:<port> or http://localhost:<port>. (The webhook API also serves a tunnel's
 *   host on its webhook route, only when opted in: ../public-url.ts.)
 * - A page on another origin needs no DNS rebinding to send a POST (a form, or fetch in no-cors
 *   mode, needs no CORS): the inspector's buttons and the webhook route refuse a browser's foreign
 *   Origin (`isOwnOrigin`), and the AWS stand-ins refuse any Origin (`fromWebPage`): their
 *   clients are AWS SDKs, which send none. fauxqs's query APIs (SNS Subscribe and Publish, S3 form
 *   uploads) take such POSTs, and would queue an event the verifier never saw.
 * - Files that hold the signing secret are readable by their owner only.
 */
import { closeSync, fchmodSync, openSync, writeSync } from 'node:fs';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';

const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * True when `host` is `127.0.0.1:<port>`, `localhost:<port>` or `[::1]:<port>` (any case). With
 * `subdomainsOfLocalhost`, also `<name>.localhost:<port>`, which browsers resolve to loopback
 * themselves (RFC 6761), so no page can rebind such a name: fauxqs's queue URLs use them.
 * `port` `'any'` is for a server reached through a proxy on another port; the name is what stops
 * rebinding, the port only narrows it further.
 */
export function isLoopbackHost(host: string | undefined, port: number | 'any', options: { subdomainsOfLocalhost?: boolean } = {}): boolean {
  if (!host) return false;
  const match = /^(.+):(\d{1,5})$/.exec(host.trim().toLowerCase());
  if (match === null || (port !== 'any' && Number(match[2]) !== port)) return false;
  const name = match[1];
  return LOOPBACK_NAMES.has(name) || (options.subdomainsOfLocalhost === true && /^([a-z0-9-]+\.)+localhost$/.test(name));
}

/**
 * True when a browser's Origin header names a page of this server itself: a loopback origin
 * (`http://127.0.0.1:<port>`, `http://localhost:<port>`) on the port the request arrived on. No
 * Origin is not one (where a button requires it: browsers send one with every POST).
 */
export function isOwnOrigin(origin: string | undefined, port: number): boolean {
  if (!origin) return false;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  return url.protocol === 'http:' && url.origin === origin && isLoopbackHost(url.host, port);
}

/**
 * The 403 message for a request from a web page (it carries an Origin: browsers send one with
 * every POST and every cross-origin fetch) to a local AWS stand-in, whose clients (AWS SDKs) send
 * none; undefined for any other request.
 */
export function fromWebPage(headers: IncomingHttpHeaders): string | undefined {
  if (headers.origin === undefined) return undefined;
  return `Origin "${headers.origin}" refused: this local AWS stand-in answers AWS SDK clients, never a web page`;
}

/**
 * Answers 403 and returns true when the request's Host header is not loopback with the server's
 * own port, or when it comes from a web page (`fromWebPage`); the caller then stops. The port is
 * read from the socket, so it is always the real one.
 */
export function refuseForeignHost(req: IncomingMessage, res: ServerResponse): boolean {
  const webPage = fromWebPage(req.headers);
  if (webPage === undefined && isLoopbackHost(req.headers.host, req.socket.localPort ?? -1)) return false;
  const body = JSON.stringify({
    message:
      webPage ??
      `Host "${String(req.headers.host ?? '')}" refused: this local server answers only 127.0.0.1:${req.socket.localPort} or localhost:${req.socket.localPort}`,
  });
  res.writeHead(403, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close' });
  res.end(body);
  return true;
}

/**
 * Writes a file only its owner can read or write (0600), also when it already existed with a
 * wider mode: a mode given to writeFile applies only to a file it creates.
 */
export function writePrivateFile(file: string, content: string): void {
  const fd = openSync(file, 'w', 0o600);
  try {
    fchmodSync(fd, 0o600);
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
}
