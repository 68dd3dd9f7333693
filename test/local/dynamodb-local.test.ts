import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { CACHE_DIR, hasJava } from '../../local/dynamodb-local/install';
import { startDynamoDB } from '../../local/services/dynamodb';

const ROOT = path.resolve(__dirname, '..', '..');

describe('DynamoDB Local', () => {
  it.skipIf(!hasJava())('runs with telemetry off and writes no dynamodb-local-metadata.json, in the repository or its cache', async () => {
    const db = await startDynamoDB('dynamodb-local');
    try {
      const client = new DynamoDBClient({ endpoint: db.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
      expect((await client.send(new ListTablesCommand({}))).TableNames).toEqual([]);
      // DynamoDB Local writes this file (installationId, telemetryEnabled) when telemetry is on.
      expect(existsSync(path.join(process.cwd(), 'dynamodb-local-metadata.json'))).toBe(false);
      expect(existsSync(path.join(ROOT, 'dynamodb-local-metadata.json'))).toBe(false);
      expect(existsSync(path.join(CACHE_DIR, 'dynamodb-local-metadata.json'))).toBe(false);
    } finally {
      await db.stop();
    }
  });

  it('keeps the metadata file out of git should any tool write it', () => {
    expect(execFileSync('git', ['check-ignore', 'dynamodb-local-metadata.json'], { cwd: ROOT, encoding: 'utf8' }).trim()).toBe('dynamodb-local-metadata.json');
    expect(execFileSync('git', ['ls-files', 'dynamodb-local-metadata.json'], { cwd: ROOT, encoding: 'utf8' }).trim()).toBe('');
  });
});
