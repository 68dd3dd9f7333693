/**
 * What the stack sets, read from the construct itself. The local runtime builds FaceSignWebhooks
 * in a throwaway app (no bundling, no synthesis: about a second) and reads the queue, the three
 * functions and the event source mapping it created. So the queue's visibility timeout, the
 * redrive count, the timeouts, memory, batch size, concurrency and the functions' plain
 * environment variables are whatever the construct sets for these props, never a second copy.
 */
import { App, Stack } from 'aws-cdk-lib';
import { CfnStage as CfnRestStage } from 'aws-cdk-lib/aws-apigateway';
import { CfnStage as CfnHttpStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { CfnEventSourceMapping, type CfnFunction } from 'aws-cdk-lib/aws-lambda';
import type { CfnQueue } from 'aws-cdk-lib/aws-sqs';
import { FaceSignWebhooks, type FaceSignWebhooksProps } from '../lib';
import type { FrontDoorType } from '../lib/front-door/front-door';
import type { StageThrottle } from './http-api';

/** One function as the stack configures it. */
export interface StackFunctionSettings {
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  /** Reserved concurrency, when the stack sets one. */
  readonly reservedConcurrency?: number;
  /** The variables whose values are plain strings; those that name deployed resources are left out. */
  readonly environment: Readonly<Record<string, string>>;
}

/** The settings of the stack that the local runtime honours. */
export interface StackSettings {
  readonly queue: { readonly visibilityTimeoutSeconds: number; readonly maxReceiveCount: number };
  readonly verifier: StackFunctionSettings;
  readonly processor: StackFunctionSettings & { readonly batchSize: number; readonly maxConcurrency: number };
  readonly reverifier: StackFunctionSettings;
  /** The front door and its stage throttle (a limit the stage leaves unset is unlimited here). */
  readonly frontDoor: { readonly type: FrontDoorType; readonly throttle?: StageThrottle };
}

/** The props the local runtime can pass on: those that do not name an existing AWS resource. */
export type LocalStackProps = Omit<
  FaceSignWebhooksProps,
  | 'existingSigningSecretObj'
  | 'existingBucketObj'
  | 'existingEventBusObj'
  | 'existingAlarmTopicObj'
  | 'existingCriticalAlarmTopicObj'
  | 'signingSecretProps'
  | 'bucketProps'
  | 'eventBusProps'
  | 'alarmTopicProps'
>;

/** Builds the construct with these props and reads what it set. Throws the construct's own error for a bad prop. */
export function readStackSettings(props: LocalStackProps = {}): StackSettings {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'LocalRuntimeSettings');
  const webhooks = new FaceSignWebhooks(stack, 'Webhooks', props);
  const resolve = <T>(value: unknown): T => stack.resolve(value) as T;

  const queue = webhooks.queue.node.defaultChild as CfnQueue;
  const redrive = resolve<{ maxReceiveCount?: number } | undefined>(queue.redrivePolicy);
  const mapping = webhooks.node.findAll().find((c): c is CfnEventSourceMapping => c instanceof CfnEventSourceMapping);
  if (!mapping) throw new Error('the construct created no SQS event source mapping for the processor');
  const scaling = resolve<{ maximumConcurrency?: number } | undefined>(mapping.scalingConfig);

  return {
    queue: {
      visibilityTimeoutSeconds: required('the queue visibility timeout', resolve<number | undefined>(queue.visibilityTimeout)),
      maxReceiveCount: required('the redrive policy maxReceiveCount', redrive?.maxReceiveCount),
    },
    verifier: functionSettings(webhooks.verifier.node.defaultChild as CfnFunction, resolve),
    processor: {
      ...functionSettings(webhooks.processor.node.defaultChild as CfnFunction, resolve),
      batchSize: required('the event source batch size', resolve<number | undefined>(mapping.batchSize)),
      // Lambda's SQS event source polls with at least two concurrent invocations when no maximum is set.
      maxConcurrency: scaling?.maximumConcurrency ?? 2,
    },
    reverifier: functionSettings(webhooks.reverifier.node.defaultChild as CfnFunction, resolve),
    frontDoor: { type: webhooks.frontDoor.type, ...stageThrottle(webhooks, resolve) },
  };
}

/** The stage's throttle as the construct set it: a REST stage's method settings, or an HTTP stage's default route settings. */
function stageThrottle(webhooks: FaceSignWebhooks, resolve: <T>(value: unknown) => T): { throttle?: StageThrottle } {
  type Limits = { throttlingRateLimit?: number; throttlingBurstLimit?: number };
  let limits: Limits | undefined;
  for (const c of webhooks.node.findAll()) {
    if (c instanceof CfnRestStage) limits = resolve<Limits[] | undefined>(c.methodSettings)?.[0];
    if (c instanceof CfnHttpStage) limits = resolve<Limits | undefined>(c.defaultRouteSettings);
  }
  if (limits?.throttlingRateLimit === undefined && limits?.throttlingBurstLimit === undefined) return {};
  return { throttle: { rateLimit: limits.throttlingRateLimit ?? Infinity, burstLimit: limits.throttlingBurstLimit ?? Infinity } };
}

function functionSettings(fn: CfnFunction, resolve: <T>(value: unknown) => T): StackFunctionSettings {
  const variables = resolve<{ variables?: Record<string, unknown> } | undefined>(fn.environment)?.variables ?? {};
  const environment: Record<string, string> = {};
  for (const [name, value] of Object.entries(variables)) if (typeof value === 'string') environment[name] = value;
  const reserved = resolve<number | undefined>(fn.reservedConcurrentExecutions);
  return {
    // Lambda's defaults when a function sets neither: 3 s and 128 MB.
    timeoutSeconds: resolve<number | undefined>(fn.timeout) ?? 3,
    memoryMb: resolve<number | undefined>(fn.memorySize) ?? 128,
    ...(typeof reserved === 'number' ? { reservedConcurrency: reserved } : {}),
    environment,
  };
}

function required<T>(what: string, value: T | undefined): T {
  if (value === undefined || value === null) throw new Error(`the construct did not set ${what}`);
  return value;
}
