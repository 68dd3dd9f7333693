/**
 * SQS and S3 in one process (fauxqs), listening on 127.0.0.1 only. fauxqs's own `startFauxqs`
 * binds every interface, so its Fastify app is built and bound here instead.
 */
import type { AddressInfo } from 'node:net';
import { fromWebPage, isLoopbackHost } from './loopback-host';

/** A running local SQS and S3. */
export interface LocalSqsS3 {
  readonly endpoint: string;
  stop(): Promise<void>;
}

export async function startSqsS3(): Promise<LocalSqsS3> {
  const { buildApp } = await import('fauxqs');
  const app = buildApp({ logger: false, defaultRegion: 'us-east-1' });
  // It holds the queued payloads and the stored media: nothing for a page that rebound its name
  // to 127.0.0.1 (see loopback-host.ts).
  app.addHook('onRequest', (request, reply, done) => {
    // Nor to any other web page: its form POSTs reach fauxqs's query APIs without CORS (loopback-host.ts).
    const webPage = fromWebPage(request.headers);
    // Any port: the verifier reaches it through the fault proxy (local/fault-proxy.ts), whose port the Host names.
    if (webPage === undefined && isLoopbackHost(request.headers.host, 'any', { subdomainsOfLocalhost: true })) return done();
    void reply
      .code(403)
      .header('connection', 'close')
      .send({ message: webPage ?? `Host "${String(request.headers.host ?? '')}" refused: this local server answers only loopback names` });
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return { endpoint: `http://127.0.0.1:${port}`, stop: () => app.close() };
}
