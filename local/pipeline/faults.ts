/**
 * Fault injection for the e2e suite: a fault proxy (../fault-proxy.ts) between each function and
 * the service a test faults for it, and the switches. Started only when asked for
 * (`faultInjection: true`): `npm run dev` and the benchmarks talk to the services directly.
 */
import { startFaultProxy } from '../fault-proxy';
import type { LocalServices } from './services';
import type { Teardown } from './teardown';

/** The fault switches of a runtime started with `faultInjection: true`. */
export interface LocalFaults {
  /** Holds the processor's DynamoDB requests unanswered (a hung DynamoDB), or lets them through. */
  setDynamoDBPaused(paused: boolean): void;
  /** Makes Secrets Manager fail (to see the verifier's 503), or recover. */
  setSecretsManagerFailing(failing: boolean): void;
  /** Makes SQS unreachable for the verifier (connections dropped), or reachable again. */
  setQueueReachableFromVerifier(reachable: boolean): void;
  /** Makes S3 hang for the processor (connections accepted, never answered), or answer again. */
  setS3HungForProcessor(hung: boolean): void;
}

/** The endpoints each function uses instead of the services', where a proxy sits between them. */
export interface FaultEndpoints {
  readonly verifier: { readonly sqs: string };
  readonly processor: { readonly s3: string; readonly dynamodb: string };
}

/** Starts the three proxies; their stops go to `teardown`. */
export async function startFaultInjection(services: LocalServices, teardown: Teardown): Promise<{ endpoints: FaultEndpoints; faults: LocalFaults }> {
  const started = async (target: string) => {
    const proxy = await startFaultProxy(target);
    teardown.add(() => proxy.stop());
    return proxy;
  };
  const verifierSqs = await started(services.sqsS3.endpoint);
  const processorS3 = await started(services.sqsS3.endpoint);
  const processorDynamoDB = await started(services.dynamodb.endpoint);
  return {
    endpoints: { verifier: { sqs: verifierSqs.endpoint }, processor: { s3: processorS3.endpoint, dynamodb: processorDynamoDB.endpoint } },
    faults: {
      setDynamoDBPaused: (paused) => processorDynamoDB.setPaused(paused),
      setSecretsManagerFailing: (failing) => services.secrets.setFailing(failing),
      setQueueReachableFromVerifier: (reachable) => verifierSqs.setReachable(reachable),
      setS3HungForProcessor: (hung) => processorS3.setHung(hung),
    },
  };
}
