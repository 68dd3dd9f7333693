import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { FaceSignWebhooks } from '../../lib';
import { readStackSettings, type LocalStackProps } from '../../local/stack-settings';

// The local runtime's settings are what the synthesized template says, for any props: read from
// the construct, not kept as a second copy.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- CloudFormation properties, read field by field as the template has them
type CfnProperties = Record<string, any>;

function synthesized(props: LocalStackProps) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  // The stack name readStackSettings uses: the metrics deployment dimension is derived from it.
  const stack = new Stack(app, 'LocalRuntimeSettings');
  new FaceSignWebhooks(stack, 'Webhooks', props);
  const template = Template.fromStack(stack);
  const only = (type: string, match: (p: CfnProperties) => boolean = () => true) => {
    const found = Object.values(template.findResources(type))
      .map((r) => r.Properties as CfnProperties)
      .filter(match);
    expect(found).toHaveLength(1);
    return found[0];
  };
  const queue = only('AWS::SQS::Queue', (p) => p.RedrivePolicy !== undefined);
  const mapping = only('AWS::Lambda::EventSourceMapping');
  const fn = (description: string) => only('AWS::Lambda::Function', (p) => String(p.Description).includes(description));
  return { queue, mapping, processor: fn('archives events'), verifier: fn('verifies the HMAC') };
}

describe('readStackSettings', () => {
  it.each<[string, LocalStackProps]>([
    ['the defaults', {}],
    [
      'a short processor timeout and other settings',
      {
        processorTimeout: Duration.seconds(30),
        mediaDownloadTimeout: Duration.seconds(10),
        processorBatchSize: 3,
        processorMaxConcurrency: 4,
        maxReceiveCount: 7,
        processorMemorySize: 2048,
        maxMediaBytes: 1234,
      },
    ],
  ])('with %s, agrees with the synthesized template', (_name, props) => {
    const settings = readStackSettings(props);
    const template = synthesized(props);
    expect(settings.queue).toEqual({
      visibilityTimeoutSeconds: template.queue.VisibilityTimeout,
      maxReceiveCount: template.queue.RedrivePolicy.maxReceiveCount,
    });
    expect(settings.processor).toMatchObject({
      timeoutSeconds: template.processor.Timeout,
      memoryMb: template.processor.MemorySize,
      batchSize: template.mapping.BatchSize,
      maxConcurrency: template.mapping.ScalingConfig.MaximumConcurrency,
    });
    expect(settings.verifier).toMatchObject({ timeoutSeconds: template.verifier.Timeout, memoryMb: template.verifier.MemorySize });
    // Every plain-string variable of the template, and none of those naming deployed resources.
    const plain = (variables: Record<string, unknown>) => Object.fromEntries(Object.entries(variables).filter(([, v]) => typeof v === 'string'));
    expect(settings.processor.environment).toEqual(plain(template.processor.Environment.Variables));
    expect(settings.verifier.environment).toEqual(plain(template.verifier.Environment.Variables));
  });

  it('refuses props the construct refuses, with the construct own error', () => {
    expect(() => readStackSettings({ processorTimeout: Duration.seconds(20) })).toThrow(
      /processorTimeout \(seconds\) must be an integer from 30 to 420, got 20/,
    );
  });
});

describe('the front door', () => {
  it('is the REST API door with no stage throttle by default, as the construct makes it', () => {
    expect(readStackSettings().frontDoor).toEqual({ type: 'rest-api-waf' });
  });

  it.each(['rest-api-waf', 'http-api'] as const)('reads the %s door and its stage throttle from the construct', (frontDoor) => {
    expect(readStackSettings({ frontDoor, throttlingRateLimit: 5, throttlingBurstLimit: 2 }).frontDoor).toEqual({
      type: frontDoor,
      throttle: { rateLimit: 5, burstLimit: 2 },
    });
  });

  it('leaves a limit the stage does not set unlimited', () => {
    expect(readStackSettings({ frontDoor: 'http-api', throttlingBurstLimit: 3 }).frontDoor.throttle).toEqual({ rateLimit: Infinity, burstLimit: 3 });
  });
});
