import { buildSampleEvent, type SampleEventOptions } from '../../local/sample-events';

/**
 * A realistic event of the given type with stable defaults for unit tests: a fixed time, id,
 * session and media id, and a media URL with a signed-looking query string.
 */
export function sampleEvent(
  type: string,
  overrides: { id?: string; sessionId?: string; createdAt?: number; mediaUrl?: string; expires?: number; contentType?: string } = {},
): Record<string, unknown> {
  const createdAt = overrides.createdAt ?? 1761595700000;
  const contentType = overrides.contentType ?? (type === 'media.user_video' ? 'video/mp4' : 'image/jpeg');
  const options: SampleEventOptions = {
    id: overrides.id ?? `evt_${type.replace(/\W/g, '')}_1`,
    sessionId: overrides.sessionId ?? '3f0a4e1e-9c2b-4b6f-8d3a-2a8e1b7c4f01',
    createdAt,
    mediaId: 'm_1',
    mediaUrl: overrides.mediaUrl ?? `https://media.facesign.ai/m_1.${contentType === 'video/mp4' ? 'mp4' : 'jpg'}?X-Signature=abc123`,
    expires: overrides.expires,
    contentType,
  };
  return buildSampleEvent(type, options);
}
