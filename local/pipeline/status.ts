/** What `/__local/status` answers, read from the running pipeline. */
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { LocalRoute } from '../http-api';
import type { LocalLambda } from '../local-lambda';
import type { LocalStatus } from '../runtime';
import type { StackSettings } from '../stack-settings';
import type { SqsEventSourceStats } from '../sqs-event-source';
import { inspectDeadLetters } from './dead-letters';
import type { LocalFunctions } from './functions';
import type { LocalResources } from './resources';
import type { LocalServices } from './services';

/** How many published events and dead letters the status page lists; it counts the rest. */
export const STATUS_RECENT = 20;
export const STATUS_DEAD_LETTERS = 100;

/** Reads the status of the pipeline now. */
export async function readStatus(pipeline: {
  readonly services: LocalServices;
  readonly resources: LocalResources;
  readonly functions: LocalFunctions;
  readonly settings: StackSettings;
  readonly sqs: SQSClient;
  readonly eventSource: SqsEventSourceStats;
}): Promise<LocalStatus> {
  const { services, resources, functions, settings, sqs } = pipeline;
  const [attributes, dead] = await Promise.all([
    sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: resources.queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
      }),
    ),
    inspectDeadLetters(services.sqsS3.endpoint, resources.deadLetterQueueName),
  ]);
  const a = attributes.Attributes ?? {};
  const functionStatus = (fn: LocalLambda) => ({
    environments: fn.environmentsInfo().map(({ pid, busy }) => ({ pid, busy })),
    coldStarts: fn.coldStarts,
    crashes: fn.crashes,
  });
  const { eventBridge } = services;
  const recent = eventBridge.published.slice(-STATUS_RECENT);
  const { receivedEventIds: _ids, ...counts } = pipeline.eventSource;
  return {
    dynamodb: services.dynamodb.kind,
    queue: {
      visible: Number(a.ApproximateNumberOfMessages ?? 0),
      inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
      delayed: Number(a.ApproximateNumberOfMessagesDelayed ?? 0),
      visibilityTimeoutSeconds: settings.queue.visibilityTimeoutSeconds,
      maxReceiveCount: settings.queue.maxReceiveCount,
    },
    deadLetterQueue: { count: dead.length, messages: dead.slice(-STATUS_DEAD_LETTERS), more: Math.max(0, dead.length - STATUS_DEAD_LETTERS) },
    eventSource: counts,
    functions: { verifier: functionStatus(functions.verifier), processor: functionStatus(functions.processor) },
    published: { total: eventBridge.publishedTotal, recent, more: eventBridge.publishedTotal - recent.length },
  };
}

/** The `/__local/status` route: the status as indented JSON, or a 500 that says why it is unavailable. */
export function statusRoute(status: () => Promise<LocalStatus>): LocalRoute {
  return (_req, res) => {
    status().then(
      (body) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body, null, 2));
      },
      (error: Error) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: `status unavailable: ${error.message}` }));
      },
    );
  };
}
