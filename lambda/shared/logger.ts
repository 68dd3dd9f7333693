import { Logger } from '@aws-lambda-powertools/logger';

/**
 * Builds the one Powertools Logger of a function: JSON lines, service name from
 * `POWERTOOLS_SERVICE_NAME` when set. Callers never log headers, secrets or signed URLs.
 */
export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? serviceName });
}

export type { Logger };
