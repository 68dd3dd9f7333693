export * from './facesign-webhooks';
export type { FaceSignWebhooksProps, FrontDoorOptions, HandlerOptions, OnEventOptions, StorageOptions } from './facesign-webhooks-props';
export * from './facesign-webhooks-stack';
// The monitoring facade and what its fields are typed with; its props and defaults stay internal.
export { WebhookMonitoring, type CoreAlarmKey, type OptionalAlarmKey, type WebhookAlarmKey, type WebhookAlarms } from './monitoring/webhook-monitoring';
export type { WebhookAlarmOptions } from './monitoring/alarm-options';
export * from './webhook-metrics';
// What the construct's public fields (frontDoor, signingSecretWatch) and props are typed with; built by the construct only.
export type { FrontDoor, FrontDoorMetrics, FrontDoorType } from './front-door/front-door';
export type { WebhookWebAcl } from './front-door/web-acl';
export type { SigningSecretWatch, SigningSecretWatchProps } from './data-protection';
export * from '../contract/webhook-path';
// The settings table: every setting's default, bounds and unit, for users who want the defaults.
export { SETTINGS, type SettingName, type SettingRow, type SettingUnit } from '../contract/settings';
export type {
  FaceSignEvent,
  FaceSignEventOfType,
  FaceSignEventType,
  FaceSignMedia,
  FaceSignMediaEvent,
  FaceSignMediaEventType,
  FaceSignPlainEvent,
  UnknownFaceSignEvent,
} from '../contract/event';
export { FACESIGN_EVENT_TYPES, MEDIA_EVENT_TYPES, parseFaceSignEvent } from '../contract/event';
export { EVENT_BRIDGE_SOURCE } from '../contract/event-bridge';
export type { FaceSignEventBridgeDetail, FaceSignEventBridgeEvent, StoredObject } from '../contract/event-bridge';
