/**
 * The integration test: one stack with the construct as a user deploys it (plus what the test
 * needs around it), and one assertion stack (`@aws-cdk/integ-tests-alpha`) that drives it end to
 * end in AWS and checks each promise. `scripts/integ.ts` deploys both, reads the results and
 * destroys both; `integ-app.test.ts` synthesizes it offline against a committed snapshot.
 */
import { App, Aspects, CfnOutput, CfnResource, Duration, Lazy, RemovalPolicies, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { SqsSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { ActualResult, EqualsAssertion, ExpectedResult, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { FaceSignWebhooks } from '../../lib';
import { driverCode } from './driver-bundle';
import { DRIVER_ENV } from './driver/index';
import { runIds } from './driver/drive';
import { FIXTURE_BYTES, FIXTURE_CONTENT_TYPE, fixtureSha256 } from './fixture';

/** The stack under test. */
export const INTEG_STACK_NAME = 'FaceSignWebhooksInteg';
/** The stack holding the assertions; deployed after the stack under test. */
export const ASSERTION_STACK_NAME = 'FaceSignWebhooksIntegAssertions';
/** Template metadata key under which the assertion stack lists `{ logicalId, label }` of each assertion, in order. */
export const ASSERTION_LABELS_METADATA = 'facesign:integ-assertions';
/**
 * The processor's log line for a repeat delivery (lambda/processor/routing.ts). The test
 * looks for it beside the event id: positive proof that the repeat was seen and skipped.
 */
export const DUPLICATE_LOG_TEXT = 'duplicate delivery skipped';
/** The verifier's log line for a held delivery (lambda/verifier/handle-webhook.ts), looked for beside the event id. */
export const HELD_LOG_TEXT = 'refused delivery held for re-verification';

/** Where and as what the integration test runs. */
export interface IntegAppOptions {
  readonly account: string;
  readonly region: string;
  /** Lowercase letters and digits (4 to 12): names the run's fixture bucket and event ids, so runs never collide. */
  readonly runId: string;
}

/** What {@link buildIntegApp} built. */
export interface IntegApp {
  readonly stack: Stack;
  readonly assertionStack: Stack;
  readonly webhooks: FaceSignWebhooks;
  /** Each assertion's label, in the order they run. */
  readonly labels: readonly string[];
}

/**
 * The fixture bucket's name: unique per run, account and Region. At most 63 characters for the
 * longest run id and Region name (test/lib/cloudformation-constraints.test.ts holds it).
 */
export function integFixtureBucketName(options: IntegAppOptions): string {
  return `facesign-integ-${options.runId}-${options.account}-${options.region}`;
}

/** Builds both stacks into the app. */
export function buildIntegApp(app: App, options: IntegAppOptions): IntegApp {
  const { account, region, runId } = options;
  if (!/^[a-z0-9]{4,12}$/.test(runId)) throw new Error(`runId must be 4 to 12 lowercase letters or digits, got "${runId}"`);
  const env = { account, region };
  const ids = runIds(runId);

  const stack = new Stack(app, INTEG_STACK_NAME, {
    env,
    description: 'facesign-webhooks integration test: the construct, a fixture bucket, a signing driver and two observer queues (deleted after the run)',
  });

  // A concrete name, because the construct validates allowedMediaHosts at synth time and a bucket
  // token cannot be validated. Virtual-hosted style is what the SDK presigns in every region.
  const fixtureBucketName = integFixtureBucketName(options);
  const fixtureBucket = new s3.Bucket(stack, 'FixtureBucket', {
    bucketName: fixtureBucketName,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    removalPolicy: RemovalPolicy.DESTROY,
    autoDeleteObjects: true,
  });
  const fixtureHost = `${fixtureBucketName}.s3.${region}.amazonaws.com`;

  // A known secret, generated (never in the template) and read by the driver at run time.
  const signingSecret = new secretsmanager.Secret(stack, 'TestSigningSecret', {
    description: 'facesign-webhooks integration test signing secret',
    generateSecretString: { passwordLength: 48, excludePunctuation: true },
  });

  const webhooks = new FaceSignWebhooks(stack, 'FaceSignWebhooks', {
    existingSigningSecretObj: signingSecret,
    allowedMediaHosts: ['media.facesign.ai', fixtureHost],
    bucketProps: { removalPolicy: RemovalPolicy.DESTROY, autoDeleteObjects: true },
    logRetention: logs.RetentionDays.ONE_WEEK,
  });

  // A user's rule: what the EventBridge bus publishes lands in a queue the driver reads.
  // SSE-SQS: EventBridge and SNS need key policy changes only for customer-managed keys
  // (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-custom-bus-target-sqs.html).
  const consumerQueue = new sqs.Queue(stack, 'ConsumerQueue', { encryption: sqs.QueueEncryption.SQS_MANAGED, enforceSSL: true });
  webhooks.onEvent('OnSessionStatusOrMediaUserPhoto', {
    eventTypes: ['session.status', 'media.user_photo'],
    target: new targets.SqsQueue(consumerQueue),
    description: 'integration test: what a user rule receives',
  });

  // An on-call subscriber: the alarm topic's notifications land in a queue the assertions read.
  const alarmQueue = new sqs.Queue(stack, 'AlarmNotificationQueue', { encryption: sqs.QueueEncryption.SQS_MANAGED, enforceSSL: true });
  webhooks.monitoring.alarmTopic.addSubscription(new SqsSubscription(alarmQueue));

  const driverLogGroup = new logs.LogGroup(stack, 'DriverLogGroup', { retention: logs.RetentionDays.ONE_WEEK });
  const driver = new lambda.Function(stack, 'Driver', {
    code: driverCode(),
    handler: 'index.handler',
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: 512,
    timeout: Duration.minutes(2),
    logGroup: driverLogGroup,
    description: 'facesign-webhooks integration test: signs and posts events, reads back what was stored and published',
    environment: {
      [DRIVER_ENV.runId]: runId,
      [DRIVER_ENV.webhookUrl]: webhooks.webhookUrl,
      [DRIVER_ENV.signingSecretArn]: signingSecret.secretArn,
      [DRIVER_ENV.fixtureBucket]: fixtureBucket.bucketName,
      [DRIVER_ENV.archiveBucket]: webhooks.bucket.bucketName,
      [DRIVER_ENV.queueUrl]: webhooks.queue.queueUrl,
      [DRIVER_ENV.deadLetterQueueUrl]: webhooks.deadLetterQueue.queueUrl,
      [DRIVER_ENV.consumerQueueUrl]: consumerQueue.queueUrl,
      [DRIVER_ENV.alarmQueueUrl]: alarmQueue.queueUrl,
    },
  });
  signingSecret.grantRead(driver);
  // The wrong-secret recovery: the driver fixes the secret as an operator would (PutSecretValue).
  signingSecret.grantWrite(driver);
  fixtureBucket.grantReadWrite(driver);
  webhooks.grantReadArchive(driver);
  webhooks.grantReadMedia(driver);
  driver.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['s3:ListBucket'],
      resources: [webhooks.bucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': [`events/${ids.sessionId}/*`, `media/${ids.sessionId}/*`] } },
    }),
  );
  driver.addToRolePolicy(
    new iam.PolicyStatement({ actions: ['sqs:GetQueueAttributes'], resources: [webhooks.queue.queueArn, webhooks.deadLetterQueue.queueArn] }),
  );
  consumerQueue.grantConsumeMessages(driver);
  alarmQueue.grantConsumeMessages(driver);

  // Server access logs arrive late and are retained by the construct; the runner empties this
  // bucket before destroying, so that the stack deletes cleanly.
  if (webhooks.accessLogsBucket) new CfnOutput(stack, 'AccessLogsBucketName', { value: webhooks.accessLogsBucket.bucketName });
  new CfnOutput(stack, 'ArchiveBucketName', { value: webhooks.bucket.bucketName });
  new CfnOutput(stack, 'FixtureBucketName', { value: fixtureBucket.bucketName });
  new CfnOutput(stack, 'WebhookUrl', { value: webhooks.webhookUrl });
  new CfnOutput(stack, 'Region', { value: stack.region });

  // Everything the test creates goes with the stack: keys are scheduled for deletion (no charge
  // while pending, https://aws.amazon.com/kms/pricing/), buckets are emptied and deleted.
  RemovalPolicies.of(stack).destroy();
  // ... after the shortest waiting period KMS allows, not CDK's default 30 days.
  Aspects.of(stack).add({
    visit(node: IConstruct) {
      if (node instanceof kms.CfnKey) node.pendingWindowInDays = 7;
    },
  });

  const assertionStack = new Stack(app, ASSERTION_STACK_NAME, {
    env,
    description: 'facesign-webhooks integration test: the assertions (deleted after the run)',
  });
  // integ-tests-alpha's provider roles allow `lambda:Invoke` (its SDK command's name) beside
  // `lambda:InvokeFunction`; IAM accepts the unknown action and it grants nothing, so cfn-lint's
  // W3037 about it is acknowledged on those roles only (.cfnlintrc).
  Aspects.of(assertionStack).add({
    visit(node: IConstruct) {
      if (node instanceof CfnResource && node.cfnResourceType === 'AWS::IAM::Role' && node.node.path.includes('/SingletonFunction')) {
        node.addMetadata('cfn-lint', { config: { ignore_checks: ['W3037'] } });
      }
    },
  });
  const integ = new IntegTest(app, 'FaceSignWebhooksIntegTest', {
    testCases: [stack],
    assertionStack,
    diffAssets: false,
    stackUpdateWorkflow: false,
    cdkCommandOptions: { destroy: { args: { force: true } } },
  });
  const assertions = integ.assertions;
  const labelled: { label: string; construct: IConstruct }[] = [];
  const step = <T extends IConstruct>(label: string, construct: T): T => {
    labelled.push({ label, construct });
    return construct;
  };
  const invoke = (request: object) => assertions.invokeFunction({ functionName: driver.functionName, payload: JSON.stringify(request) });
  const payload = (pattern: Record<string, unknown>) => ExpectedResult.objectLike({ Payload: Match.serializedJson(Match.objectLike(pattern)) });
  // A wrong answer here fails the deployment at once (failDeployment), instead of leaving the
  // waiting steps after it to time out.
  const answersAre = (id: string, label: string, call: ReturnType<typeof invoke>, summary: string) =>
    step(
      label,
      new EqualsAssertion(assertionStack, id, {
        actual: ActualResult.fromAwsApiCall(call, 'Payload.summary'),
        expected: ExpectedResult.exact(summary),
        failDeployment: true,
      }),
    );

  // What the construct promises for every object it writes: SSE-KMS under its key, with a Bucket Key.
  const encryption = { serverSideEncryption: 'aws:kms', kmsKeyId: webhooks.encryptionKey.keyArn, bucketKeyEnabled: true };
  const archived = { exists: true, matchesExpected: true, contentType: 'application/json', ...encryption };
  const media = {
    exists: true,
    matchesExpected: true,
    bytes: FIXTURE_BYTES,
    sha256: fixtureSha256(),
    contentType: FIXTURE_CONTENT_TYPE,
    ...encryption,
  };
  const mediaKey = `media/${ids.sessionId}/media.user_photo/${ids.mediaId}.jpg`;
  const settle = { totalTimeout: Duration.minutes(10), interval: Duration.seconds(20), backoffRate: 1 };

  const deliverFirst = step('signing and posting session.status, media.user_photo and a tampered copy', invoke({ action: 'deliver', round: 'first' }));
  answersAre(
    'FirstDeliveryAnswers',
    'authentic session.status and media.user_photo get 200, a tampered one 401',
    deliverFirst,
    'session.status=200 media.user_photo=200 tampered=401:signature_mismatch',
  );
  step(
    'the presigned fixture URL is on the allowed media host',
    new EqualsAssertion(assertionStack, 'MediaHostAllowed', {
      actual: ActualResult.fromAwsApiCall(deliverFirst, 'Payload.mediaHost'),
      expected: ExpectedResult.exact(fixtureHost),
      failDeployment: true,
    }),
  );
  const storedFirst = step(
    'archive and media objects exist with the right size, SHA-256 and encryption; queue drained; DLQ empty',
    invoke({ action: 'inspect', phase: 'first' })
      .expect(
        payload({
          archive: { sessionStatus: archived, userPhoto: archived },
          media,
          objectCounts: { events: 2, media: 1 },
          queueDrained: true,
          deadLetterQueue: { visible: 0, inFlight: 0 },
        }),
      )
      .waitForAssertions(settle),
  );
  const deliverRepeat = step('posting the same two events again', invoke({ action: 'deliver', round: 'repeat' }));
  answersAre('RepeatDeliveryAnswers', 'the same two events delivered again get 200', deliverRepeat, 'session.status=200 media.user_photo=200');
  const duplicateLogged = (name: 'sessionStatus' | 'userPhoto') =>
    step(
      `the processor skipped the repeat of ${ids.eventIds[name]} as a duplicate`,
      assertions
        .awsApiCall('CloudWatchLogs', 'filterLogEvents', {
          logGroupName: webhooks.processorLogGroup.logGroupName,
          filterPattern: `"${DUPLICATE_LOG_TEXT}" "${ids.eventIds[name]}"`,
          // One line is proof enough, and keeps the custom resource response under 4 KB.
          limit: 1,
        })
        .expect(ExpectedResult.objectLike({ events: Match.arrayWith([Match.objectLike({ message: Match.stringLikeRegexp(ids.eventIds[name]) })]) }))
        .waitForAssertions(settle),
    );
  const duplicateStatus = duplicateLogged('sessionStatus');
  const duplicatePhoto = duplicateLogged('userPhoto');
  const storedRepeat = step(
    'the repeat wrote nothing: one object each, unchanged since the first delivery; queue drained; DLQ empty',
    invoke({ action: 'inspect', phase: 'repeat' })
      .expect(
        payload({
          archive: {
            sessionStatus: { ...archived, unchangedSinceFirstDelivery: true },
            userPhoto: { ...archived, unchangedSinceFirstDelivery: true },
          },
          media: { ...media, unchangedSinceFirstDelivery: true },
          objectCounts: { events: 2, media: 1 },
          queueDrained: true,
          deadLetterQueue: { visible: 0, inFlight: 0 },
        }),
      )
      .waitForAssertions(settle),
  );
  const publishedOnce = step(
    'the onEvent rule delivered each event exactly once, with the stored media and no signed URL',
    invoke({ action: 'published' })
      .expect(
        payload({
          count: { sessionStatus: 1, userPhoto: 1 },
          detailType: { sessionStatus: 'session.status', userPhoto: 'media.user_photo' },
          media: { key: mediaKey, bytes: FIXTURE_BYTES, sha256: fixtureSha256(), contentType: FIXTURE_CONTENT_TYPE },
          mediaUrlHasQuery: false,
        }),
      )
      // Longer than the 60 s the driver hides what it counted, so a retry counts everything again.
      .waitForAssertions({ totalTimeout: Duration.minutes(5), interval: Duration.seconds(75), backoffRate: 1 }),
  );
  const deadLetterQueueEmpty = step(
    'the dead-letter queue is empty',
    assertions
      .awsApiCall('SQS', 'getQueueAttributes', {
        QueueUrl: webhooks.deadLetterQueue.queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      })
      .expect(ExpectedResult.objectLike({ Attributes: { ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' } })),
  );
  // The page that matters most: an event reached the dead-letter queue.
  const alarm = webhooks.monitoring.alarms.deadLetterQueueNewMessages;
  const setAlarm = step(
    'set-alarm-state puts an alarm into ALARM',
    assertions.awsApiCall('CloudWatch', 'setAlarmState', {
      AlarmName: alarm.alarmName,
      StateValue: 'ALARM',
      StateReason: 'facesign-webhooks integration test: proving that the alarm topic delivers',
    }),
  );
  const alarmDelivered = step(
    'the ALARM notification reached a queue subscribed to the alarm topic',
    invoke({ action: 'alarmNotified', alarmName: alarm.alarmName })
      .expect(payload({ alarmNotified: true }))
      // Longer than the 30 s the driver hides what it read.
      .waitForAssertions({ totalTimeout: Duration.minutes(5), interval: Duration.seconds(40), backoffRate: 1 }),
  );

  // Day one with a wrong secret: FaceSign's delivery is refused (401, never retried) but held; the
  // secret is fixed; the reverifier (what npm run reverify invokes) queues it; it is processed once.
  const refused = step('posting a FaceSign event signed with a secret the receiver does not have', invoke({ action: 'deliverWithWrongSecret' }));
  answersAre('WrongSecretAnswer', 'the delivery signed with the wrong secret gets 401 signature_mismatch', refused, 'held=401:signature_mismatch');
  const held = step(
    `the verifier suspected a wrong secret and held ${ids.held.eventId}`,
    assertions
      .awsApiCall('CloudWatchLogs', 'filterLogEvents', {
        logGroupName: webhooks.verifierLogGroup.logGroupName,
        // Logged only after WrongSecretSuspected is counted and the hold is stored.
        filterPattern: `"${HELD_LOG_TEXT}" "${ids.held.eventId}"`,
        limit: 1,
      })
      .expect(ExpectedResult.objectLike({ events: Match.arrayWith([Match.objectLike({ message: Match.stringLikeRegexp(ids.held.eventId) })]) }))
      .waitForAssertions(settle),
  );
  // The page: the real WrongSecretSuspected data point takes its Critical alarm to ALARM (no set-alarm-state here).
  const wrongSecretAlarm = webhooks.monitoring.alarms.wrongSecretSuspected;
  const paged = step(
    'the WrongSecretSuspected alarm paged: its ALARM notification reached the subscribed queue',
    invoke({ action: 'alarmNotified', alarmName: wrongSecretAlarm.alarmName })
      .expect(payload({ alarmNotified: true }))
      // Metric delivery and a one-minute evaluation; longer than the 30 s the driver hides what it read.
      .waitForAssertions({ totalTimeout: Duration.minutes(10), interval: Duration.seconds(40), backoffRate: 1 }),
  );
  const fixed = step(
    'the signing secret is fixed: the right one and the one FaceSign used are both active',
    invoke({ action: 'fixSecret' }).expect(payload({ activeSecrets: 2 })),
  );
  const reverifier = (expected: Record<string, unknown>) =>
    assertions.invokeFunction({ functionName: webhooks.reverifier.functionName, payload: '{}' }).expect(payload(expected));
  const reverified = step(
    'the reverifier queued the held delivery, with nothing failed',
    reverifier({ secretConfigured: true, complete: true, failed: [], requeued: Match.arrayWith([Match.objectLike({ eventId: ids.held.eventId })]) }),
  );
  const recoveredOnce = step(
    'the held event was archived byte for byte and published exactly once',
    invoke({ action: 'recovered' })
      .expect(payload({ archive: archived, published: 1 }))
      // Longer than the 60 s the driver hides what it counted.
      .waitForAssertions({ totalTimeout: Duration.minutes(5), interval: Duration.seconds(75), backoffRate: 1 }),
  );
  const reverifiedAgain = step('a second re-verification changes nothing', reverifier({ secretConfigured: true, complete: true, failed: [], requeued: [] }));

  deliverFirst
    .next(storedFirst)
    .next(deliverRepeat)
    .next(duplicateStatus)
    .next(duplicatePhoto)
    .next(storedRepeat)
    .next(publishedOnce)
    .next(deadLetterQueueEmpty)
    .next(setAlarm)
    .next(alarmDelivered)
    .next(refused)
    .next(held)
    .next(paged)
    .next(fixed)
    .next(reverified)
    .next(recoveredOnce)
    .next(reverifiedAgain);

  // The runner prints "asserting: <label>" when CloudFormation starts each of these resources.
  assertionStack.templateOptions.metadata = {
    // Lazy: integ-tests-alpha adds the result outputs of API calls while synthesizing.
    [ASSERTION_LABELS_METADATA]: Lazy.any({ produce: () => labelled.map(({ label, construct }) => ({ label, ...assertionIds(construct) })) }),
  };
  return { stack, assertionStack, webhooks, labels: labelled.map((l) => l.label) };
}

/**
 * The logical id of the custom resource that performs an assertion step, and of the stack output
 * that carries its result (steps without an expectation have none).
 */
function assertionIds(step: IConstruct): { logicalId: string; resultOutput?: string } {
  const children = step.node.findAll();
  const resource = children.find((c): c is CfnResource => c instanceof CfnResource && c.cfnResourceType.startsWith('Custom::DeployAssert'));
  if (!resource) throw new Error(`no assertion resource under ${step.node.path}`);
  const output = children.find((c): c is CfnOutput => c instanceof CfnOutput && c.node.id === 'AssertionResults');
  const stack = Stack.of(resource);
  return { logicalId: stack.getLogicalId(resource), ...(output ? { resultOutput: stack.resolve(output.logicalId) as string } : {}) };
}
