/** The idempotency key prefix the processor writes under. Stable on purpose: renaming the function must not forget processed events. */
export const IDEMPOTENCY_KEY_PREFIX = 'facesign-webhooks';
