/** `npm run dev`'s arguments and environment: every mistake refused before anything starts, with what to do. */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DevUsageError, parseDevOptions } from '../../local/dev-options';

const SECRET = { FACESIGN_WEBHOOK_SECRET: 'whsec_from_the_dashboard' };

describe('parseDevOptions', () => {
  it('without arguments: the defaults, a generated secret', () => {
    expect(parseDevOptions([], {})).toEqual({
      port: 3000,
      publicUrl: undefined,
      signingSecret: undefined,
      mediaHosts: undefined,
      dynamodb: 'auto',
      help: false,
    });
    expect(parseDevOptions(['--help'], {}).help).toBe(true);
    expect(parseDevOptions(['-h'], {}).help).toBe(true);
  });

  it('--public-url with FACESIGN_WEBHOOK_SECRET: the URL, parsed, and the secret from the environment', () => {
    const options = parseDevOptions(['--public-url', 'https://abc123.ngrok-free.app'], {
      ...SECRET,
      PORT: '4000',
      FACESIGN_MEDIA_HOSTS: 'media.facesign.ai, cdn.example.com',
    });
    expect(options.publicUrl?.href).toBe('https://abc123.ngrok-free.app/');
    expect(options.signingSecret).toBe('whsec_from_the_dashboard');
    expect(options.port).toBe(4000);
    expect(options.mediaHosts).toEqual(['media.facesign.ai', 'cdn.example.com']);
    expect(parseDevOptions(['--public-url=https://x.trycloudflare.com'], SECRET).publicUrl?.host).toBe('x.trycloudflare.com');
  });

  it.each([
    [
      ['--public-url', 'https://abc123.ngrok-free.app'],
      {},
      /^--public-url needs FACESIGN_WEBHOOK_SECRET: the signing secret FaceSign's dashboard shows .*read -rs FACESIGN_WEBHOOK_SECRET/,
    ],
    [['--public-url', 'https://abc123.ngrok-free.app'], { FACESIGN_WEBHOOK_SECRET: '  ' }, /needs FACESIGN_WEBHOOK_SECRET/],
    [
      ['--public-url', 'http://abc123.ngrok-free.app'],
      SECRET,
      /must be an https URL \(FaceSign posts webhooks to https endpoints only, and ngrok and cloudflared give an https URL\)/,
    ],
    [['--public-url', 'https://abc123.ngrok-free.app/webhooks/facesign'], SECRET, /must be a bare origin/],
    [['--public-url'], SECRET, /argument missing[\s\S]*usage: npm run dev/],
    [['--public-url='], SECRET, /must be the tunnel's https URL/],
    [['--secret', 'whsec_x'], SECRET, /^--secret is not accepted: a command-line argument is visible to every user of the machine \(ps\)/],
    [['--secret=whsec_x'], SECRET, /^--secret is not accepted/],
    [['--public-url', 'https://abc123.ngrok-free.app', '--signing-secret', 'whsec_x'], SECRET, /^--signing-secret is not accepted/],
    [['--webhook_secret=whsec_x'], SECRET, /^--webhook_secret is not accepted/],
    [
      ['--publicurl', 'https://abc123.ngrok-free.app'],
      SECRET,
      /Unknown option '--publicurl'[\s\S]*usage: npm run dev \[-- --public-url https:\/\/<tunnel host>\]/,
    ],
    [['https://abc123.ngrok-free.app'], SECRET, /unexpected argument "https:\/\/abc123\.ngrok-free\.app"/],
    [[], { PORT: 'http' }, /PORT must be a port number \(0 to 65535\), got "http"/],
    [[], { PORT: '70000' }, /PORT must be a port number/],
    [[], { FACESIGN_DYNAMODB: 'mongo' }, /FACESIGN_DYNAMODB must be one of auto, dynamodb-local, dynalite, got "mongo"/],
  ])('%j with %j: refused', (argv, env, message) => {
    expect(() => parseDevOptions(argv, env)).toThrow(DevUsageError);
    expect(() => parseDevOptions(argv, env)).toThrow(message);
  });

  it('never repeats a secret given on the command line', () => {
    for (const argv of [['--secret', 'whsec_leak'], ['--secret=whsec_leak'], ['--signing-secret=whsec_leak']]) {
      expect(() => parseDevOptions(argv, {})).toThrow(/^(?![\s\S]*whsec_leak)/);
    }
  });
});

describe('npm run dev with a bad argument', () => {
  it('exits 2 with the message on stderr, before starting anything', () => {
    const root = path.resolve(__dirname, '..', '..');
    const run = spawnSync(
      process.execPath,
      [
        '--import',
        pathToFileURL(path.join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href,
        path.join(root, 'local/dev.ts'),
        '--public-url',
        'http://abc123.ngrok-free.app',
      ],
      { encoding: 'utf8', env: { ...process.env, ...SECRET }, timeout: 30_000 },
    );
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('--public-url must be an https URL');
    expect(run.stdout).not.toContain('starting the local FaceSign webhooks pipeline');
  });
});
