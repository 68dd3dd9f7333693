import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEventBridge, type LocalEventBridge } from '../../local/eventbridge-server';

let bus: LocalEventBridge;
let client: EventBridgeClient;
beforeAll(async () => {
  bus = await startEventBridge();
  client = new EventBridgeClient({
    endpoint: bus.endpoint,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
});
afterAll(async () => {
  client.destroy();
  await bus.close();
});

describe('the local EventBridge stand-in', () => {
  it('accepts a DetailType of 128 characters', async () => {
    const out = await client.send(new PutEventsCommand({ Entries: [{ Source: 's', DetailType: 'd'.repeat(128), Detail: '{}' }] }));
    expect(out.FailedEntryCount).toBe(0);
    expect(bus.published.at(-1)?.detailType).toBe('d'.repeat(128));
  });

  it('refuses a DetailType over 128 characters as AWS does, and keeps nothing', async () => {
    const before = bus.publishedTotal;
    const error = await client.send(new PutEventsCommand({ Entries: [{ Source: 's', DetailType: 'd'.repeat(129), Detail: '{}' }] })).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ValidationException' });
    expect((error as Error).message).toContain('detailType');
    expect(bus.publishedTotal).toBe(before);
  });
});
