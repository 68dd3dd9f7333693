export * from './facesign-webhooks';
export * from './facesign-webhooks-stack';
export * from './webhook-monitoring';
export * from './webhook-path';
export type {
  FaceSignEvent,
  FaceSignEventType,
  FaceSignMedia,
  FaceSignMediaEvent,
  FaceSignMediaEventType,
  FaceSignPlainEvent,
  UnknownFaceSignEvent,
} from '../lambda/shared/event';
export { FACESIGN_EVENT_TYPES, MEDIA_EVENT_TYPES, parseFaceSignEvent } from '../lambda/shared/event';
export { EVENT_BRIDGE_SOURCE } from '../lambda/shared/event-bridge';
export type { FaceSignEventBridgeDetail, FaceSignEventBridgeEvent, StoredObject } from '../lambda/shared/event-bridge';
