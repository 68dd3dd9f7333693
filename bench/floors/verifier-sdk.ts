// Cold-start floor for the verifier: only the AWS SDK clients it must have, built with the same
// esbuild settings, answering without any call.
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';

const clients = [new SecretsManagerClient({}), new SQSClient({ useQueueUrlAsEndpoint: false })];
export const handler = async () => ({ statusCode: 401, body: JSON.stringify({ clients: clients.length }) });
