/**
 * A stand-in for media.facesign.ai in local development: serves a small photo and a small video
 * under any name, so that `npm run send-event -- media.user_photo` has something to download.
 */
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { refuseForeignHost } from './services/loopback-host';
import { listenOnLoopback } from './services/ports';

/** A 64x64 JPEG (a person's outline): enough for the inspector's thumbnail to show something. */
const PHOTO = Buffer.from(
  [
    '/9j/4AAQSkZJRgABAQAAAQABAAD/4gHYSUNDX1BST0ZJTEUAAQEAAAHIAAAAAAQwAABtbnRyUkdCIFhZWiAH4AABAAEAAAAAAABhY3NwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    'AQAA9tYAAQAAAADTLQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAlkZXNjAAAA8AAAACRyWFlaAAABFAAAABRnWFlaAAABKAAAABRiWFla',
    'AAABPAAAABR3dHB0AAABUAAAABRyVFJDAAABZAAAAChnVFJDAAABZAAAAChiVFJDAAABZAAAAChjcHJ0AAABjAAAADxtbHVjAAAAAAAAAAEAAAAMZW5VUwAAAAgAAAAcAHMAUgBHAEJY',
    'WVogAAAAAAAAb6IAADj1AAADkFhZWiAAAAAAAABimQAAt4UAABjaWFlaIAAAAAAAACSgAAAPhAAAts9YWVogAAAAAAAA9tYAAQAAAADTLXBhcmEAAAAAAAQAAAACZmYAAPKnAAANWQAA',
    'E9AAAApbAAAAAAAAAABtbHVjAAAAAAAAAAEAAAAMZW5VUwAAACAAAAAcAEcAbwBvAGcAbABlACAASQBuAGMALgAgADIAMAAxADb/2wBDAA0JCgsKCA0LCgsODg0PEyAVExISEyccHhcg',
    'LikxMC4pLSwzOko+MzZGNywtQFdBRkxOUlNSMj5aYVpQYEpRUk//2wBDAQ4ODhMREyYVFSZPNS01T09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09P',
    'T0//wAARCABAAEADASIAAhEBAxEB/8QAGwAAAgMBAQEAAAAAAAAAAAAAAAYBAgUEAwf/xAAsEAABBAADBwIHAQAAAAAAAAABAAIDBAUGERIhMUFSgdEiURMUI2JxkcHh/8QAGQEAAgMB',
    'AAAAAAAAAAAAAAAAAQMAAgQF/8QAHhEAAgICAwEBAAAAAAAAAAAAAAECAxEhBBIxIkH/2gAMAwEAAhEDEQA/AHwlQSglVJWoytgSqkoJWTczDh1WQsMjpXDiIhrp34JkYSlpIq5JemqS',
    'qkrLq5gw+08MEjonHgJBpr34LT1RcJR00V7J+ASqkoJVSVANnUSqkoJUEqhdsXs2Yg+vAypC4tdMCXkcdn27/wASgmHOMbhdgl0Ow6PZH5BPkJeXW4ySrWDLY8yBNmVsQfPA+rM4udEA',
    'WE8dn27JTW/lGNxuTy6elseyfyT/AIpyEnW8gg9jUSoJQSqkrnDmzqJVSUEqCVQYcmJUYsQqOgl3Hi13Np90nWsDxCs8j4DpW8nR+rXtxTddxWlS1E8w2+hu936WTLmqAH6VWRw+5wb5',
    'Wuh2xXytCZ9X6Y9bBMQsPA+A6JvN0np07cU24fSiw+q2CPfzc7qPusmPNMBP1a0jR9rg7wtOpilO5oIZhtdDtx/SNztkvpaBHqvDrJUEoJVSUgLZ1ErBzDjDqY+VrHSdw1c7oHlbhK+d',
    'XZ3Wbk0zjve8lM41alLL/A2Swjyc5znFziS4nUkneVCELoiAQ1xa4OaSCN4I5IQiQasCxZ1sfLWDrM0atd1DytglIVSY17cUrTvY4FPZKw31qMsr9Lpn/9k=',
  ].join(''),
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
