/**
 * Bench 3: media streaming. A local media server serves 10 MiB, 100 MiB and 1 GiB files; the
 * processor's streaming code (fetch, caps, SHA-256, multipart upload with the SDK) sends each to a
 * loopback S3 endpoint; a raw stream copy of the same bytes into one PUT on the same endpoint is
 * the floor, in the same run. Peak RSS is the transferring process's own.
 */
import { createServer } from 'node:http';
import { listenOnLoopback } from '../local/services/ports';
import { mediaStream } from '../local/media-content';
import { runChild } from './child';
import { startS3Sink } from './s3-sink';
import { median, spread, type BenchRow } from './stats';

const SIZES: Array<[string, number, number]> = [
  ['10 MiB', 10 * 1024 ** 2, 3],
  ['100 MiB', 100 * 1024 ** 2, 3],
  ['1 GiB', 1024 ** 3, 2],
];

type Transfer = { seconds: number; mbPerSecond: number; baselineRssMb: number; peakRssMb: number };

export async function runMediaBench(): Promise<BenchRow[]> {
  const media = createServer((req, res) => {
    const size = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('size'));
    res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': size });
    mediaStream(req.url ?? '', size).pipe(res);
  });
  const mediaListener = await listenOnLoopback(media);
  const origin = `http://127.0.0.1:${mediaListener.port}`;
  const sink = await startS3Sink();
  const endpoint = sink.endpoint;
  const tls = { NODE_EXTRA_CA_CERTS: sink.caFile };
  const rows: BenchRow[] = [];
  const peaks: Record<string, number> = {};
  try {
    for (const [label, size, rounds] of SIZES) {
      const ours: Transfer[] = [];
      const raw: Transfer[] = [];
      const lib: Transfer[] = [];
      for (let i = 0; i < rounds; i++) {
        const url = `${origin}/v${i}.mp4?size=${size}`;
        raw.push(await runChild<Transfer>('media-child.ts', tls, ['raw', url, endpoint, String(size)]));
        lib.push(await runChild<Transfer>('media-child.ts', tls, ['lib-storage', url, endpoint, String(size)]));
        ours.push(await runChild<Transfer>('media-child.ts', tls, ['ours', url, endpoint, String(size)]));
      }
      const ratios = ours.map((o, i) => o.mbPerSecond / raw[i].mbPerSecond);
      peaks[label] = median(ours.map((o) => o.peakRssMb));
      rows.push(
        {
          bench: 'media',
          case: label,
          measure: 'throughput MiB/s',
          value: spread(
            ours.map((o) => o.mbPerSecond),
            0,
          ),
          floor: spread(
            raw.map((r) => r.mbPerSecond),
            0,
          ),
          ratio: spread(ratios),
          goal: '≥ 0.70',
          met: median(ratios) >= 0.7,
        },
        {
          bench: 'media',
          case: label,
          measure: 'throughput vs lib-storage alone (the multipart floor)',
          value: spread(
            ours.map((o) => o.mbPerSecond),
            0,
          ),
          floor: spread(
            lib.map((r) => r.mbPerSecond),
            0,
          ),
          ratio: spread(ours.map((o, i) => o.mbPerSecond / lib[i].mbPerSecond)),
        },
        {
          bench: 'media',
          case: label,
          measure: 'peak RSS MiB (process start → after upload)',
          value: spread(
            ours.map((o) => o.peakRssMb),
            0,
          ),
          floor: spread(
            raw.map((r) => r.peakRssMb),
            0,
          ),
        },
      );
    }
    const growth = peaks['1 GiB'] - peaks['10 MiB'];
    rows.push({ bench: 'media', case: '10 MiB → 1 GiB', measure: 'peak RSS growth MiB', value: growth.toFixed(0), goal: '≤ 64', met: growth <= 64 });
  } finally {
    await Promise.all([sink.stop(), mediaListener.close()]);
  }
  return rows;
}
