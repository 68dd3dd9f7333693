/**
 * A TCP proxy on 127.0.0.1 between one function and one local service, so a test can fault that
 * service for that function without stopping the service itself:
 * - unreachable: connections are dropped;
 * - paused: connections are accepted and requests held, unanswered, until resumed (a hung or
 *   stopped-the-world service), then delivered.
 */
import { createConnection, createServer, type Socket } from 'node:net';

/** A running fault proxy. */
export interface FaultProxy {
  readonly endpoint: string;
  setReachable(reachable: boolean): void;
  setPaused(paused: boolean): void;
  stop(): Promise<void>;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const { hostname, port } = new URL(target);
  let reachable = true;
  let paused = false;
  const sockets = new Set<Socket>();
  const held: Array<() => void> = [];
  const server = createServer((client) => {
    if (!reachable) {
      client.destroy();
      return;
    }
    const upstream = createConnection({ host: hostname, port: Number(port) });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
      s.on('error', () => undefined);
    }
    const forward = (from: Socket, to: Socket) =>
      from.on('data', (chunk: Buffer) => {
        const write = () => {
          if (!to.destroyed) to.write(chunk);
        };
        if (paused) held.push(write);
        else write();
      });
    forward(client, upstream);
    forward(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    setReachable: (value) => {
      reachable = value;
      if (!value) for (const s of sockets) s.destroy();
    },
    setPaused: (value) => {
      paused = value;
      if (!value) for (const write of held.splice(0)) write();
    },
    stop: () =>
      new Promise<void>((resolve) => {
        held.length = 0;
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
