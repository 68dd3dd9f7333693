import { mkdtempSync, rmSync } from 'node:fs';
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
