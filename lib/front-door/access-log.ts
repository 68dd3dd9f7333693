/**
 * The API access log: its group (name under `/aws/vendedlogs/`), its line format for each kind of
 * door, and the metric filter that counts throttled requests from it.
 */
import { Names, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { METRIC } from '../../contract/metric-names';

/** The field of the API access log that names the deployment; the throttle metric filter reads it. */
export const ACCESS_LOG_DEPLOYMENT_FIELD = 'deployment';

/** Where API Gateway may deliver access logs without growing the account's CloudWatch Logs resource policy. */
const VENDED_LOGS_PREFIX = '/aws/vendedlogs/';

/**
 * The access log group's name: under `/aws/vendedlogs/`, so that API Gateway's log delivery never
 * has to add it to the account's CloudWatch Logs resource policy. That policy is limited to 5,120
 * characters (10 policies a Region), and once it is near full a stage whose log group is outside
 * the prefix fails to deploy ("Insufficient permissions to enable logging")
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/AWS-logs-and-resource-policy.html,
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging.html).
 * CloudFormation cannot generate a name under a prefix, so it is derived from the stack name and
 * the construct's path ({@link Names.uniqueResourceName}: letters, digits and a hash of the
 * path), unique per deployment in an account and Region. A log group name is at most 512
 * characters of `[.\-_/#A-Za-z0-9]`
 * (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html).
 */
function accessLogGroupName(scope: Construct): string {
  return `${VENDED_LOGS_PREFIX}apigateway/${Names.uniqueResourceName(scope, { maxLength: 255, separator: '-' })}-access`;
}

/** The API access log group (construct id `AccessLogGroup`). */
export function createAccessLogGroup(scope: Construct, retention: logs.RetentionDays): logs.LogGroup {
  return new logs.LogGroup(scope, 'AccessLogGroup', { logGroupName: accessLogGroupName(scope), retention, removalPolicy: RemovalPolicy.DESTROY });
}

/**
 * One access log line, as JSON, with no request header (the signature header must never reach a
 * log). `responseType` is API Gateway's gateway response type (`THROTTLED`, `WAF_FILTERED`, ...),
 * which says why API Gateway answered itself whatever status the answer was given
 * (REST: https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-variables-for-access-logging.html,
 * HTTP: https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging-variables.html).
 */
export function accessLogFormat(door: 'rest' | 'http', metricsDeployment: string): string {
  const common = {
    requestId: '$context.requestId',
    sourceIp: '$context.identity.sourceIp',
    requestTime: '$context.requestTime',
    status: '$context.status',
    responseType: '$context.error.responseType',
    responseLength: '$context.responseLength',
    responseLatency: '$context.responseLatency',
    integrationLatency: '$context.integrationLatency',
  };
  const line =
    door === 'rest'
      ? {
          ...common,
          routeKey: '$context.httpMethod $context.resourcePath',
          integrationError: '$context.integration.error',
          // WAF_ALLOW or WAF_BLOCK when the web ACL judged the request.
          wafResponseCode: '$context.wafResponseCode',
        }
      : { ...common, routeKey: '$context.routeKey', integrationError: '$context.integrationErrorMessage' };
  // A constant, so the throttle metric filter can give its metric this deployment's dimension.
  return JSON.stringify({ ...line, [ACCESS_LOG_DEPLOYMENT_FIELD]: metricsDeployment });
}

/**
 * Counts throttled requests from the access log into `RequestsThrottled`: an HTTP API's throttle
 * is a 429 (lost: docs/reference.md "A 4xx is never retried"), a REST API's is a `THROTTLED` or
 * `QUOTA_EXCEEDED` gateway response, answered 503 by this construct (FaceSign retries: delayed,
 * not lost). A throttled request never reaches the verifier; only the access log sees it.
 */
export function createThrottledRequestsFilter(
  scope: Construct,
  accessLogGroup: logs.ILogGroup,
  namespace: string,
  deploymentDimension: string,
): logs.MetricFilter {
  return new logs.MetricFilter(scope, 'ThrottledRequestsFilter', {
    logGroup: accessLogGroup,
    filterPattern: logs.FilterPattern.any(
      logs.FilterPattern.stringValue('$.status', '=', '429'),
      logs.FilterPattern.stringValue('$.responseType', '=', 'THROTTLED'),
      logs.FilterPattern.stringValue('$.responseType', '=', 'QUOTA_EXCEEDED'),
    ),
    metricNamespace: namespace,
    metricName: METRIC.requestsThrottled,
    metricValue: '1',
    dimensions: { [deploymentDimension]: `$.${ACCESS_LOG_DEPLOYMENT_FIELD}` },
    unit: cloudwatch.Unit.COUNT,
  });
}
