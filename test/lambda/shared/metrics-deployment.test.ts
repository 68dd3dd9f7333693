import { afterEach, describe, expect, it, vi } from 'vitest';
import { ENV } from '../../../contract/function-environment';
import { createObservability } from '../../../lambda/shared/observability';
import { captureOutputJson } from '../../support/observability';

type Emf = { _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string }> }> } } & Record<string, unknown>;

/** What the handlers' metrics look like in EMF, for one countBy and one count. */
function emit(): Emf[] {
  const out = captureOutputJson();
  try {
    const { eventMetrics, metrics } = createObservability('facesign-verifier');
    eventMetrics.countBy('RequestsRejected', 'Reason', 'invalid_json');
    eventMetrics.count('EventsQuarantined');
    metrics.publishStoredMetrics();
  } finally {
    out.restore();
  }
  return out.lines().filter((l) => '_aws' in l) as Emf[];
}

describe('the deployment dimension', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('is on every data point, totals and per-reason alike, when the construct sets it', () => {
    vi.stubEnv('POWERTOOLS_METRICS_NAMESPACE', 'FaceSignTest');
    vi.stubEnv('POWERTOOLS_SERVICE_NAME', 'facesign-verifier');
    vi.stubEnv(ENV.metricsDeployment, 'Staging/FaceSignWebhooks');
    const lines = emit();
    expect(lines.length).toBe(2);
    for (const line of lines) {
      expect(line.deployment).toBe('Staging/FaceSignWebhooks');
      expect(line.service).toBe('facesign-verifier');
      for (const m of line._aws.CloudWatchMetrics) expect(m.Dimensions[0]).toEqual(expect.arrayContaining(['service', 'deployment']));
    }
    const perReason = lines.find((l) => l.Reason === 'invalid_json');
    expect(perReason?._aws.CloudWatchMetrics[0].Dimensions[0].sort()).toEqual(['Reason', 'deployment', 'service']);
    const totals = lines.find((l) => l.Reason === undefined);
    expect(totals?._aws.CloudWatchMetrics[0].Metrics.map((m) => m.Name).sort()).toEqual(['EventsQuarantined', 'RequestsRejected']);
    expect(totals?._aws.CloudWatchMetrics[0].Dimensions[0].sort()).toEqual(['deployment', 'service']);
  });

  it('is left out where nothing sets it (the local runtime), leaving service alone', () => {
    vi.stubEnv('POWERTOOLS_METRICS_NAMESPACE', 'FaceSignTest');
    vi.stubEnv(ENV.metricsDeployment, '');
    const lines = emit();
    for (const line of lines) {
      expect(line).not.toHaveProperty('deployment');
      for (const m of line._aws.CloudWatchMetrics) expect(m.Dimensions[0]).not.toContain('deployment');
    }
  });
});
