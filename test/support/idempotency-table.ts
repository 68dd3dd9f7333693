import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';

type Item = Record<string, AttributeValue>;

/**
 * An in-memory idempotency table behind a mocked DynamoDB client. It implements the conditional
 * write Powertools relies on (a key may be taken when absent, expired, or in progress past its
 * in-progress expiry), so the real Powertools code runs unchanged against it.
 */
export function fakeIdempotencyTable() {
  const mock = mockClient(DynamoDBClient);
  const items = new Map<string, Item>();
  const keyOf = (key: Record<string, AttributeValue> | undefined) => key?.id?.S ?? '';
  // While hung, every call waits forever: a DynamoDB that accepts requests and never answers.
  let hung = false;
  const gate = () => (hung ? new Promise<never>(() => undefined) : Promise.resolve());

  mock.on(PutItemCommand).callsFake(async (input) => {
    await gate();
    const id = keyOf(input.Item);
    const existing = items.get(id);
    const now = Date.now();
    const free =
      !existing ||
      Number(existing.expiration?.N) < now / 1000 ||
      (existing.status?.S === 'INPROGRESS' && existing.in_progress_expiration !== undefined && Number(existing.in_progress_expiration.N) < now);
    if (!free) {
      throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {}, Item: existing });
    }
    items.set(id, { ...input.Item });
    return {};
  });
  mock.on(GetItemCommand).callsFake(async (input) => {
    await gate();
    return { Item: items.get(keyOf(input.Key)) };
  });
  mock.on(UpdateItemCommand).callsFake(async (input) => {
    await gate();
    const id = keyOf(input.Key);
    const item: Item = { ...(items.get(id) ?? input.Key) };
    for (const assignment of String(input.UpdateExpression).replace(/^SET /, '').split(',')) {
      const [name, value] = assignment.split('=').map((s: string) => s.trim());
      item[input.ExpressionAttributeNames[name]] = input.ExpressionAttributeValues[value];
    }
    items.set(id, item);
    return {};
  });
  mock.on(DeleteItemCommand).callsFake(async (input) => {
    await gate();
    items.delete(keyOf(input.Key));
    return {};
  });

  return {
    mock,
    items,
    statuses: () => [...items.values()].map((i) => i.status?.S),
    setHung: (value: boolean) => {
      hung = value;
    },
  };
}
