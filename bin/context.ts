import type { Stack } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as route53 from 'aws-cdk-lib/aws-route53';
import type { FaceSignWebhooksProps } from '../lib';

/** Reads one context key (`-c key=value`); undefined when absent. */
export type ContextReader = (key: string) => unknown;

/**
 * The app's props from `cdk deploy -c key=value` (README "Deploy to AWS"). Values are passed on as
 * given and the construct refuses a bad one naming it; what only the app can check (a key needing
 * another, a value that is not text) is refused here, naming the key and the value.
 */
export function webhooksPropsFromContext(read: ContextReader): (stack: Stack) => FaceSignWebhooksProps {
  const text = (key: string): string | undefined => {
    const value = read(key);
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || value.trim() === '') throw new Error(`-c ${key} must be a non-empty string, got ${JSON.stringify(value)}`);
    return value.trim();
  };
  const alarmEmail = text('alarmEmail');
  const reserved = read('verifierReservedConcurrency');
  const frontDoor = text('frontDoor');
  const domainName = text('domainName');
  const certificateArn = text('certificateArn');
  const hostedZoneId = text('hostedZoneId');
  const hostedZoneName = text('hostedZoneName');
  const breakGlass = text('mediaBreakGlassPrincipalArns');
  if ((domainName === undefined) !== (certificateArn === undefined)) {
    throw new Error(
      `-c domainName and -c certificateArn go together, got ${domainName === undefined ? `certificateArn "${certificateArn}" alone` : `domainName "${domainName}" alone`}`,
    );
  }
  if ((hostedZoneId === undefined) !== (hostedZoneName === undefined)) {
    throw new Error(
      `-c hostedZoneId and -c hostedZoneName go together, got ${hostedZoneId === undefined ? `hostedZoneName "${hostedZoneName}" alone` : `hostedZoneId "${hostedZoneId}" alone`}`,
    );
  }
  const principals = breakGlass?.split(',').map((arn) => arn.trim());
  if (principals?.some((arn) => arn === ''))
    throw new Error(`-c mediaBreakGlassPrincipalArns is a comma-separated list of ARNs with no empty entry, got "${breakGlass}"`);
  return (stack) => ({
    ...(alarmEmail ? { alarmEmail } : {}),
    // The construct refuses anything but a whole number in its bounds, naming the value.
    ...(reserved !== undefined ? { verifierReservedConcurrency: Number(reserved) } : {}),
    // The construct refuses a door it does not know, naming it.
    ...(frontDoor !== undefined ? { frontDoor: frontDoor as FaceSignWebhooksProps['frontDoor'] } : {}),
    ...(domainName !== undefined && certificateArn !== undefined
      ? { domainName, certificate: acm.Certificate.fromCertificateArn(stack, 'DomainCertificate', certificateArn) }
      : {}),
    ...(hostedZoneId !== undefined && hostedZoneName !== undefined
      ? { hostedZone: route53.HostedZone.fromHostedZoneAttributes(stack, 'DomainHostedZone', { hostedZoneId, zoneName: hostedZoneName }) }
      : {}),
    ...(principals !== undefined ? { mediaBreakGlassPrincipalArns: principals } : {}),
  });
}
