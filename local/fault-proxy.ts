/**
 * A TCP proxy on 127.0.0.1 between one function and one local service, so a test can fault that
 * service for that function without stopping the service itself:
 * - unreachable: connections are dropped;
 * - hung: connections are accepted and never answered, as a service that is up but stuck behaves
 *   (open connections are cut when the hang starts, so pooled ones hang too);
 * - paused: connections are accepted and requests held, unanswered, until resumed (a
 *   stopped-the-world service), then delivered.
 */
import { createConnection, createServer, type Socket } from 'node:net';

/** A running fault proxy. */
export interface FaultProxy {
  readonly endpoint: string;
  setReachable(reachable: boolean): void;
  setHung(hung: boolean): void;
  setPaused(paused: boolean): void;
  stop(): Promise<void>;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const { hostname, port } = new URL(target);
  let reachable = true;
  let hung = false;
  let paused = false;
  const sockets = new Set<Socket>();
  const held: Array<() => void> = [];
  const server = createServer((client) => {
    if (!reachable) {
      client.destroy();
      return;
    }
    if (hung) {
      // Accepted, read, never answered.
      sockets.add(client);
      client.on('close', () => sockets.delete(client));
      client.on('error', () => undefined);
      client.resume();
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
    setHung: (value) => {
      hung = value;
      for (const s of sockets) s.destroy();
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
