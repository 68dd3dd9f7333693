import { Logger } from '@aws-lambda-powertools/logger';
import type { EventMetrics } from '../../lambda/shared/observability';

/** A real Powertools logger that prints nothing, for tests that are not about logs. */
export function silentLogger(): Logger {
  return new Logger({ serviceName: 'test', logLevel: 'SILENT' });
}

/** One data point as a handler emitted it. */
export interface MetricRecord {
  readonly name: string;
  readonly unit: string;
  readonly value: number;
  readonly dimensions: Readonly<Record<string, string>>;
}

/** Records what our code counts, so unit tests can assert on names, units and dimensions. */
export function recordingMetrics(): { metrics: EventMetrics; records: MetricRecord[]; count: (name: string, dimensions?: Record<string, string>) => number } {
  const records: MetricRecord[] = [];
  const metrics: EventMetrics = {
    count: (name) => records.push({ name, unit: 'Count', value: 1, dimensions: {} }),
    countBy: (name, dimension, value) => {
      records.push({ name, unit: 'Count', value: 1, dimensions: {} });
      records.push({ name, unit: 'Count', value: 1, dimensions: { [dimension]: value } });
    },
    record: (name, unit, value) => records.push({ name, unit, value, dimensions: {} }),
  };
  const count = (name: string, dimensions: Record<string, string> = {}) =>
    records.filter((r) => r.name === name && JSON.stringify(r.dimensions) === JSON.stringify(dimensions)).reduce((sum, r) => sum + r.value, 0);
  return { metrics, records, count };
}

/**
 * Captures what is written to stdout and stderr (Powertools writes JSON log lines there, warnings
 * and errors to stderr, and EMF metrics to stdout), with each JSON line parsed.
 */
export function captureOutputJson(): { lines: () => Array<Record<string, unknown>>; raw: () => string; restore: () => void } {
  const streams = [process.stdout, process.stderr];
  const originals = streams.map((s) => s.write);
  let text = '';
  for (const stream of streams) {
    stream.write = ((chunk: string | Uint8Array) => {
      text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      return true;
    }) as typeof stream.write;
  }
  return {
    raw: () => text,
    lines: () =>
      text
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    restore: () => streams.forEach((s, i) => (s.write = originals[i])),
  };
}
