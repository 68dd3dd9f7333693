import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { TransientFailure } from '../../../lambda/processor/failures';
import { eventBridgeDetail, publishProcessedEvent } from '../../../lambda/processor/event-publisher';
import { sampleEvent } from '../../support/events';

const eb = mockClient(EventBridgeClient);
const client = new EventBridgeClient({ region: 'eu-west-1' });
const rest = { archive: { bucket: 'b', key: 'events/s/1-e.json' }, processedAt: '2026-11-26T00:00:00.000Z' };

describe('publishProcessedEvent', () => {
  beforeEach(() => eb.reset());

  it('sends source facesign.webhooks, the event type as detail-type, and the event with its locations as detail', async () => {
    eb.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
    const event = sampleEvent('session.status') as never;
    await publishProcessedEvent(client, 'bus', event, rest);
    const [entry] = eb.commandCalls(PutEventsCommand)[0].args[0].input.Entries!;
    expect(entry).toMatchObject({ EventBusName: 'bus', Source: 'facesign.webhooks', DetailType: 'session.status' });
    expect(JSON.parse(entry.Detail!)).toEqual({ event, ...rest });
  });

  it('throws a transient failure when EventBridge rejects the entry', async () => {
    eb.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' }] });
    const error = await publishProcessedEvent(client, 'bus', sampleEvent('session.status') as never, rest).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientFailure);
    expect((error as TransientFailure).reason).toBe('publish_failed');
    expect((error as Error).message).toContain('ThrottlingException');
  });

  it('leaves out an event body too large for EventBridge, keeping the locations', () => {
    const big = { ...sampleEvent('session.status'), pad: 'x'.repeat(250 * 1024) } as never;
    const detail = JSON.parse(eventBridgeDetail(big, rest));
    expect(detail).toEqual({ eventOmitted: true, ...rest });
  });
});
