/**
 * The front door: what FaceSign posts to. A regional REST API behind a WAF web ACL whose every
 * throttle and block is answered 503 (FaceSign retries), or the plain HTTP API (cheaper, but
 * API Gateway answers its throttles 429: docs/reference.md "A 4xx is never retried").
 * docs/reference.md "Front door" prices both and says why the REST API is the default.
 */
import { Duration } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import {
  HttpApi,
  HttpMethod,
  HttpStage,
  LogGroupLogDestination,
  ApiMapping,
  DomainName,
  SecurityPolicy as HttpSecurityPolicy,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as acm from 'aws-cdk-lib/aws-certificatemanager';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as targets from 'aws-cdk-lib/aws-route53-targets';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import type { Construct } from 'constructs';
import { WEBHOOK_PATH } from '../../contract/webhook-path';
import { accessLogFormat } from './access-log';
import { createWebAcl, RETRYABLE_BLOCK, type WebhookWebAcl } from './web-acl';

/** The kinds of front door: `rest-api-waf` (the default) or `http-api`. */
export type FrontDoorType = 'rest-api-waf' | 'http-api';

/** The API metrics the alarms and dashboard read, the same for either door. */
export interface FrontDoorMetrics {
  /** Requests (`AWS/ApiGateway` `Count`). */
  metricCount(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** 5xx answers, API Gateway's own (503 throttles and blocks of the REST door among them) and the verifier's. */
  metricServerError(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** 4xx answers. */
  metricClientError(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Time from request to answer. */
  metricLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /**
   * True when API Gateway answers its throttles with a retryable 5xx (the REST door): a throttle
   * then delays deliveries (Warning), while a 429 of the HTTP API loses them (Critical).
   */
  readonly throttlesAreRetried: boolean;
  /**
   * Requests the web ACL blocked (`AWS/WAFV2` `BlockedRequests`, `Rule` `ALL`): the REST door only;
   * undefined on the HTTP API, which has no web ACL.
   */
  metricBlockedRequests?(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
}

/** A custom domain for the webhook URL. */
export interface FrontDoorDomain {
  readonly domainName: string;
  readonly certificate: acm.ICertificate;
  readonly hostedZone?: route53.IHostedZone;
}

/** What {@link createFrontDoor} needs. */
export interface FrontDoorProps {
  readonly type: FrontDoorType;
  readonly verifier: lambda.IFunction;
  readonly accessLogGroup: logs.ILogGroup;
  readonly metricsDeployment: string;
  readonly throttlingRateLimit?: number;
  readonly throttlingBurstLimit?: number;
  /** The web ACL's settings (the REST door only). */
  readonly waf: { readonly rateLimit: number; readonly windowSeconds: number; readonly allowedSourceIps?: readonly string[] };
  readonly domain?: FrontDoorDomain;
}

/** The created door. */
export interface FrontDoor extends FrontDoorMetrics {
  readonly type: FrontDoorType;
  /** The API: a `RestApi` for `rest-api-waf`, an `HttpApi` for `http-api`. */
  readonly api: apigateway.RestApi | HttpApi;
  /** The URL to give FaceSign: on the custom domain when one is given. */
  readonly webhookUrl: string;
  /** The web ACL (the REST door only). */
  readonly webAcl?: WebhookWebAcl;
}

/** Builds the door in `scope` (construct ids are part of the logical ids: see docs/reference.md "Front door"). */
export function createFrontDoor(scope: Construct, props: FrontDoorProps): FrontDoor {
  return props.type === 'http-api' ? createHttpApiDoor(scope, props) : createRestApiDoor(scope, props);
}

/**
 * Answered by API Gateway itself, re-coded 503 with Retry-After: account, stage and usage-plan
 * throttles (THROTTLED, QUOTA_EXCEEDED, 429 by default) and web ACL blocks (WAF_FILTERED, 403 by
 * default, where the web ACL gives no custom response). Each type takes a status code
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html).
 * The other 4xx types stay 4xx: a wrong path or method (MISSING_AUTHENTICATION_TOKEN) or a body
 * over 10 MB (REQUEST_TOO_LARGE) would fail the same way on every retry.
 */
export const RETRYABLE_GATEWAY_RESPONSES = ['THROTTLED', 'QUOTA_EXCEEDED', 'WAF_FILTERED'] as const;

function createRestApiDoor(scope: Construct, props: FrontDoorProps): FrontDoor {
  const api = new apigateway.RestApi(scope, 'RestApi', {
    description: 'FaceSign webhooks',
    // Regional: the custom domain and the WAF web ACL are in this Region (no CloudFront in between).
    endpointConfiguration: { types: [apigateway.EndpointType.REGIONAL] },
    // Every request body is passed base64-encoded, byte for byte, so the HMAC is computed over
    // exactly what FaceSign signed (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-payload-encodings.html).
    binaryMediaTypes: ['*/*'],
    // Access logging needs the account's API Gateway CloudWatch role (AWS::ApiGateway::Account,
    // one per account and Region: https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html);
    // created and kept on deletion, as CDK does by default.
    cloudWatchRole: true,
    deployOptions: {
      stageName: 'live',
      accessLogDestination: new apigateway.LogGroupLogDestination(props.accessLogGroup),
      accessLogFormat: apigateway.AccessLogFormat.custom(accessLogFormat('rest', props.metricsDeployment)),
      // Safe here, unlike on the HTTP API: a throttled request is answered 503 (below), which FaceSign retries.
      ...(props.throttlingRateLimit !== undefined ? { throttlingRateLimit: props.throttlingRateLimit } : {}),
      ...(props.throttlingBurstLimit !== undefined ? { throttlingBurstLimit: props.throttlingBurstLimit } : {}),
    },
    // With a custom domain, the execute-api URL would still reach the API around it (and its
    // certificate and any client-certificate check there): turned off
    // (https://docs.aws.amazon.com/apigateway/latest/developerguide/rest-api-disable-default-endpoint.html).
    ...(props.domain ? { disableExecuteApiEndpoint: true } : {}),
    ...(props.domain
      ? {
          domainName: {
            domainName: props.domain.domainName,
            certificate: props.domain.certificate,
            endpointType: apigateway.EndpointType.REGIONAL,
            securityPolicy: apigateway.SecurityPolicy.TLS_1_2,
          },
        }
      : {}),
  });
  api.root.resourceForPath(WEBHOOK_PATH).addMethod(
    'POST',
    // Lambda proxy: the verifier gets the payload format 1.0 event (lambda/verifier/api-event.ts).
    // 29 s is API Gateway's integration timeout by default; the verifier answers within its 10 s.
    new apigateway.LambdaIntegration(props.verifier, { proxy: true, allowTestInvoke: false, timeout: Duration.seconds(29) }),
  );
  for (const type of RETRYABLE_GATEWAY_RESPONSES) {
    api.addGatewayResponse(`${pascalCase(type)}Response`, {
      type: apigateway.ResponseType.of(type),
      statusCode: String(RETRYABLE_BLOCK.statusCode),
      responseHeaders: { 'Retry-After': `'${RETRYABLE_BLOCK.retryAfterSeconds}'` },
      templates: { 'application/json': '{"message":$context.error.messageString,"type":"$context.error.responseType"}' },
    });
  }
  const webAcl = createWebAcl(scope, props.waf);
  // https://docs.aws.amazon.com/waf/latest/developerguide/waf-web-acl-associating-aws-resource.html: a REST API stage, regional scope.
  new wafv2.CfnWebACLAssociation(scope, 'WebAclAssociation', { resourceArn: api.deploymentStage.stageArn, webAclArn: webAcl.webAcl.attrArn });
  if (props.domain?.hostedZone) {
    new route53.ARecord(scope, 'CustomDomainAlias', {
      zone: props.domain.hostedZone,
      recordName: props.domain.domainName,
      target: route53.RecordTarget.fromAlias(new targets.ApiGatewayDomain(api.domainName!)),
    });
  }
  return {
    type: 'rest-api-waf',
    api,
    webhookUrl: props.domain ? `https://${props.domain.domainName}${WEBHOOK_PATH}` : api.urlForPath(WEBHOOK_PATH),
    webAcl,
    throttlesAreRetried: true,
    metricCount: (p) => api.metricCount(p),
    metricServerError: (p) => api.metricServerError(p),
    metricClientError: (p) => api.metricClientError(p),
    metricLatency: (p) => api.metricLatency(p),
    metricBlockedRequests: (p) => webAcl.metricBlockedRequests(p),
  };
}

function createHttpApiDoor(scope: Construct, props: FrontDoorProps): FrontDoor {
  const api = new HttpApi(scope, 'Api', {
    description: 'FaceSign webhooks',
    createDefaultStage: false,
    // As on the REST API: only the custom domain reaches the API when there is one
    // (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-disable-default-endpoint.html).
    ...(props.domain ? { disableExecuteApiEndpoint: true } : {}),
  });
  const stage = new HttpStage(scope, 'DefaultStage', {
    httpApi: api,
    stageName: '$default',
    autoDeploy: true,
    // No throttle unless asked for: a throttled request gets 429 (docs/reference.md "A 4xx is never retried").
    ...(props.throttlingRateLimit !== undefined || props.throttlingBurstLimit !== undefined
      ? { throttle: { rateLimit: props.throttlingRateLimit, burstLimit: props.throttlingBurstLimit } }
      : {}),
    accessLogSettings: {
      destination: new LogGroupLogDestination(props.accessLogGroup),
      format: apigateway.AccessLogFormat.custom(accessLogFormat('http', props.metricsDeployment)),
    },
  });
  api.addRoutes({ path: WEBHOOK_PATH, methods: [HttpMethod.POST], integration: new HttpLambdaIntegration('VerifierIntegration', props.verifier) });
  if (props.domain) {
    const domainName = new DomainName(scope, 'CustomDomain', {
      domainName: props.domain.domainName,
      certificate: props.domain.certificate,
      securityPolicy: HttpSecurityPolicy.TLS_1_2,
    });
    new ApiMapping(scope, 'CustomDomainMapping', { api, domainName, stage });
    if (props.domain.hostedZone) {
      new route53.ARecord(scope, 'CustomDomainAlias', {
        zone: props.domain.hostedZone,
        recordName: props.domain.domainName,
        target: route53.RecordTarget.fromAlias(new targets.ApiGatewayv2DomainProperties(domainName.regionalDomainName, domainName.regionalHostedZoneId)),
      });
    }
  }
  return {
    type: 'http-api',
    api,
    webhookUrl: props.domain ? `https://${props.domain.domainName}${WEBHOOK_PATH}` : `${api.apiEndpoint}${WEBHOOK_PATH}`,
    throttlesAreRetried: false,
    metricCount: (p) => api.metricCount(p),
    metricServerError: (p) => api.metricServerError(p),
    metricClientError: (p) => api.metricClientError(p),
    metricLatency: (p) => api.metricLatency(p),
  };
}

/** `WAF_FILTERED` → `WafFiltered`: a construct id from a gateway response type. */
function pascalCase(type: string): string {
  return type
    .toLowerCase()
    .split('_')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('');
}
