/**
 * A TCP proxy on 127.0.0.1 that can be switched off, so a test can make one service unreachable
 * for one function (connections refused by being dropped) without stopping the service itself.
 * It can also hang: connections are accepted and never answered, as a service that is up but
 * stuck behaves (open connections are cut when the hang starts, so pooled ones hang too).
 */
import { createConnection, createServer, type Socket } from 'node:net';

export async function startFaultProxy(
  target: string,
): Promise<{ endpoint: string; setReachable(reachable: boolean): void; setHung(hung: boolean): void; stop(): Promise<void> }> {
  const { hostname, port } = new URL(target);
  let reachable = true;
  let hung = false;
  const sockets = new Set<Socket>();
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
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
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
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
