export * from './facesign-webhooks';
export * from './facesign-webhooks-stack';
