// Receives every processed FaceSign session.status event from the EventBridge rule.
/** @param {import('facesign-webhooks').FaceSignEventBridgeEvent<'session.status'>} event */
export async function handler(event) {
  const { event: faceSignEvent, archive } = event.detail;
  // Delivery is at least once: use the FaceSign event id as your idempotency key.
  console.log(JSON.stringify({ message: 'session status changed', eventId: faceSignEvent?.id, sessionId: faceSignEvent?.sessionId, archive }));
  // e.g. fetch GET /sessions/:id from FaceSign and update your user's verification state.
}
