import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Duration, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { FaceSignWebhooksStack, type FaceSignWebhooksProps } from '../../lib';

function synthWithNag(webhooks?: FaceSignWebhooksProps) {
  const outdir = mkdtempSync(path.join(tmpdir(), 'facesign-nag-'));
  const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new FaceSignWebhooksStack(app, 'Nag', { webhooks });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack, outdir };
}

/** The REST door's findings without a fix (lib/nag-suppressions.ts says why); the HTTP API door has APIG4 alone. */
const REST_DOOR_FINDINGS = ['AwsSolutions-APIG2', 'AwsSolutions-APIG6', 'AwsSolutions-COG4', 'AwsSolutions-IAM4'];

describe('cdk-nag AwsSolutions', () => {
  it('reports nothing more with every data-protection option on (Object Lock, the media read trail, a break-glass reader)', () => {
    const { app, outdir } = synthWithNag({
      objectLockRetention: Duration.days(7),
      auditMediaReads: true,
      mediaBreakGlassPrincipalArns: ['arn:aws:iam::123456789012:role/BreakGlass'],
    });
    app.synth();
    const report = JSON.parse(readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: Array<{ pluginName: string; violations: unknown[] }>;
    };
    expect(report.pluginReports.find((r) => r.pluginName === 'AwsSolutions')?.violations).toEqual([]);
  });

  it.each([
    ['rest-api-waf', REST_DOOR_FINDINGS],
    ['http-api', []],
  ] as const)('reports no unacknowledged error or warning on the stack (frontDoor %s)', (frontDoor, doorFindings) => {
    const { app, outdir } = synthWithNag({ frontDoor });
    let failure = '';
    try {
      app.synth();
    } catch (error) {
      failure = String(error);
    }
    expect(failure).toBe('');
    // Warnings do not stop synthesis, so read the plugin's report: no violation of any severity.
    const report = JSON.parse(readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: Array<{
        pluginName: string;
        conclusion: string;
        violations: unknown[];
        suppressedViolations: Array<{ ruleName: string; reason: string; violatingConstructs: unknown[] }>;
      }>;
    };
    const nag = report.pluginReports.find((r) => r.pluginName === 'AwsSolutions');
    expect(nag?.conclusion).toBe('success');
    expect(nag?.violations).toEqual([]);
    // Each acknowledgement is narrow: one resource, one rule (one wildcard for IAM5), a real reason.
    for (const suppressed of nag?.suppressedViolations ?? []) {
      expect(suppressed.violatingConstructs, suppressed.ruleName).toHaveLength(1);
      expect(suppressed.reason.length, suppressed.ruleName).toBeGreaterThan(40);
      if (suppressed.ruleName.startsWith('AwsSolutions-IAM5')) expect(suppressed.ruleName).toMatch(/^AwsSolutions-IAM5\[Resource::.+\]$/);
    }
    expect(nag?.suppressedViolations.map((v) => v.ruleName.replace(/\[.*$/, '')).sort()).toEqual(
      [
        ...doorFindings,
        'AwsSolutions-APIG4',
        // X-Ray and log streams for each of the three functions, the processor's four prefixes, held/ for the verifier and the reverifier.
        ...Array(12).fill('AwsSolutions-IAM5'),
        'AwsSolutions-SMG4',
      ].sort(),
    );
  });

  it('acknowledges each finding on one resource with a reason, IAM findings one wildcard at a time', () => {
    const { app } = synthWithNag();
    const assembly = app.synth();
    const template = JSON.parse(readFileSync(path.join(assembly.directory, 'Nag.template.json'), 'utf8'));
    const suppressed = Object.entries(
      template.Resources as Record<
        string,
        { Type: string; Metadata?: { cdk_nag?: { rules_to_suppress: Array<{ id: string; reason: string; applies_to?: string[] }> } } }
      >,
    )
      .filter(([, r]) => r.Metadata?.cdk_nag)
      .map(([, r]) => ({ type: r.Type, rules: r.Metadata!.cdk_nag!.rules_to_suppress }));
    expect(suppressed.map((s) => s.type).sort()).toEqual(
      [
        'AWS::ApiGateway::Method',
        'AWS::ApiGateway::RestApi',
        'AWS::ApiGateway::Stage',
        'AWS::IAM::Role',
        'AWS::IAM::Policy',
        'AWS::IAM::Policy',
        'AWS::IAM::Policy',
        'AWS::S3::Bucket',
        'AWS::SecretsManager::Secret',
      ].sort(),
    );
    for (const { rules } of suppressed) {
      for (const rule of rules) {
        expect(rule.reason.length).toBeGreaterThan(40);
        if (rule.id === 'AwsSolutions-IAM5') expect(rule.applies_to ?? (rule as { appliesTo?: string[] }).appliesTo).toBeDefined();
      }
    }
    expect(existsSync(assembly.directory)).toBe(true);
  });
});
