import { spawn } from 'node:child_process';
import * as path from 'node:path';

const TSX = path.join(__dirname, '..', 'node_modules', '.bin', 'tsx');

/** Runs a TypeScript bench script in a fresh process and returns the JSON it prints last. */
export function runChild<T>(script: string, env: Record<string, string> = {}, args: string[] = []): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, [path.join(__dirname, script), ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('close', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0) return reject(new Error(`${script} exited ${code}: ${err.slice(-2000)}`));
      try {
        resolve(JSON.parse(last) as T);
      } catch {
        reject(new Error(`${script} printed no JSON result: ${out.slice(-500)} ${err.slice(-500)}`));
      }
    });
  });
}
