import type { FaceSignEventType } from '../../lambda/shared/event';
import { isMediaEventType } from '../../lambda/shared/event';

/** A realistic event of the given type, shaped like the examples in FaceSign's document. */
export function sampleEvent(
  type: FaceSignEventType | string,
  overrides: { id?: string; sessionId?: string; createdAt?: number; mediaUrl?: string; expires?: number; contentType?: string } = {},
): Record<string, unknown> {
  const createdAt = overrides.createdAt ?? 1761595700000;
  const event: Record<string, unknown> = {
    id: overrides.id ?? `evt_${type.replace(/\W/g, '')}_1`,
    type,
    createdAt,
    sessionId: overrides.sessionId ?? '3f0a4e1e-9c2b-4b6f-8d3a-2a8e1b7c4f01',
  };
  if (isMediaEventType(type)) {
    const contentType = overrides.contentType ?? (type === 'media.user_video' ? 'video/mp4' : 'image/jpeg');
    event.media = {
      id: 'm_1',
      createdAt,
      url: overrides.mediaUrl ?? `https://media.facesign.ai/m_1.${contentType === 'video/mp4' ? 'mp4' : 'jpg'}?X-Signature=abc123`,
      expires: overrides.expires ?? createdAt + 15 * 60 * 1000,
      contentType,
    };
  }
  return event;
}
