import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { sendEvent } from '../../local/send-event';

let dir: string;
let cwd: string;
beforeEach(() => {
  cwd = process.cwd();
  // No .facesign-local/runtime.json here: send-event falls back to its own defaults.
  dir = mkdtempSync(path.join(tmpdir(), 'facesign-send-event-'));
  process.chdir(dir);
});
afterEach(() => {
  process.chdir(cwd);
  rmSync(dir, { recursive: true, force: true });
});

describe('npm run send-event without a running npm run dev', () => {
  it("aims at npm run dev's default port and the webhook route, and refuses to send unsigned", async () => {
    const errors: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((line: string) => void errors.push(line));
    const fetchSpy = vi.spyOn(globalThis, 'fetch');

    expect(await sendEvent(['session.status'], {})).toBe(2);
    expect(errors.join('\n')).toContain('no signing secret for http://127.0.0.1:3000/webhooks/facesign');
    expect(fetchSpy).not.toHaveBeenCalled();
  });
});

describe('npm run send-event against npm run dev --public-url', () => {
  it("says the secret is FaceSign's and must come from FACESIGN_WEBHOOK_SECRET, and sends nothing", async () => {
    mkdirSync('.facesign-local');
    // What npm run dev --public-url writes: the local URL, no secret.
    writeFileSync(path.join('.facesign-local', 'runtime.json'), JSON.stringify({ webhookUrl: 'http://127.0.0.1:3999/webhooks/facesign' }));
    const errors: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((line: string) => void errors.push(line));
    const fetchSpy = vi.spyOn(globalThis, 'fetch');

    expect(await sendEvent(['session.status'], {})).toBe(2);
    expect(errors.join('\n')).toMatch(
      /^no signing secret for http:\/\/127\.0\.0\.1:3999\/webhooks\/facesign: npm run dev runs with --public-url, .*set FACESIGN_WEBHOOK_SECRET/,
    );
    expect(fetchSpy).not.toHaveBeenCalled();
  });
});
