/**
 * The hold store's AWS clients, in a module of their own so that the verifier loads them only when
 * it first holds a delivery (verifier/index.ts imports this dynamically).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import { CLIENT_TIMEOUTS, clientConfig } from '../shared/aws-clients';
import type { VerifierConfig } from '../shared/config';
import { DeliveryHoldStore } from './hold-store';

/** The hold store of this execution environment, with connection and request timeouts on both clients. */
export function createHoldStore(hold: NonNullable<VerifierConfig['hold']>, tracer: Tracer): DeliveryHoldStore {
  return new DeliveryHoldStore({
    s3: tracer.captureAWSv3Client(new S3Client(clientConfig(CLIENT_TIMEOUTS.verifierHoldStore))),
    bucket: hold.bucketName,
    encryptionKeyArn: hold.encryptionKeyArn,
    dynamodb: tracer.captureAWSv3Client(new DynamoDBClient(clientConfig(CLIENT_TIMEOUTS.verifierHoldCounter))),
    counterTable: hold.counterTableName,
    maxPerHour: hold.maxPerHour,
  });
}
