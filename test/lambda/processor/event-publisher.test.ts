import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { TransientFailure } from '../../../lambda/processor/failures';
import { detailType, eventBridgeDetail, MAX_DETAIL_TYPE_LENGTH, publishProcessedEvent } from '../../../lambda/processor/event-publisher';
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
    expect(detail).toEqual({ eventOmitted: true, eventType: 'session.status', ...rest });
  });
});

describe('detailType', () => {
  it('keeps a type of up to 128 characters as it is', () => {
    expect(detailType('media.user_photo')).toBe('media.user_photo');
    expect(detailType('x'.repeat(128))).toBe('x'.repeat(128));
  });

  it('caps a longer type at 128 characters, stable and distinct, without splitting a surrogate pair', () => {
    const long = `a${'😀'.repeat(127)}`;
    const capped = detailType(long);
    expect(capped.length).toBeLessThanOrEqual(MAX_DETAIL_TYPE_LENGTH);
    expect(capped).toMatch(/~[0-9a-f]{16}$/);
    expect(capped).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
    expect(detailType(long)).toBe(capped);
    expect(detailType(`${long}b`)).not.toBe(capped);
  });

  it('keeps the full type in an omitted detail', () => {
    const type = 't'.repeat(256);
    const detail = JSON.parse(eventBridgeDetail({ ...(sampleEvent(type) as object), big: 'x'.repeat(300 * 1024) } as never, rest));
    expect(detail).toMatchObject({ eventOmitted: true, eventType: type });
  });
});
