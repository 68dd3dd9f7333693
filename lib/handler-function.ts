/**
 * The two handler functions as the construct deploys them: the function itself, its role, and the
 * queue grant both need. Their environment is the contract's functionEnvironment.
 */
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { HandlerFunction } from '../contract/settings';
import { handlerCode } from './handler-code';

/**
 * One handler function, its code the pre-built bundle in `dist/assets/<name>` (lib/handler-code.ts):
 * the same files whether the construct is installed from npm or used from this repository.
 */
export function handlerFunction(
  scope: Construct,
  id: string,
  name: HandlerFunction,
  props: Omit<lambda.FunctionProps, 'code' | 'handler' | 'runtime'>,
): lambda.Function {
  return new lambda.Function(scope, id, {
    ...props,
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.ARM_64,
    loggingFormat: lambda.LoggingFormat.JSON,
    tracing: lambda.Tracing.ACTIVE,
    code: handlerCode(name),
    handler: 'index.handler',
  });
}

/**
 * A function role with exactly what Lambda needs to write to the function's own log group,
 * instead of the AWSLambdaBasicExecutionRole managed policy (logs on every group in the account).
 */
export function functionRole(scope: Construct, id: string, logGroup: logs.ILogGroup): iam.Role {
  const role = new iam.Role(scope, id, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  role.addToPolicy(
    new iam.PolicyStatement({
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [`${logGroup.logGroupArn}:*`],
    }),
  );
  return role;
}

/**
 * Sending to a queue encrypted with a customer-managed key: the SQS actions, plus
 * kms:GenerateDataKey and kms:Decrypt through SQS, which is what a producer needs
 * (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html);
 * `grantSendMessages` would add kms:Encrypt and kms:ReEncrypt* too.
 */
export function grantSendEncrypted(queue: sqs.IQueue, key: kms.IKey, fn: lambda.IFunction): void {
  queue.grant(fn, 'sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl');
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
      resources: [key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `sqs.${Stack.of(fn).region}.amazonaws.com` } },
    }),
  );
}
