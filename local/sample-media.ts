/**
 * A stand-in for media.facesign.ai in local development: serves a small photo and a small video
 * under any name, so that `npm run send-event -- media.user_photo` has something to download.
 */
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { refuseForeignHost } from './services/loopback-host';
import { listenOnLoopback } from './services/ports';

/** A 1x1 JPEG. */
const PHOTO = Buffer.from(
  '/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////////////////////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABPxA=',
  'base64',
);

/** 256 KiB of deterministic bytes labelled as a video: enough to see streaming happen. */
function sampleVideo(): Buffer {
  const blocks: Buffer[] = [];
  let seed = createHash('sha256').update('facesign-local-video').digest();
  for (let i = 0; i < 8192; i++) {
    seed = createHash('sha256').update(seed).digest();
    blocks.push(seed);
  }
  return Buffer.concat(blocks);
}

/** Starts the sample media host on 127.0.0.1. Paths ending in .mp4 get the video, others the photo. */
export async function startSampleMedia(): Promise<{ origin: string; host: string; stop(): Promise<void> }> {
  const video = sampleVideo();
  const server = createServer((req, res) => {
    if (refuseForeignHost(req, res)) return;
    const isVideo = (req.url ?? '').split('?')[0].endsWith('.mp4');
    const body = isVideo ? video : PHOTO;
    res.writeHead(200, { 'content-type': isVideo ? 'video/mp4' : 'image/jpeg', 'content-length': body.length });
    res.end(body);
  });
  const listener = await listenOnLoopback(server);
  const { port } = listener;
  return {
    origin: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    stop: listener.close,
  };
}
