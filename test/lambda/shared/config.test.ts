import { describe, expect, it } from 'vitest';
import { SETTINGS } from '../../../contract/settings';
import { ENV } from '../../../contract/function-environment';
import { loadProcessorConfig, loadVerifierConfig } from '../../../lambda/shared/config';

const verifierEnv = { [ENV.signingSecretArn]: 'arn:secret', [ENV.queueUrl]: 'https://sqs/q' };
const processorEnv = {
  [ENV.bucketName]: 'bucket',
  [ENV.idempotencyTableName]: 'table',
  [ENV.queueUrl]: 'https://sqs/q',
  [ENV.deadLetterQueueUrl]: 'https://sqs/dlq',
};

describe('loadVerifierConfig', () => {
  it('applies the documented defaults', () => {
    expect(loadVerifierConfig(verifierEnv)).toEqual({
      signingSecretArn: 'arn:secret',
      queueUrl: 'https://sqs/q',
      toleranceSeconds: 7 * 24 * 3600,
      maxBodyBytes: 262144,
      secretCacheSeconds: 300,
    });
  });

  it('names a missing variable', () => {
    expect(() => loadVerifierConfig({ [ENV.queueUrl]: 'q' })).toThrow(`environment variable ${ENV.signingSecretArn} is required`);
  });

  it.each(['0', '-1', '1.5', 'ten', '59', String(366 * 24 * 3600 + 1)])('refuses %j as a tolerance, showing the value', (value) => {
    expect(() => loadVerifierConfig({ ...verifierEnv, [ENV.signatureTolerance]: value })).toThrow(
      `environment variable ${ENV.signatureTolerance} must be an integer from 60 to ${366 * 24 * 3600}, got "${value}"`,
    );
  });

  it('accepts the bounds themselves', () => {
    expect(loadVerifierConfig({ ...verifierEnv, [ENV.maxBodyBytes]: '1024' }).maxBodyBytes).toBe(1024);
    expect(loadVerifierConfig({ ...verifierEnv, [ENV.maxBodyBytes]: '760000' }).maxBodyBytes).toBe(760_000);
  });
});

describe('loadProcessorConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadProcessorConfig(processorEnv);
    expect(config.media).toEqual({
      allowedHosts: ['media.facesign.ai'],
      allowHttpLoopback: false,
      downloadTimeoutMs: SETTINGS.mediaDownloadTimeout.default * 1000,
      maxBytes: 1024 ** 3,
    });
    expect(config.maxReceiveCount).toBe(5);
    expect(config.idempotencyWindowSeconds).toBe(7 * 24 * 3600);
  });

  it('reads the allowed hosts as a comma-separated, lower-cased list', () => {
    const config = loadProcessorConfig({ ...processorEnv, [ENV.allowedMediaHosts]: ' Media.FaceSign.ai, 127.0.0.1:9000,*.cdn.example ' });
    expect(config.media.allowedHosts).toEqual(['media.facesign.ai', '127.0.0.1:9000', '*.cdn.example']);
  });

  it.each(['https://media.facesign.ai', 'a b', 'host:port', ','])('refuses %j as a host list', (value) => {
    expect(() => loadProcessorConfig({ ...processorEnv, [ENV.allowedMediaHosts]: value })).toThrow(ENV.allowedMediaHosts);
  });

  it('allows plain http to loopback only when the variable is exactly "true"', () => {
    expect(loadProcessorConfig({ ...processorEnv, [ENV.mediaAllowHttpLoopback]: 'true' }).media.allowHttpLoopback).toBe(true);
    expect(loadProcessorConfig({ ...processorEnv, [ENV.mediaAllowHttpLoopback]: '1' }).media.allowHttpLoopback).toBe(false);
  });
});
