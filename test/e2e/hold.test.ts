/**
 * A wrong signing secret, end to end, over HTTP against the local runtime with the real bundles:
 * FaceSign's deliveries signed with a secret the receiver does not have get 401, WrongSecretSuspected
 * is emitted, and they are held; with no secret set, reverify says so and changes nothing; once the
 * secret is fixed, `npm run reverify -- --local` queues each exactly once (archived, published, its
 * media stored while the URL lives), and a second run changes nothing. A forgery that is not in
 * FaceSign's form is never held.
 */
import { createHash, randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, describe, expect, it } from 'vitest';
import { parseHeldDelivery } from '../../contract/held-delivery';
import { computeSignature } from '../../contract/signature';
import { archiveKey, ctx, event, getObject, listKeys, planMedia, post, publishedCount, receivedEventIds, unique, waitFor } from './helpers';

const SECRET_ID = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:facesign-local-signing-secret';
const secretsManager = new SecretsManagerClient({
  region: 'us-east-1',
  endpoint: ctx.secretsManagerEndpoint,
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});
const putSecret = (value: string) => secretsManager.send(new PutSecretValueCommand({ SecretId: SECRET_ID, SecretString: value }));
const sha = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const ROOT = path.join(__dirname, '..', '..');

/** Runs the command as an operator would, against the local runtime. */
function reverify(): { status: number | null; stdout: string; stderr: string } {
  const out = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'reverify.ts'), '--local', '--url', ctx.localUrl], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  return { status: out.status, stdout: out.stdout, stderr: out.stderr };
}

async function functionLogs(): Promise<string[]> {
  return ((await (await fetch(`${ctx.controlUrl}/logs`)).json()) as { lines: string[] }).lines;
}

/** The held deliveries whose claimed event id is one of these, by id. */
async function heldFor(ids: string[]): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const key of await listKeys('held/')) {
    const object = await getObject(key);
    if (!object) continue;
    const held = parseHeldDelivery(object.body.toString('utf8'));
    if (ids.includes(held.claimed.id)) found.set(held.claimed.id, key);
  }
  return found;
}

describe('a wrong signing secret: held, then recovered by reverify', () => {
  afterAll(async () => {
    await putSecret(ctx.signingSecret);
  });

  it(
    '401 and WrongSecretSuspected, held; no secret: nothing changes; fixed: each event processed exactly once, media stored',
    { timeout: 240_000 },
    async () => {
      const wrong = `whsec_${randomBytes(16).toString('hex')}`;
      const mediaPath = `/${unique('held-selfie')}.jpg`;
      const mediaUrl = await planMedia(mediaPath, [{ status: 200, size: 4096, contentType: 'image/jpeg' }]);
      const status = event('session.status');
      const photo = event('media.user_photo', { mediaUrl, expires: Date.now() + 15 * 60_000 });
      const ids = [String(status.id), String(photo.id)];

      for (const e of [status, photo]) {
        expect(await post(JSON.stringify(e), { secret: wrong })).toEqual({ status: 401, json: { error: 'signature_mismatch', message: expect.any(String) } });
      }
      // Noise that is not in FaceSign's form is refused the same way, and never held.
      const notEnvelope = JSON.stringify({ hello: unique('noise') });
      expect((await post(notEnvelope, { secret: wrong })).status).toBe(401);
      const spaced = JSON.stringify(event('session.status'));
      const t = Math.floor(Date.now() / 1000);
      expect((await post(spaced, { unsigned: true, headers: { 'X-FaceSign-Signature': `t=${t}, v1=${computeSignature(spaced, wrong, t)}` } })).status).toBe(
        401,
      );

      // The Critical metric, as the verifier emits it (EMF), and one DeliveriesHeld per delivery.
      const logs = await functionLogs();
      for (const type of ['session.status', 'media.user_photo']) {
        expect(
          logs.some((l) => l.startsWith('verifier ') && l.includes('"WrongSecretSuspected":1') && l.includes(`"EventType":"${type}"`)),
          type,
        ).toBe(true);
      }
      // Each delivery's DeliveriesHeld, per EventType (the total line carries no EventType).
      for (const type of ['session.status', 'media.user_photo']) {
        expect(
          logs.some((l) => l.startsWith('verifier ') && l.includes('"DeliveriesHeld":1') && l.includes(`"EventType":"${type}"`)),
          type,
        ).toBe(true);
      }

      const held = await waitFor('both deliveries held', async () => {
        const found = await heldFor(ids);
        if (found.size === 2) return found;
        // Why not, if it never comes: the verifier's lines about these events.
        const why = (await functionLogs()).filter((l) => ids.some((id) => l.includes(id)) || l.includes('HoldsDropped'));
        if (why.some((l) => l.includes('could not be held'))) throw new Error(`not held:\n${why.join('\n')}`);
        return undefined;
      });
      const heldKeys = await listKeys('held/');
      expect(heldKeys.some((k) => k.endsWith(`-${sha(notEnvelope)}.json`))).toBe(false);
      expect(heldKeys.some((k) => k.endsWith(`-${sha(spaced)}.json`))).toBe(false);
      expect(await receivedEventIds()).not.toEqual(expect.arrayContaining([ids[0]]));

      // No secret configured: says so, exits 1, changes nothing.
      await putSecret(JSON.stringify({ secrets: [] }));
      const unset = reverify();
      expect(unset.status, unset.stderr).toBe(1);
      expect(unset.stdout).toContain('no signing secret is configured');
      expect((await heldFor(ids)).size).toBe(2);

      // The secret is fixed (the right one kept for the other tests' deliveries), then reverify.
      await putSecret(JSON.stringify({ secrets: [ctx.signingSecret, wrong] }));
      const first = reverify();
      expect(first.status, `${first.stdout}\n${first.stderr}`).toBe(0);
      expect(first.stdout).toMatch(/^2 re-verified and queued$/m);
      for (const id of ids) expect(first.stdout).toContain(id);
      expect((await heldFor(ids)).size).toBe(0);
      for (const key of held.values()) expect(await getObject(key)).toBeUndefined();

      for (const e of [status, photo]) {
        const archived = await waitFor(`the archive of ${String(e.id)}`, () => getObject(archiveKey(e)), 60_000);
        expect(archived.body.toString('utf8')).toBe(JSON.stringify(e));
        await waitFor(`the publication of ${String(e.id)}`, async () => ((await publishedCount(String(e.id))) === 1 ? true : undefined), 60_000);
      }
      const media = photo.media as { id: string };
      const stored = await waitFor('the stored photo', () => getObject(`media/${String(photo.sessionId)}/media.user_photo/${media.id}.jpg`), 60_000);
      expect(stored.body.length).toBe(4096);

      // A second run changes nothing: nothing queued, nothing published again.
      const second = reverify();
      expect(second.status, second.stderr).toBe(0);
      expect(second.stdout).toMatch(/^0 re-verified and queued$/m);
      await new Promise((r) => setTimeout(r, 2000));
      for (const id of ids) {
        expect(await publishedCount(id)).toBe(1);
        expect((await receivedEventIds()).filter((r) => r === id)).toHaveLength(1);
      }
    },
  );
});
