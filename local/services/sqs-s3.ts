/**
 * SQS and S3 in one process (fauxqs), listening on 127.0.0.1 only. fauxqs's own `startFauxqs`
 * binds every interface, so its Fastify app is built and bound here instead.
 */
import type { AddressInfo } from 'node:net';

/** A running local SQS and S3. */
export interface LocalSqsS3 {
  readonly endpoint: string;
  stop(): Promise<void>;
}

export async function startSqsS3(): Promise<LocalSqsS3> {
  const { buildApp } = await import('fauxqs');
  const app = buildApp({ logger: false, defaultRegion: 'us-east-1' });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return { endpoint: `http://127.0.0.1:${port}`, stop: () => app.close() };
}
