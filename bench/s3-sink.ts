/**
 * A loopback S3 endpoint that accepts PutObject and the multipart calls and throws the bytes away,
 * counting them. The media benchmark sends both the raw copy and the processor's upload here, so
 * the comparison measures our streaming code, not a storage emulator (fauxqs, which the end-to-end
 * tests use for correctness, caps single PUTs at 11 MiB and stores everything in memory).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { listenOnLoopback } from '../local/services/ports';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

/**
 * Served over TLS with a throw-away self-signed certificate, as S3 is: over plain http the SDK
 * signs (hashes) every payload byte, which it does not do against https S3. Clients trust the
 * certificate through NODE_EXTRA_CA_CERTS=`caFile`.
 */
export async function startS3Sink(): Promise<{ endpoint: string; caFile: string; received: () => number; stop(): Promise<void> }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sink-tls-'));
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ],
    { stdio: 'ignore' },
  );
  let received = 0;
  let uploads = 0;
  const server: Server = createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => {
    const url = new URL(req.url ?? '/', 'http://sink');
    const [, bucket, ...rest] = url.pathname.split('/');
    const key = rest.join('/');
    req.on('data', (chunk: Buffer) => (received += chunk.length));
    req.on('end', () => {
      const xml = (body: string) => {
        res.writeHead(200, { 'content-type': 'application/xml' });
        res.end(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`);
      };
      if (req.method === 'POST' && url.searchParams.has('uploads')) {
        return xml(
          `<InitiateMultipartUploadResult><Bucket>${bucket}</Bucket><Key>${key}</Key><UploadId>u${++uploads}</UploadId></InitiateMultipartUploadResult>`,
        );
      }
      if (req.method === 'POST' && url.searchParams.has('uploadId')) {
        return xml(
          `<CompleteMultipartUploadResult><Location>http://sink/${bucket}/${key}</Location><Bucket>${bucket}</Bucket><Key>${key}</Key><ETag>"sink"</ETag></CompleteMultipartUploadResult>`,
        );
      }
      if (req.method === 'DELETE') return void res.writeHead(204).end();
      res.writeHead(200, { etag: '"sink"' });
      res.end();
    });
  });
  const listener = await listenOnLoopback(server);
  return {
    endpoint: `https://127.0.0.1:${listener.port}`,
    caFile: cert,
    received: () => received,
    stop: listener.close,
  };
}
