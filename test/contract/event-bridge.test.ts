/**
 * Types only: `npm run typecheck` is what fails here (an @ts-expect-error that is not needed is an
 * error too); vitest runs the assertions as no-ops, so the file also shows up as a test.
 */
import { describe, expectTypeOf, it } from 'vitest';
import type { FaceSignEvent, FaceSignMedia, UnknownFaceSignEvent } from '../../contract/event';
import type { FaceSignEventBridgeEvent } from '../../contract/event-bridge';

describe('FaceSignEventBridgeEvent<T>', () => {
  it('types detail.event for a media type, so its media is readable (the README example)', () => {
    const read = (e: FaceSignEventBridgeEvent<'media.user_photo'>) => e.detail.event?.media.url;
    expectTypeOf(read).returns.toEqualTypeOf<string | undefined>();
    expectTypeOf<FaceSignEventBridgeEvent<'media.user_photo'>['detail']['event']>().exclude<undefined>().toHaveProperty('media').toEqualTypeOf<FaceSignMedia>();
    expectTypeOf<NonNullable<FaceSignEventBridgeEvent<'media.user_photo'>['detail']['event']>['type']>().toEqualTypeOf<'media.user_photo'>();
  });

  it('types a plain documented type without media', () => {
    type Status = NonNullable<FaceSignEventBridgeEvent<'session.status'>['detail']['event']>;
    expectTypeOf<Status['type']>().toEqualTypeOf<'session.status'>();
    // @ts-expect-error a session.status event has no media
    expectTypeOf<Status['media']>();
  });

  it('gives a union of types the union of their events, narrowed by type', () => {
    const url = (e: FaceSignEventBridgeEvent<'media.user_photo' | 'session.status'>) => {
      const event = e.detail.event;
      return event?.type === 'media.user_photo' ? event.media.url : undefined;
    };
    expectTypeOf(url).returns.toEqualTypeOf<string | undefined>();
  });

  it('keeps an undocumented type as an unknown event of that type', () => {
    type Later = NonNullable<FaceSignEventBridgeEvent<'session.archived'>['detail']['event']>;
    expectTypeOf<Later>().toExtend<UnknownFaceSignEvent>();
    expectTypeOf<Later['type']>().toEqualTypeOf<'session.archived'>();
    expectTypeOf<Later['media']>().toEqualTypeOf<unknown>();
  });

  it('without a type argument, is what it always was: any event', () => {
    expectTypeOf<FaceSignEventBridgeEvent['detail']['event']>().toEqualTypeOf<FaceSignEvent | UnknownFaceSignEvent | undefined>();
    expectTypeOf<FaceSignEventBridgeEvent<string>['detail']['event']>().toEqualTypeOf<FaceSignEvent | UnknownFaceSignEvent | undefined>();
    expectTypeOf<FaceSignEventBridgeEvent['detail-type']>().toEqualTypeOf<string>();
  });
});
