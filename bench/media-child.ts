/**
 * One media transfer in a fresh process, reporting time and peak RSS:
 *   mode "ours": the processor's storeMedia (fetch, size and time caps, SHA-256, multipart upload)
 *   mode "raw":  the same bytes piped from the media server straight into one S3 PUT on loopback
 *   mode "lib-storage": the same bytes through @aws-sdk/lib-storage alone (the multipart floor)
 */
import { request } from 'node:https';
import { S3Client } from '@aws-sdk/client-s3';
import { MEDIA_URL_LIFETIME_SECONDS } from '../contract/time-budget';
import { deadlineIn } from '../lambda/processor/deadline';
import { storeMedia } from '../lambda/processor/media-transfer';

const [, , mode, url, endpoint, sizeText] = process.argv;
const size = Number(sizeText);

async function raw(): Promise<void> {
  const response = await fetch(url);
  const { Readable } = await import('node:stream');
  const target = new URL(`/bench/raw-${Date.now()}`, endpoint);
  await new Promise<void>((resolve, reject) => {
    const put = request(target, { method: 'PUT', headers: { 'content-length': size, 'content-type': 'video/mp4' } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`PUT answered ${res.statusCode}`))));
    });
    put.on('error', reject);
    Readable.fromWeb(response.body as never).pipe(put);
  });
}

async function libStorage(): Promise<void> {
  const { Upload } = await import('@aws-sdk/lib-storage');
  const { Readable } = await import('node:stream');
  const response = await fetch(url);
  await new Upload({
    client: s3Client(),
    partSize: 5 * 1024 ** 2,
    queueSize: 4,
    params: { Bucket: 'bench', Key: `lib-${Date.now()}`, Body: Readable.fromWeb(response.body as never) },
  }).done();
}

function s3Client(): S3Client {
  return new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: { accessKeyId: 'b', secretAccessKey: 'b' } });
}

async function ours(): Promise<void> {
  const s3 = s3Client();
  const now = Date.now();
  await storeMedia(
    {
      id: `evt_${now}`,
      type: 'media.user_video',
      createdAt: now,
      sessionId: 'bench',
      media: { id: `m_${now}`, createdAt: now, url, expires: now + MEDIA_URL_LIFETIME_SECONDS * 1000, contentType: 'video/mp4' },
    },
    {
      s3,
      bucket: 'bench',
      policy: { allowedHosts: [new URL(url).host], allowHttpLoopback: true, downloadTimeoutMs: 600_000, maxBytes: 2 * 1024 ** 3 },
      deadline: deadlineIn(900_000),
      now: Date.now,
      retry: false,
    },
  );
}

(async () => {
  const baselineKb = process.resourceUsage().maxRSS;
  const started = process.hrtime.bigint();
  await (mode === 'raw' ? raw() : mode === 'lib-storage' ? libStorage() : ours());
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  process.stdout.write(
    `${JSON.stringify({ seconds, mbPerSecond: size / 1024 ** 2 / seconds, baselineRssMb: baselineKb / 1024, peakRssMb: process.resourceUsage().maxRSS / 1024 })}\n`,
  );
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
