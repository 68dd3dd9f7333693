/**
 * Reverifier Lambda: invoked by `npm run reverify` (Lambda Invoke, any payload), it re-verifies
 * every held delivery against the current signing secret(s) and answers with its report
 * ({@link reverifyHeld}). Its own role reads the secret (the secret's policy admits it beside the
 * verifier's), lists, reads and removes `held/*`, and sends to the queue.
 */
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import type { ReverifyReport } from '../../contract/held-delivery';
import { HELD_PREFIX } from '../../contract/bucket-layout';
import { REVERIFIER_TIMEOUT_SECONDS } from '../../contract/time-budget';
import { CLIENT_TIMEOUTS, clientConfig } from '../shared/aws-clients';
import { loadReverifierConfig } from '../shared/config';
import { SERVICE } from '../../contract/metric-names';
import { createObservability } from '../shared/observability';
import { enqueueVerifiedEvent } from '../verifier/enqueue';
import { parseSigningSecrets } from '../verifier/signing-secrets';
import { reverifyHeld } from './reverify';

const config = loadReverifierConfig();
const { logger, metrics, tracer } = createObservability(SERVICE.reverifier);
const s3 = tracer.captureAWSv3Client(new S3Client(clientConfig(CLIENT_TIMEOUTS.reverifier)));
const secretsManager = tracer.captureAWSv3Client(new SecretsManagerClient(clientConfig(CLIENT_TIMEOUTS.reverifier)));
const sqs = tracer.captureAWSv3Client(new SQSClient({ useQueueUrlAsEndpoint: false, ...clientConfig(CLIENT_TIMEOUTS.reverifier) }));

/** Kept back from the remaining time: the run stops looking at deliveries this long before the timeout, to answer with its report. */
export const REPORT_RESERVE_MS = 15_000;

/** The invocation's payload: `{}`, or `{"startAfter": <a report's resumeAfter>}` to continue after that key. */
export function startAfterOf(event: unknown): string | undefined {
  const value = (event as { startAfter?: unknown } | null | undefined)?.startAfter;
  return typeof value === 'string' && value.startsWith(HELD_PREFIX) ? value : undefined;
}

export async function handler(event: unknown, context: Context): Promise<ReverifyReport> {
  logger.addContext(context);
  const remaining = typeof context?.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : REVERIFIER_TIMEOUT_SECONDS * 1000;
  const signal = AbortSignal.timeout(Math.max(remaining - REPORT_RESERVE_MS, Math.floor(remaining / 2)));
  try {
    const report = await reverifyHeld({
      readSecrets: async (abortSignal) => {
        const out = await secretsManager.send(new GetSecretValueCommand({ SecretId: config.signingSecretArn }), { abortSignal });
        return parseSigningSecrets(out.SecretString ?? '');
      },
      listHeld: async (abortSignal, token, startAfter) => {
        const out = await s3.send(
          new ListObjectsV2Command({ Bucket: config.holdBucketName, Prefix: HELD_PREFIX, ContinuationToken: token, StartAfter: startAfter }),
          { abortSignal },
        );
        return { keys: (out.Contents ?? []).flatMap((o) => (o.Key ? [o.Key] : [])), next: out.IsTruncated ? out.NextContinuationToken : undefined };
      },
      getHeld: async (key, abortSignal) => {
        const out = await s3.send(new GetObjectCommand({ Bucket: config.holdBucketName, Key: key }), { abortSignal });
        return out.Body!.transformToString('utf8');
      },
      removeHeld: async (key, abortSignal) => {
        await s3.send(new DeleteObjectCommand({ Bucket: config.holdBucketName, Key: key }), { abortSignal });
      },
      enqueue: (verified, abortSignal) => enqueueVerifiedEvent(sqs, config.queueUrl, verified, abortSignal),
      logger,
      toleranceSeconds: config.toleranceSeconds,
      maxBodyBytes: config.maxBodyBytes,
      holdRetentionDays: config.holdRetentionDays,
      idempotencyWindowSeconds: config.idempotencyWindowSeconds,
      startAfter: startAfterOf(event),
      signal,
    });
    logger.info('re-verification done', {
      secretConfigured: report.secretConfigured,
      requeued: report.requeued.length,
      stillUnverified: report.stillUnverified,
      refused: report.refused.length,
      expired: report.expired,
      unreadable: report.unreadable,
      failed: report.failed.length,
      complete: report.complete,
      resumeAfter: report.resumeAfter,
    });
    return report;
  } finally {
    metrics.publishStoredMetrics();
  }
}
