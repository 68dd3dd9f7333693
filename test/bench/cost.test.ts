import { describe, expect, it } from 'vitest';
import { costPerMillion, PRICES } from '../../bench/cost';

describe('cost per million events', () => {
  const measured = { verifierMs: 9.2, processorMsPerEvent: 20, logBytesPerEvent: 1024 };
  const line = (lines: Array<[string, number]>, prefix: string) => lines.find(([name]) => name.startsWith(prefix))?.[1];

  it('bills Lambda duration in whole milliseconds at the configured memory', () => {
    const { lines } = costPerMillion(measured, false);
    // 1 M × 0.5 GB × 10 ms (9.2 rounded up) × arm price
    expect(line(lines, 'verifier: duration')).toBeCloseTo(1e6 * 0.5 * 0.01 * PRICES.lambdaArmPerGbSecond, 6);
    expect(line(lines, 'processor: duration')).toBeCloseTo(1e6 * 1 * 0.02 * PRICES.lambdaArmPerGbSecond, 6);
  });

  it('counts one archive PUT per event, two with media, and sums every line', () => {
    const plain = costPerMillion(measured, false);
    const media = costPerMillion(measured, true, 10);
    expect(line(plain.lines, 'S3')).toBeCloseTo(5, 6);
    expect(line(media.lines, 'S3')).toBeCloseTo(10, 6);
    expect(plain.total).toBeCloseTo(
      plain.lines.reduce((s, [, v]) => s + v, 0),
      9,
    );
    expect(media.total).toBeGreaterThan(plain.total);
  });

  it('charges log ingestion by the bytes measured per event', () => {
    expect(line(costPerMillion({ ...measured, logBytesPerEvent: 1024 ** 3 / 1e6 }, false).lines, 'CloudWatch Logs')).toBeCloseTo(PRICES.logsIngestionPerGb, 6);
  });
});
