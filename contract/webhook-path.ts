/** The route FaceSign posts to. */
export const WEBHOOK_PATH = '/webhooks/facesign';
