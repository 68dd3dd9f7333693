/**
 * The services the pipeline runs on, all on 127.0.0.1: a local DynamoDB, SQS and S3 (fauxqs),
 * Secrets Manager and EventBridge; and the handler bundles, built while they start.
 */
import * as path from 'node:path';
import { buildHandlerBundles } from '../../scripts/handler-bundles';
import { startEventBridge, type LocalEventBridge, type PublishedEvent } from '../eventbridge-server';
import { startSecretsManager, type LocalSecretsManager } from '../secrets-manager-server';
import { startDynamoDB, type DynamoDBEngine, type LocalDynamoDB } from '../services/dynamodb';
import { startSqsS3, type LocalSqsS3 } from '../services/sqs-s3';
import type { Teardown } from './teardown';

/** The Secrets Manager id of the local signing secret: what the verifier's environment names. */
export const LOCAL_SECRET_ID = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:facesign-local-signing-secret';

/** The running services, and the bundles the functions run. */
export interface LocalServices {
  readonly bundles: Awaited<ReturnType<typeof buildHandlerBundles>>;
  readonly dynamodb: LocalDynamoDB;
  readonly sqsS3: LocalSqsS3;
  readonly secrets: LocalSecretsManager;
  readonly eventBridge: LocalEventBridge;
}

/** What the services need to know. */
export interface LocalServicesOptions {
  readonly dynamodb: DynamoDBEngine;
  readonly signingSecret: string;
  /** Where EventBridge appends what is published. */
  readonly dataDir: string;
  /** Told why the pure-Node DynamoDB runs instead of DynamoDB Local. */
  readonly onFallback: (reason: string) => void;
  /** Told about each entry published to EventBridge (the inspector's journal). */
  readonly onPublish?: (event: PublishedEvent) => void;
}

/** Starts every service and builds the bundles; each service's stop goes to `teardown`, also when another fails to start. */
export async function startServices(options: LocalServicesOptions, teardown: Teardown): Promise<LocalServices> {
  const started = <T>(promise: Promise<T>, stop: (service: T) => Promise<void>): Promise<T> =>
    promise.then((service) => {
      teardown.add(() => stop(service));
      return service;
    });
  const all = [
    // The very files the package ships and cdk deploys (dist/assets), rebuilt from the sources.
    buildHandlerBundles(),
    started(startDynamoDB(options.dynamodb, options.onFallback), (s) => s.stop()),
    started(startSqsS3(), (s) => s.stop()),
    started(startSecretsManager({ [LOCAL_SECRET_ID]: options.signingSecret }), (s) => s.close()),
    started(startEventBridge(path.join(options.dataDir, 'published-events.jsonl'), options.onPublish), (s) => s.close()),
  ] as const;
  // Every start settles before a failure is thrown, so what did start is in `teardown` by then.
  await Promise.allSettled(all);
  const [bundles, dynamodb, sqsS3, secrets, eventBridge] = await Promise.all(all);
  return { bundles, dynamodb, sqsS3, secrets, eventBridge };
}
