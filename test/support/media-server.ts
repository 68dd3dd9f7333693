import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listenOnLoopback } from '../../local/services/ports';

/** A route of the test media server. */
export type MediaRoute = (req: IncomingMessage, res: ServerResponse) => void;

/** A media host on 127.0.0.1 and a free port, counting requests per path. Stop it with `close()`. */
export interface MediaServer {
  readonly origin: string;
  readonly host: string;
  readonly hits: Map<string, number>;
  route(path: string, handler: MediaRoute): void;
  close(): Promise<void>;
}

export async function startMediaServer(): Promise<MediaServer> {
  const routes = new Map<string, MediaRoute>();
  const hits = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const handler = routes.get(path);
    if (!handler) {
      res.writeHead(404).end();
      return;
    }
    handler(req, res);
  });
  const listener = await listenOnLoopback(server);
  const { port } = listener;
  return {
    origin: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    hits,
    route: (path, handler) => routes.set(path, handler),
    close: listener.close,
  };
}

/** Serves a fixed buffer with a content type. */
export function serveBytes(bytes: Buffer, contentType: string): MediaRoute {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': contentType, 'content-length': bytes.length });
    res.end(bytes);
  };
}
