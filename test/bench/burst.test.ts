import { describe, expect, it } from 'vitest';
import { costsFromResults, DEFAULT_SETTINGS, simulateBurst, slower, timeoutBudget, URL_LIFE_S, DELIVERY_DELAY_S, type MeasuredCosts } from '../../bench/burst';

const flat: MeasuredCosts = { processorMsPerEvent: 50, transferFixedS: 0.3, streamMiBps: 80, environmentMiBps: 100, coldStartMs: 250, source: 'test' };

describe('burst simulation', () => {
  it('reads the measured per-event costs from bench/RESULTS.md', () => {
    const costs = costsFromResults();
    expect(costs.processorMsPerEvent).toBeGreaterThan(0);
    expect(costs.streamMiBps).toBeGreaterThan(0);
    expect(costs.environmentMiBps).toBeGreaterThan(0);
    expect(costs.source).toMatch(/commit \w+/);
  });

  it('events without media never expire, and more events never drain faster', () => {
    expect(simulateBurst(20_000, 0, flat).expired).toBe(0);
    const small = simulateBurst(1_000, 0.5, flat);
    const large = simulateBurst(10_000, 0.5, flat);
    expect(large.drainS).toBeGreaterThan(small.drainS);
    expect(large.media).toBe(5_000);
  });

  it('counts URLs that die before their batch starts', () => {
    // 1 MiB/s: the queue cannot drain before the URLs die.
    const r = simulateBurst(10_000, 0.5, { ...flat, streamMiBps: 1, environmentMiBps: 1 });
    expect(r.expired).toBeGreaterThan(0);
    expect(r.peakQueueAgeS).toBeGreaterThan(URL_LIFE_S - DELIVERY_DELAY_S);
  });

  it('the defaults drain 10,000 events, half media, with no URL lost, even at a tenth of the measured throughput', () => {
    const measured = costsFromResults();
    for (const slowdown of [1, 4, 10]) expect(simulateBurst(10_000, 0.5, slower(measured, slowdown), DEFAULT_SETTINGS).expired).toBe(0);
  });

  it('the timeout budget brings a crashed batch back within 5 minutes and keeps every retry schedule inside the URL life', () => {
    const b = timeoutBudget();
    expect(b.visibility).toBeLessThanOrEqual(300);
    expect(b.visibility).toBeGreaterThanOrEqual(b.processorTimeout);
    expect(b.transientWorstCase).toBeLessThanOrEqual(URL_LIFE_S - DELIVERY_DELAY_S);
    expect(b.crashThenSuccess).toBeLessThanOrEqual(URL_LIFE_S - DELIVERY_DELAY_S);
  });
});
