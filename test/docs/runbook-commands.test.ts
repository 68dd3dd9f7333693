/**
 * Every `sh` block of docs/operations.md runs here, read from the page itself (so the page and the
 * test cannot drift), with the real AWS CLI against moto on 127.0.0.1, and must do what its text
 * says. Each procedure starts from an empty moto account holding what it needs: a stack named
 * FaceSignWebhooks with the outputs the blocks read, the two queues, dead letters as the processor
 * or SQS leave them, an event source mapping, a bus with an archive and a consumer's rule.
 *
 * Where the AWS CLI, jq or moto's server is missing the tests are skipped, and say so; .ci/run
 * counts a CI machine without them as a failed step (as for cfn-lint).
 *
 * What moto 5.2 cannot do, and what is checked instead:
 * - StartMessageMoveTask and ListMessageMoveTasks are not implemented (a 500): the move block runs
 *   against a recorder that answers those two and passes the rest to moto, so the requests the CLI
 *   sends are checked, not SQS's move. A test fails once moto implements them.
 * - StartReplay ignores `FilterArns` (it replays to every rule): the request's destination is
 *   checked with DescribeReplay, and delivery only to the consumer's target.
 * - GetMetricStatistics matches a subset of the dimensions (CloudWatch matches them exactly), so
 *   the 401-storm setup publishes each metric either in total or per Reason, never both.
 * - DescribeAlarms applies either `--alarm-name-prefix` or `--state-value`, not both; the silence
 *   block filters the state in its `--query`, which is as right against CloudWatch.
 * - A rule's Lambda target is not delivered to (moto raises NotImplementedError on one): the Lambda
 *   dead-letter case's rule matches no published event, and its lookup (ListRuleNamesByTarget, which
 *   moto implements) and the replay's request (rule, span) are checked, not a delivery to Lambda.
 * - ReceiveMessage never answers a false empty (moto has one server), so the loop's need for long
 *   polling is not shown here; that it reads past the first 10 messages is.
 */
import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
  type MessageAttributeValue,
} from '@aws-sdk/client-sqs';
import {
  CreateArchiveCommand,
  CreateEventBusCommand,
  DescribeReplayCommand,
  EventBridgeClient,
  ListReplaysCommand,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import {
  CreateEventSourceMappingCommand,
  CreateFunctionCommand,
  GetEventSourceMappingCommand,
  LambdaClient,
  ListEventSourceMappingsCommand,
} from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { listenOnLoopback } from '../../local/services/ports';
import { ACCOUNT, motoQuery, probeRunbookTools, REGION, runbookShell, startMoto, type MotoServer, type RunbookShell } from '../support/runbook-shell';

const ROOT = path.join(__dirname, '..', '..');
const OPERATIONS = readFileSync(path.join(ROOT, 'docs', 'operations.md'), 'utf8');

/** A fenced `sh` block, keyed by the heading it sits under and its place there ("Silence #1"). */
interface ShellBlock {
  readonly key: string;
  readonly text: string;
}

/** The page's `sh` blocks, unindented (a block inside a list item is indented). */
function shellBlocks(markdown: string): ShellBlock[] {
  const blocks: ShellBlock[] = [];
  const seen = new Map<string, number>();
  const lines = markdown.split('\n');
  let heading = '(top)';
  for (let i = 0; i < lines.length; i++) {
    const fence = /^(\s*)```(\w*)\s*$/.exec(lines[i]);
    if (fence) {
      const body: string[] = [];
      for (i++; i < lines.length && !/^\s*```\s*$/.test(lines[i]); i++) body.push(lines[i].slice(fence[1].length));
      if (fence[2] !== 'sh') continue;
      const n = (seen.get(heading) ?? 0) + 1;
      seen.set(heading, n);
      blocks.push({ key: `${heading} #${n}`, text: body.join('\n') });
      continue;
    }
    const title = /^#{1,6}\s+(.*?)\s*$/.exec(lines[i]);
    if (title) heading = title[1];
  }
  return blocks;
}

const BLOCKS = new Map(shellBlocks(OPERATIONS).map((b) => [b.key, b.text]));
/** The block the scenario runs; a renamed heading or a removed block fails here, by name. */
function block(key: string): string {
  const text = BLOCKS.get(key);
  if (text === undefined) throw new Error(`docs/operations.md has no sh block "${key}"; it has: ${[...BLOCKS.keys()].join(', ')}`);
  return text;
}

/** The procedures tested below, by block key: the coverage test holds this list to the page. */
const SCENARIOS = [
  'Runbook #1',
  'A 401 storm #1',
  'Recover deliveries refused for a wrong secret #1',
  'A queue that does not drain #1',
  'A queue that does not drain #2',
  'Silence #1',
  'Redrive the dead-letter queue #1',
  'Redrive the dead-letter queue #2',
  "Redeliver a consumer's dead letters #1",
];

describe('the runbook blocks (docs/operations.md)', () => {
  it('are found, and every one has a scenario below (a new block without a test fails here)', () => {
    expect(shellBlocks('## A\n```sh\naws x\n```\n```json\n# not a heading\n```\n## B\n   ```sh\n   aws y\n   ```\n')).toEqual([
      { key: 'A #1', text: 'aws x' },
      { key: 'B #1', text: 'aws y' },
    ]);
    expect([...BLOCKS.keys()].sort()).toEqual([...SCENARIOS].sort());
    for (const text of BLOCKS.values()) expect(text).toMatch(/\baws /);
  });
});

const tools = probeRunbookTools();
const skip = tools.missing !== undefined;
const named = (title: string) => (skip ? `${title}: skipped, ${tools.missing} not installed` : title);

const STACK = 'FaceSignWebhooks';
const DEPLOYMENT = 'FaceSignWebhooks/FaceSignWebhooks';
const REVERIFIER = 'FaceSignWebhooks-Reverifier-abc123';
const WEBHOOK_URL = 'https://abc123.execute-api.us-east-1.amazonaws.com/webhooks/facesign';
const BUS = 'facesign-bus';
const BUS_ARN = `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/${BUS}`;
const ARCHIVE_ARN = `arn:aws:events:${REGION}:${ACCOUNT}:archive/facesign-archive`;
const queueArn = (name: string) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`;

describe.skipIf(skip)(`the runbook's commands with ${tools.aws ?? 'the AWS CLI'}, ${tools.moto ?? 'moto'} and ${tools.jq ?? 'jq'}`, () => {
  let moto: MotoServer;
  let shell: RunbookShell;
  let sqs: SQSClient;
  let lambda: LambdaClient;
  let events: EventBridgeClient;
  let queueUrl: string;
  let dlqUrl: string;

  beforeAll(async () => {
    moto = await startMoto();
    shell = runbookShell(moto.endpoint);
    const client = { endpoint: moto.endpoint, region: REGION, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
    sqs = new SQSClient(client);
    lambda = new LambdaClient(client);
    events = new EventBridgeClient(client);
  }, 120_000);
  afterAll(async () => {
    for (const c of [sqs, lambda, events]) c?.destroy();
    shell?.remove();
    await moto?.stop();
  });

  /** An empty account, then the stack: its two queues (DLQ after 5 receives) and the outputs the blocks read. */
  beforeEach(async () => {
    await moto.reset();
    const template = {
      Resources: {
        DeadLetterQueue: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'facesign-dlq' } },
        Queue: {
          Type: 'AWS::SQS::Queue',
          Properties: {
            QueueName: 'facesign-queue',
            RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': ['DeadLetterQueue', 'Arn'] }, maxReceiveCount: 5 },
          },
        },
      },
      Outputs: {
        QueueUrl: { Value: { Ref: 'Queue' } },
        QueueArn: { Value: { 'Fn::GetAtt': ['Queue', 'Arn'] } },
        DeadLetterQueueUrl: { Value: { Ref: 'DeadLetterQueue' } },
        DeadLetterQueueArn: { Value: { 'Fn::GetAtt': ['DeadLetterQueue', 'Arn'] } },
        ReverifierFunctionName: { Value: REVERIFIER },
        WebhookUrl: { Value: WEBHOOK_URL },
        EventBusArn: { Value: BUS_ARN },
        EventArchiveArn: { Value: ARCHIVE_ARN },
      },
    };
    await motoQuery(moto.endpoint, 'cloudformation', 'CreateStack', { StackName: STACK, TemplateBody: JSON.stringify(template) });
    queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'facesign-queue' }))).QueueUrl!;
    dlqUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'facesign-dlq' }))).QueueUrl!;
  });

  const text = (value: string): MessageAttributeValue => ({ DataType: 'String', StringValue: value });

  /** A message as the processor dead-letters it: the body and the failure attributes. */
  async function deadLetter(eventId: string, reason: string): Promise<string> {
    const sent = await sqs.send(
      new SendMessageCommand({
        QueueUrl: dlqUrl,
        MessageBody: JSON.stringify({ id: eventId, type: 'session.status' }),
        MessageAttributes: {
          failureReason: text(reason),
          failureMessage: text(`${reason} for ${eventId}`),
          eventId: text(eventId),
          attempts: { DataType: 'Number', StringValue: '5' },
        },
      }),
    );
    return sent.MessageId!;
  }

  /** A message SQS itself moves after maxReceiveCount receives (a crash on every try): no failureReason. */
  async function movedBySqs(eventId: string): Promise<void> {
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify({ id: eventId }), MessageAttributes: { eventId: text(eventId) } }));
    for (let i = 0; i < 10 && (await depth(queueUrl)) > 0; i++) {
      await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, VisibilityTimeout: 0, MaxNumberOfMessages: 10 }));
    }
    expect(await depth(queueUrl)).toBe(0);
  }

  /** Messages in the queue, in sight or not. */
  async function depth(url: string): Promise<number> {
    const { Attributes: a } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
    );
    return Number(a?.ApproximateNumberOfMessages) + Number(a?.ApproximateNumberOfMessagesNotVisible);
  }

  /** Every message in sight in the queue, read once (each stays hidden for a minute). */
  async function drain(url: string) {
    const messages = [];
    for (;;) {
      const { Messages } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 60, MessageAttributeNames: ['All'] }),
      );
      if (!Messages?.length) return messages;
      messages.push(...Messages);
    }
  }

  it(
    named('Runbook: reads every dead letter once into dead-letters.jsonl, past the first 10, and leaves them all in the queue'),
    async () => {
      const ids = new Map<string, string>();
      for (let i = 0; i < 12; i++) ids.set(await deadLetter(`evt_${i}`, i % 3 === 0 ? 'media_url_expired' : 'retries_exhausted'), `evt_${i}`);
      await movedBySqs('evt_crashed');
      expect(await depth(dlqUrl)).toBe(13);

      const run = await shell.run(block('Runbook #1'));
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const read = readFileSync(path.join(shell.dir, 'dead-letters.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { MessageId: string; Body: string; Attributes: Record<string, string> });
      expect(read).toHaveLength(13);
      expect(new Set(read.map((m) => m.MessageId)).size).toBe(13);
      expect(read.every((m) => m.Attributes.ApproximateReceiveCount === '1' || JSON.parse(m.Body).id === 'evt_crashed')).toBe(true);
      // The table: one line per message, its reason (or moved_by_sqs) and event id.
      const rows = run.stdout
        .trim()
        .split('\n')
        .map((line) => line.split('\t'));
      expect(rows).toHaveLength(13);
      for (const [messageId, reason, eventId] of rows) {
        if (ids.has(messageId)) {
          expect(eventId).toBe(ids.get(messageId));
          expect(reason).toBe(Number(eventId.slice(4)) % 3 === 0 ? 'media_url_expired' : 'retries_exhausted');
        } else {
          expect([reason, eventId]).toEqual(['moved_by_sqs', 'evt_crashed']);
        }
      }
      expect(await depth(dlqUrl)).toBe(13);
      expect(existsSync(path.join(shell.dir, 'batch.json'))).toBe(false);
    },
    150_000,
  );

  it(
    named("A 401 storm: counts the last hour of this deployment's refusals, by kind and by reason"),
    async () => {
      const at = new Date(Date.now() - 600_000).toISOString();
      const datum = (metric: string, value: number, deployment: string, reason?: string) => ({
        MetricName: metric,
        Value: value,
        Dimensions: [
          { Name: 'service', Value: 'facesign-verifier' },
          { Name: 'deployment', Value: deployment },
          ...(reason ? [{ Name: 'Reason', Value: reason }] : []),
        ],
      });
      const data = [
        datum('WrongSecretSuspected', 3, DEPLOYMENT),
        datum('WrongSecretSuspected', 40, 'Staging/FaceSignWebhooks'),
        datum('DeliveriesHeld', 2, DEPLOYMENT),
        datum('SignatureFailures', 4, DEPLOYMENT, 'missing_signature'),
        datum('SignatureFailures', 3, DEPLOYMENT, 'signature_mismatch'),
        datum('SignatureFailures', 100, 'Staging/FaceSignWebhooks', 'signature_mismatch'),
      ];
      const params: Record<string, string> = { Namespace: 'FaceSignWebhooks' };
      data.forEach((d, i) => {
        const m = `MetricData.member.${i + 1}`;
        Object.assign(params, { [`${m}.MetricName`]: d.MetricName, [`${m}.Value`]: String(d.Value), [`${m}.Timestamp`]: at });
        d.Dimensions.forEach((dim, j) =>
          Object.assign(params, { [`${m}.Dimensions.member.${j + 1}.Name`]: dim.Name, [`${m}.Dimensions.member.${j + 1}.Value`]: dim.Value }),
        );
      });
      await motoQuery(moto.endpoint, 'monitoring', 'PutMetricData', params);

      const run = await shell.run(block('A 401 storm #1'));
      expect(run.stderr).toBe('');
      const counts = Object.fromEntries(
        run.stdout
          .trim()
          .split('\n')
          .map((line) => {
            const words = line.split(' ');
            return [words.slice(0, -1).join(' '), Number(words.at(-1))];
          }),
      );
      expect(counts).toEqual({
        WrongSecretSuspected: 3,
        DeliveriesHeld: 2,
        'SignatureFailures missing_signature': 4,
        'SignatureFailures malformed_signature': 0,
        'SignatureFailures signature_mismatch': 3,
      });
    },
    120_000,
  );

  it(
    named('Recover deliveries refused for a wrong secret: npm run reverify gets the reverifier named by the stack output'),
    async () => {
      const run = await shell.run(block('Recover deliveries refused for a wrong secret #1'));
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(shell.npmCalls()).toEqual([['run', 'reverify', '--', '--function', REVERIFIER]]);
    },
    60_000,
  );

  it(
    named('A queue that does not drain: shows a disabled mapping of the queue, and the second block enables it'),
    async () => {
      const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] };
      await motoQuery(moto.endpoint, 'iam', 'CreateRole', { RoleName: 'processor', AssumeRolePolicyDocument: JSON.stringify(policy) });
      // moto stores the code without running it: an empty zip (its end-of-directory record) will do.
      const emptyZip = Uint8Array.from([0x50, 0x4b, 0x05, 0x06, ...new Array<number>(18).fill(0)]);
      await lambda.send(
        new CreateFunctionCommand({
          FunctionName: 'processor',
          Runtime: 'nodejs20.x',
          Handler: 'index.handler',
          Role: `arn:aws:iam::${ACCOUNT}:role/processor`,
          Code: { ZipFile: emptyZip },
        }),
      );
      // An unrelated mapping on another queue comes first, so the block must pick the queue's own.
      await sqs.send(new CreateQueueCommand({ QueueName: 'other' }));
      const map = (queue: string) =>
        lambda.send(new CreateEventSourceMappingCommand({ FunctionName: 'processor', EventSourceArn: queueArn(queue), Enabled: false }));
      await map('other');
      const mapping = await map('facesign-queue');
      const state = async () => (await lambda.send(new GetEventSourceMappingCommand({ UUID: mapping.UUID }))).State;
      expect(await state()).toBe('Disabled');

      const look = await shell.run(block('A queue that does not drain #1'));
      expect(look.stderr).toBe('');
      expect(look.stdout.split('\t')[0]).toBe('Disabled');
      expect(await state()).toBe('Disabled');

      const enable = await shell.run(block('A queue that does not drain #2'));
      expect(enable.stderr).toBe('');
      expect(enable.stdout.trim()).toMatch(/^Enabl(ing|ed)$/);
      expect(await state()).toBe('Enabled');
      const other = await lambda.send(new ListEventSourceMappingsCommand({ EventSourceArn: queueArn('other') }));
      expect(other.EventSourceMappings?.map((m) => m.State)).toEqual(['Disabled']);
    },
    120_000,
  );

  it(
    named("Silence: prints the WebhookUrl output and only this stack's alarms in ALARM"),
    async () => {
      const names = ['FaceSignWebhooks-Verifier-NoDeliveries-Critical', 'FaceSignWebhooks-Api-Throttled-Critical', 'Other-Verifier-NoDeliveries-Critical'];
      for (const name of names) {
        await motoQuery(moto.endpoint, 'monitoring', 'PutMetricAlarm', {
          AlarmName: name,
          Namespace: 'FaceSignWebhooks',
          MetricName: 'EventsReceived',
          Statistic: 'Sum',
          Period: '300',
          EvaluationPeriods: '1',
          Threshold: '1',
          ComparisonOperator: 'LessThanThreshold',
        });
      }
      for (const name of [names[0], names[2]]) {
        await motoQuery(moto.endpoint, 'monitoring', 'SetAlarmState', { AlarmName: name, StateValue: 'ALARM', StateReason: 'test' });
      }

      const run = await shell.run(block('Silence #1'));
      expect(run.stderr).toBe('');
      const [url, ...alarms] = run.stdout.trim().split('\n');
      expect(url).toBe(`FaceSign must call: ${WEBHOOK_URL}`);
      expect(alarms.map((line) => line.split('\t')[0])).toEqual(['FaceSignWebhooks-Verifier-NoDeliveries-Critical']);
    },
    120_000,
  );

  it(
    named('Redrive by reason: sends back exactly the chosen reasons, attributes intact, and keeps the rest in the DLQ'),
    async () => {
      const reasons = ['retries_exhausted', 'media_url_expired', 'retries_exhausted', 'media_not_available'];
      for (let i = 0; i < 12; i++) await deadLetter(`evt_${i}`, reasons[i % 4]);
      await movedBySqs('evt_crashed');

      const run = await shell.run(block('Redrive the dead-letter queue #1'), { REASONS: 'retries_exhausted moved_by_sqs' });
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const back = await drain(queueUrl);
      const ids = back.map((m) => (JSON.parse(m.Body!) as { id: string }).id).sort();
      expect(ids).toEqual(['evt_0', 'evt_10', 'evt_2', 'evt_4', 'evt_6', 'evt_8', 'evt_crashed']);
      for (const m of back.filter((m) => m.MessageAttributes?.failureReason)) {
        const id = (JSON.parse(m.Body!) as { id: string }).id;
        expect(m.MessageAttributes).toEqual({
          failureReason: text('retries_exhausted'),
          failureMessage: text(`retries_exhausted for ${id}`),
          eventId: text(id),
          attempts: { DataType: 'Number', StringValue: '5' },
        });
      }
      expect(await depth(dlqUrl)).toBe(6);
    },
    150_000,
  );

  it(
    named('Redrive by reason, the main queue refusing every send: deletes nothing from the DLQ'),
    async () => {
      for (let i = 0; i < 3; i++) await deadLetter(`evt_${i}`, 'retries_exhausted');
      await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));

      const run = await shell.run(block('Redrive the dead-letter queue #1'), { REASONS: 'retries_exhausted' });
      expect(run.stderr).toMatch(/QueueDoesNotExist|NonExistentQueue/);
      expect(await depth(dlqUrl)).toBe(3);
    },
    150_000,
  );

  it(
    named('Redrive by reason without REASONS: refuses to start and moves nothing'),
    async () => {
      await deadLetter('evt_0', 'retries_exhausted');
      const run = await shell.run(block('Redrive the dead-letter queue #1'));
      expect(run.stderr).toContain('set REASONS');
      expect(run.code).not.toBe(0);
      expect(await depth(dlqUrl)).toBe(1);
      expect(await depth(queueUrl)).toBe(0);
    },
    60_000,
  );

  it(
    named('Move everything: moto 5.2 has no message move task (this fails once it has one: then run the block against moto)'),
    async () => {
      const response = await fetch(`${moto.endpoint}/`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': 'AmazonSQS.StartMessageMoveTask',
          authorization: `AWS4-HMAC-SHA256 Credential=testing/20260101/${REGION}/sqs/aws4_request, SignedHeaders=host, Signature=0`,
        },
        body: JSON.stringify({ SourceArn: queueArn('facesign-dlq'), DestinationArn: queueArn('facesign-queue') }),
        signal: AbortSignal.timeout(30_000),
      });
      // moto raises NotImplementedError, which its server answers as a bare 500.
      expect(response.status).toBe(500);
    },
    120_000,
  );

  it(
    named('Move everything: the move task is asked to move the DLQ into the main queue at 10 a second (requests checked; moto lacks the API)'),
    async () => {
      const recorded: { target: string; body: Record<string, unknown> }[] = [];
      const target = new URL(moto.endpoint);
      const recorder = createServer((req: IncomingMessage, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const body = Buffer.concat(chunks);
          const amzTarget = String(req.headers['x-amz-target'] ?? '');
          if (/^AmazonSQS\.(StartMessageMoveTask|ListMessageMoveTasks)$/.test(amzTarget)) {
            recorded.push({ target: amzTarget, body: JSON.parse(body.toString()) as Record<string, unknown> });
            const answer = amzTarget.endsWith('StartMessageMoveTask') ? { TaskHandle: 'task-1' } : { Results: [{ Status: 'RUNNING' }] };
            res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify(answer));
            return;
          }
          const upstream = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          });
          upstream.on('error', () => res.writeHead(502).end());
          upstream.end(body);
        });
      });
      const listener = await listenOnLoopback(recorder);
      try {
        const run = await shell.run(block('Redrive the dead-letter queue #2'), {}, `http://127.0.0.1:${listener.port}`);
        expect(run.stderr).toBe('');
        expect(run.code).toBe(0);
        expect(recorded).toEqual([
          {
            target: 'AmazonSQS.StartMessageMoveTask',
            body: { SourceArn: queueArn('facesign-dlq'), DestinationArn: queueArn('facesign-queue'), MaxNumberOfMessagesPerSecond: 10 },
          },
          { target: 'AmazonSQS.ListMessageMoveTasks', body: { SourceArn: queueArn('facesign-dlq') } },
        ]);
      } finally {
        await listener.close();
      }
    },
    120_000,
  );

  it(
    named("Redeliver a consumer's dead letters: replays their span from the archive to their rule, then empties the consumer's DLQ"),
    async () => {
      const consumer = (await sqs.send(new CreateQueueCommand({ QueueName: 'consumer-target' }))).QueueUrl!;
      const consumerDlq = (await sqs.send(new CreateQueueCommand({ QueueName: 'consumer-dlq' }))).QueueUrl!;
      const pattern = JSON.stringify({ source: ['facesign.webhooks'] });
      await events.send(new CreateEventBusCommand({ Name: BUS }));
      await events.send(new CreateArchiveCommand({ ArchiveName: 'facesign-archive', EventSourceArn: BUS_ARN, EventPattern: pattern }));
      const rule = (await events.send(new PutRuleCommand({ Name: 'consumer', EventBusName: BUS, EventPattern: pattern }))).RuleArn!;
      await events.send(
        new PutTargetsCommand({
          Rule: 'consumer',
          EventBusName: BUS,
          Targets: [{ Id: 'target', Arn: queueArn('consumer-target'), DeadLetterConfig: { Arn: queueArn('consumer-dlq') } }],
        }),
      );
      const entries = ['evt_a', 'evt_b', 'evt_c'].map((id) => ({
        Source: 'facesign.webhooks',
        DetailType: 'session.status',
        Detail: JSON.stringify({ id }),
        EventBusName: BUS,
      }));
      await events.send(new PutEventsCommand({ Entries: entries }));
      // The events as EventBridge delivered them; two become the consumer's dead letters, as EventBridge leaves them.
      const delivered = await drain(consumer);
      expect(delivered).toHaveLength(3);
      for (const event of delivered.filter((m) => (JSON.parse(m.Body!) as { detail: { id: string } }).detail.id !== 'evt_b')) {
        await sqs.send(
          new SendMessageCommand({
            QueueUrl: consumerDlq,
            MessageBody: event.Body!,
            MessageAttributes: {
              RULE_ARN: text(rule),
              TARGET_ARN: text(queueArn('consumer-target')),
              ERROR_CODE: text('SDKClientException'),
              ERROR_MESSAGE: text('target unavailable'),
            },
          }),
        );
      }
      await new Promise((r) => setTimeout(r, 1100)); // the replay's end (latest time + 1 s) must be past

      const run = await shell.run(block("Redeliver a consumer's dead letters #1"), { CONSUMER_DLQ_URL: consumerDlq });
      expect(run.stderr).toBe('');
      expect(run.stdout).toMatch(/^replay redeliver-\d{14}: COMPLETED$/m);
      const replayName = /replay (redeliver-\d{14})/.exec(run.stdout)![1];
      const replay = await events.send(new DescribeReplayCommand({ ReplayName: replayName }));
      expect(replay.EventSourceArn).toBe(ARCHIVE_ARN);
      expect(replay.Destination).toEqual({ Arn: BUS_ARN, FilterArns: [rule] });
      // All three share the dead letters' span, so all three come again, marked as replayed.
      const replayed = (await drain(consumer)).map((m) => JSON.parse(m.Body!) as { detail: { id: string }; 'replay-name': string });
      expect(replayed.map((e) => e.detail.id).sort()).toEqual(['evt_a', 'evt_b', 'evt_c']);
      expect(replayed.every((e) => e['replay-name'] === replayName)).toBe(true);
      expect(await depth(consumerDlq)).toBe(0);
    },
    150_000,
  );

  it(
    named("Redeliver a consumer's dead letters of a Lambda target: finds the rule by the record's function, replays the events' span, empties the DLQ"),
    async () => {
      const consumerDlq = (await sqs.send(new CreateQueueCommand({ QueueName: 'consumer-dlq' }))).QueueUrl!;
      const fn = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:crm-consumer`;
      await events.send(new CreateEventBusCommand({ Name: BUS }));
      await events.send(
        new CreateArchiveCommand({ ArchiveName: 'facesign-archive', EventSourceArn: BUS_ARN, EventPattern: JSON.stringify({ source: ['facesign.webhooks'] }) }),
      );
      // moto cannot deliver to a Lambda target (it raises on one), so no event published here matches this rule;
      // the lookup (ListRuleNamesByTarget) and the replay's request are what is checked.
      const pattern = JSON.stringify({ source: ['facesign.webhooks'], 'detail-type': ['session.never'] });
      const rule = (await events.send(new PutRuleCommand({ Name: 'crm', EventBusName: BUS, EventPattern: pattern }))).RuleArn!;
      await events.send(
        new PutTargetsCommand({ Rule: 'crm', EventBusName: BUS, Targets: [{ Id: 'fn', Arn: fn, DeadLetterConfig: { Arn: queueArn('consumer-dlq') } }] }),
      );
      await events.send(new PutRuleCommand({ Name: 'other', EventBusName: BUS, EventPattern: pattern }));
      await events.send(new PutTargetsCommand({ Rule: 'other', EventBusName: BUS, Targets: [{ Id: 'fn', Arn: `${fn}-other` }] }));
      const event = (id: string, time: string) => ({ id, time, source: 'facesign.webhooks', 'detail-type': 'session.never', detail: { id } });
      // Two records from the function's on-failure destination (no RULE_ARN, the version-qualified ARN)...
      for (const [id, time] of [
        ['evt_late', '2026-01-05T10:02:00Z'],
        ['evt_early', '2026-01-05T10:00:00Z'],
      ]) {
        const record = {
          version: '1.0',
          timestamp: '2026-01-05T10:05:00.000Z',
          requestContext: { requestId: id, functionArn: `${fn}:$LATEST`, condition: 'RetriesExhausted', approximateInvokeCount: 3 },
          requestPayload: event(id, time),
          responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
          responsePayload: { errorMessage: 'crm down' },
        };
        await sqs.send(new SendMessageCommand({ QueueUrl: consumerDlq, MessageBody: JSON.stringify(record) }));
      }
      // ...and one EventBridge could not hand to Lambda at all, as EventBridge leaves it.
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: consumerDlq,
          MessageBody: JSON.stringify(event('evt_mid', '2026-01-05T10:01:00Z')),
          MessageAttributes: { RULE_ARN: text(rule), TARGET_ARN: text(fn), ERROR_CODE: text('SDKClientException'), ERROR_MESSAGE: text('throttled') },
        }),
      );

      const run = await shell.run(block("Redeliver a consumer's dead letters #1"), { CONSUMER_DLQ_URL: consumerDlq });
      expect(run.stderr).toBe('');
      expect(run.stdout).toMatch(/^replay redeliver-\d{14}: COMPLETED$/m);
      const replayName = /replay (redeliver-\d{14})/.exec(run.stdout)![1];
      const replay = await events.send(new DescribeReplayCommand({ ReplayName: replayName }));
      expect(replay.EventSourceArn).toBe(ARCHIVE_ARN);
      expect(replay.Destination).toEqual({ Arn: BUS_ARN, FilterArns: [rule] });
      expect(replay.EventStartTime?.toISOString()).toBe('2026-01-05T10:00:00.000Z');
      expect(replay.EventEndTime?.toISOString()).toBe('2026-01-05T10:02:01.000Z');
      expect(await depth(consumerDlq)).toBe(0);
    },
    150_000,
  );

  it(
    named("Redeliver a consumer's dead letters, none there: says so and starts no replay"),
    async () => {
      const consumerDlq = (await sqs.send(new CreateQueueCommand({ QueueName: 'consumer-dlq' }))).QueueUrl!;
      const run = await shell.run(block("Redeliver a consumer's dead letters #1"), { CONSUMER_DLQ_URL: consumerDlq });
      expect(run.stderr).toBe('');
      expect(run.stdout.trim()).toBe('no dead letters');
      expect((await events.send(new ListReplaysCommand({}))).Replays ?? []).toEqual([]);
    },
    120_000,
  );
});
