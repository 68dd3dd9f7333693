/**
 * The inspector in a real browser: Debian's Chromium driven by playwright-core, against its own
 * local runtime (the real bundles) with two media hosts: the sample host, and one whose file is
 * missing (404, a permanent failure: dead-lettered) until the test puts it there. Every request the
 * page makes is checked to stay on 127.0.0.1; a page error or console error fails the test. The
 * screenshots go to test-results/inspector.png (the end) and inspector-dead-letter.png (a dead
 * letter waiting for its redrive), the send-to-appearance times to
 * test-results/inspector-latency.json (measured, not asserted).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signFaceSignPayload } from '../../contract/signature';
import { startLocalRuntime, type LocalRuntime } from '../../local/runtime';
import { buildSampleEvent } from '../../local/sample-events';
import { startSampleMedia } from '../../local/sample-media';
import { listenOnLoopback } from '../../local/services/ports';

const CHROMIUM = '/usr/bin/chromium';
const RESULTS = path.resolve('test-results');
const haveChromium = existsSync(CHROMIUM);

// On a developer's machine without Chromium the suite says so in its name and is skipped; CI
// (.ci/run installs Chromium) must run it, so there its absence is a failure.
describe.skipIf(!haveChromium && process.env.CI !== 'true')(
  haveChromium ? 'inspector in Chromium' : `inspector in Chromium (SKIPPED: no ${CHROMIUM}; install it with apt-get install -y chromium)`,
  () => {
    let runtime: LocalRuntime;
    let context: BrowserContext;
    let page: Page;
    let base: string;
    let flakyOrigin: string;
    let flakyFixed = false;
    const cleanup: Array<() => Promise<unknown> | unknown> = [];
    const pageErrors: string[] = [];
    const offMachine: string[] = [];
    const bases: string[] = [];

    beforeAll(async () => {
      expect(haveChromium, `CI must run the browser test: ${CHROMIUM} is missing (.ci/run installs it)`).toBe(true);
      const sample = await startSampleMedia();
      cleanup.push(() => sample.stop());
      const photo = Buffer.from(await (await fetch(`${sample.origin}/photo.jpg`)).arrayBuffer());
      // A media host whose file is missing (404) until the test fixes it.
      const flaky = createServer((_req, res) => {
        if (!flakyFixed) return void res.writeHead(404).end();
        res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': photo.length }).end(photo);
      });
      const flakyListener = await listenOnLoopback(flaky);
      cleanup.push(() => flakyListener.close());
      flakyOrigin = `http://127.0.0.1:${flakyListener.port}`;

      const dataDir = mkdtempSync(path.join(tmpdir(), 'facesign-inspector-'));
      cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
      runtime = await startLocalRuntime({
        port: 0,
        dataDir,
        dynamodb: 'dynalite',
        mediaHosts: [sample.host, `127.0.0.1:${flakyListener.port}`],
        sampleMediaOrigin: sample.origin,
        retryBaseDelaySeconds: 1,
      });
      cleanup.push(() => runtime.stop());
      base = `http://127.0.0.1:${runtime.port}`;
      bases.push(base);

      const userDataDir = mkdtempSync(path.join(tmpdir(), 'facesign-chromium-'));
      cleanup.push(() => rmSync(userDataDir, { recursive: true, force: true }));
      context = await chromium.launchPersistentContext(userDataDir, {
        executablePath: CHROMIUM,
        headless: true,
        viewport: { width: 1500, height: 1000 },
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      });
      cleanup.push(() => context.close());
      // Nothing may leave this machine: every request not to a runtime of this test is recorded and refused.
      await context.route('**/*', (route) => {
        const url = route.request().url();
        if (ownUrl(url)) return route.continue();
        offMachine.push(url);
        return route.abort();
      });
      page = context.pages()[0] ?? (await context.newPage());
      watch(page);
    });

    /** Records a page's errors and any request it makes off the runtimes. */
    const watch = (p: Page) => {
      p.on('pageerror', (error) => pageErrors.push(`pageerror: ${error.message}`));
      p.on('console', (message) => {
        if (message.type() === 'error') pageErrors.push(`console error: ${message.text()}`);
      });
      p.on('request', (request) => {
        if (!ownUrl(request.url())) offMachine.push(request.url());
      });
    };
    const ownUrl = (url: string) => url.startsWith('data:') || bases.some((b) => url.startsWith(`${b}/`));

    afterAll(async () => {
      for (const step of cleanup.reverse()) await Promise.resolve(step()).catch(() => undefined);
    });

    /** POSTs an event to the webhook route from outside the page, signed with `secret`. */
    const send = async (event: Record<string, unknown>, secret = runtime.signingSecret) => {
      const body = JSON.stringify(event);
      const response = await fetch(runtime.webhookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...signFaceSignPayload(body, secret).headers },
        body,
      });
      return response.status;
    };
    const row = (eventId: string) => page.locator(`#deliveries tr[data-event-id="${eventId}"]`).first();

    it('shows every delivery live, through the whole pipeline, and redrives a dead letter', async () => {
      await page.addInitScript({ path: path.join(__dirname, 'page-probe.mjs') });
      await page.goto(`${base}/`);
      await expect.poll(() => page.locator('#connection').getAttribute('data-state')).toBe('live');
      // A sample event from its button: it appears, and moves to processed and published.
      await page.locator('button[data-send="session.status"]').click();
      const processedRows = page.locator('#deliveries tr[data-state="processed"]');
      await expect.poll(() => processedRows.count(), { timeout: 60_000 }).toBe(1);
      const firstId = await processedRows.getAttribute('data-delivery');
      const first = page.locator(`#deliveries tr[data-delivery="${firstId}"]`);
      const firstText = await first.innerText();
      expect(firstText).toContain('session.status');
      expect(firstText).toContain('published to EventBridge as session.status');
      expect(firstText).toMatch(/archived as events\//);

      // A forged delivery: 401, signature rejected, never queued.
      const forged = buildSampleEvent('session.status', { id: 'evt_forged_in_browser_test' });
      expect(await send(forged, 'whsec_wrong')).toBe(401);
      await expect.poll(() => row('evt_forged_in_browser_test').getAttribute('data-status')).toBe('401');
      expect(await row('evt_forged_in_browser_test').getAttribute('data-signature')).toBe('rejected');
      expect(await row('evt_forged_in_browser_test').innerText()).toContain('signature_mismatch');

      // Authentic but refused, never queued: not JSON (400), and over maxBodyBytes (413).
      const raw = async (body: string) =>
        (
          await fetch(runtime.webhookUrl, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...signFaceSignPayload(body, runtime.signingSecret).headers },
            body,
          })
        ).status;
      expect(await raw('{"id": "evt_not_json",')).toBe(400);
      expect(await raw(JSON.stringify({ ...buildSampleEvent('session.status', { id: 'evt_too_large' }), pad: 'x'.repeat(300 * 1024) }))).toBe(413);
      const notJson = page.locator('#deliveries tr[data-status="400"]');
      await expect.poll(() => notJson.getAttribute('data-signature')).toBe('verified');
      expect(await notJson.innerText()).toContain('invalid_json');
      await expect.poll(() => row('evt_too_large').getAttribute('data-status')).toBe('413');
      expect(await row('evt_too_large').innerText()).toContain('payload_too_large');

      // A photo from its button: stored, with its size, SHA-256 and a thumbnail served by the runtime.
      await page.locator('button[data-send="media.user_photo"]').click();
      const photoRow = page.locator('#deliveries tr[data-state="processed"]', { hasText: 'media.user_photo' }).first();
      await expect.poll(() => photoRow.count(), { timeout: 60_000 }).toBe(1);
      expect(await photoRow.innerText()).toMatch(/image\/jpeg, [\d,]+ bytes[\s\S]*sha256 [0-9a-f]{64}/);
      const thumbnail = photoRow.locator('img.thumbnail');
      await expect.poll(() => thumbnail.getAttribute('data-loaded')).toBe('true');
      expect(await thumbnail.getAttribute('src')).toMatch(/^\/__inspector\/media\?delivery=\d+$/);
      // Another web page the developer has open cannot embed that photo (an <img> needs no CORS,
      // and its size would tell which deliveries hold one): the thumbnail is same-origin only.
      const src = `${base}${await thumbnail.getAttribute('src')}`;
      const foreign = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(`<img id="stolen" src="${src}">`));
      const foreignListener = await listenOnLoopback(foreign);
      cleanup.push(() => foreignListener.close());
      const foreignBase = `http://127.0.0.1:${foreignListener.port}`;
      bases.push(foreignBase);
      const foreignPage = await context.newPage();
      await foreignPage.goto(`${foreignBase}/`);
      // A string: this file is type-checked without the DOM's types (as page-probe.mjs is run).
      const embeddedWidth = (await foreignPage.evaluate(`new Promise((resolve) => {
        const img = document.getElementById('stolen');
        if (img.complete) return resolve(img.naturalWidth);
        img.onload = () => resolve(img.naturalWidth);
        img.onerror = () => resolve(0);
      })`)) as number;
      // Nor can it post to the webhook route (no CORS is needed for that either) and fill the
      // inspector with its requests: refused before the verifier, recorded nowhere.
      const forgedByPage = JSON.stringify(buildSampleEvent('session.status', { id: 'evt_posted_by_another_page' }));
      const posted = await foreignPage.evaluate(
        ([url, body]) =>
          fetch(url, { method: 'POST', mode: 'no-cors', body }).then(
            () => 'answered',
            (error: Error) => `failed: ${error.message}`,
          ),
        [runtime.webhookUrl, forgedByPage] as const,
      );
      // Nor can it go around the verifier: fauxqs's SNS query API takes form POSTs (no CORS
      // either), and a topic subscribed to the queue would deliver an unsigned event to the processor.
      const sns = (params: Record<string, string>) => new URLSearchParams(params).toString();
      const topicArn = 'arn:aws:sns:us-east-1:000000000000:from-another-page';
      bases.push(runtime.endpoints.sqsS3);
      const injected = await foreignPage.evaluate(
        async ([endpoint, calls]) => {
          const answers: string[] = [];
          for (const body of calls) {
            answers.push(
              await fetch(`${endpoint}/`, { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body }).then(
                () => 'answered',
                (error: Error) => `failed: ${error.message}`,
              ),
            );
          }
          return answers;
        },
        [
          runtime.endpoints.sqsS3,
          [
            sns({ Action: 'CreateTopic', Name: 'from-another-page' }),
            sns({
              Action: 'Subscribe',
              TopicArn: topicArn,
              Protocol: 'sqs',
              Endpoint: 'arn:aws:sqs:us-east-1:000000000000:facesign-events',
              'Attributes.entry.1.key': 'RawMessageDelivery',
              'Attributes.entry.1.value': 'true',
            }),
            sns({ Action: 'Publish', TopicArn: topicArn, Message: forgedByPage }),
          ],
        ] as const,
      );
      expect(injected).toEqual(['answered', 'answered', 'answered']);
      const topics = await fetch(`${runtime.endpoints.sqsS3}/`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: sns({ Action: 'ListTopics' }),
      });
      expect(await topics.text()).not.toContain('from-another-page');
      await foreignPage.close();
      expect(posted).toBe('answered');
      const recorded = (await (await fetch(`${base}/__inspector/state`)).json()) as { deliveries: Array<{ eventId?: string }> };
      expect(recorded.deliveries.map((d) => d.eventId)).not.toContain('evt_posted_by_another_page');
      expect(embeddedWidth, 'a stored photo embedded by another origin').toBe(0);
      const ownWidth = await thumbnail.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth);
      expect(ownWidth).toBeGreaterThan(0);

      // A photo whose file is missing: dead-lettered with the reason; fixed, then redriven from the page.
      const missing = buildSampleEvent('media.user_photo', { id: 'evt_missing_photo', mediaUrl: `${flakyOrigin}/missing.jpg?X-Amz-Signature=abc` });
      expect(await send(missing)).toBe(200);
      const deadLetter = page.locator('#dead-letters tr[data-event-id="evt_missing_photo"]');
      await expect.poll(() => deadLetter.count(), { timeout: 60_000 }).toBe(1);
      expect(await deadLetter.innerText()).toContain('media_not_available');
      await expect.poll(() => row('evt_missing_photo').getAttribute('data-state')).toBe('dead-lettered');
      await page.screenshot({ path: path.join(RESULTS, 'inspector-dead-letter.png'), fullPage: true });
      flakyFixed = true;
      await deadLetter.locator('button[data-redrive]').click();
      await expect.poll(() => row('evt_missing_photo').getAttribute('data-state'), { timeout: 60_000 }).toBe('processed');
      await expect.poll(() => deadLetter.count()).toBe(0);
      expect(await row('evt_missing_photo').innerText()).toMatch(/redriven: back in the queue[\s\S]*processing, attempt 1[\s\S]*media stored as media\//);
      await expect.poll(() => row('evt_missing_photo').locator('img.thumbnail').getAttribute('data-loaded')).toBe('true');

      // Resending the first delivery: the same bytes again, skipped as a duplicate.
      await page.locator(`#deliveries tr[data-delivery="${firstId}"] button[data-resend]`).click();
      const resent = page.locator('#deliveries tr', { hasText: `resend of #${firstId}` });
      await expect.poll(() => resent.getAttribute('data-state'), { timeout: 60_000 }).toBe('duplicate');

      // Send to appearance, measured: signed deliveries from outside the page, one at a time.
      const sent: Record<string, number> = {};
      for (let i = 0; i < 10; i++) {
        const id = `evt_latency_${i}`;
        sent[id] = Date.now();
        expect(await send(buildSampleEvent('session.status', { id }))).toBe(200);
        await expect.poll(() => row(id).getAttribute('data-state'), { timeout: 60_000, interval: 50 }).toMatch(/processed|duplicate/);
      }
      const probe = (await page.evaluate('window.__probe')) as { loads: number; seen: Record<string, { appeared?: number; processed?: number }> };
      const { seen } = probe;
      const appear = Object.keys(sent).map((id) => seen[id].appeared! - sent[id]);
      const processed = Object.keys(sent).map((id) => seen[id].processed! - sent[id]);
      const stats = (values: number[]) => {
        const sorted = [...values].sort((a, b) => a - b);
        return { medianMs: sorted[Math.floor(sorted.length / 2)], minMs: sorted[0], maxMs: sorted.at(-1) };
      };
      const latency = { samples: appear.length, sendToAppearance: stats(appear), sendToProcessedShown: stats(processed) };
      mkdirSync(RESULTS, { recursive: true });
      writeFileSync(path.join(RESULTS, 'inspector-latency.json'), `${JSON.stringify(latency, null, 2)}\n`);
      console.log(`inspector latency: ${JSON.stringify(latency)}`);

      // No reload happened, no script failed, nothing left the machine.
      expect(probe.loads).toBe(1);
      await page.locator('#deliveries').scrollIntoViewIfNeeded();
      await page.screenshot({ path: path.join(RESULTS, 'inspector.png'), fullPage: true });
      expect(pageErrors).toEqual([]);
      expect(offMachine).toEqual([]);
      // The page never holds the signing secret.
      expect(await page.content()).not.toContain(runtime.signingSecret);
    });

    it('with --public-url (no sample media host), the media sample buttons are disabled and say why, the others send, and the public URL is shown', async () => {
      const dataDir = mkdtempSync(path.join(tmpdir(), 'facesign-inspector-nomedia-'));
      cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
      const bare = await startLocalRuntime({
        port: 0,
        dataDir,
        dynamodb: 'dynalite',
        publicUrl: 'https://abc123.ngrok-free.app',
        signingSecret: 'whsec_browser_test_tunnel',
      });
      cleanup.push(() => bare.stop());
      const bareBase = `http://127.0.0.1:${bare.port}`;
      bases.push(bareBase);
      const barePage = await context.newPage();
      watch(barePage);
      await barePage.goto(`${bareBase}/`);
      await expect.poll(() => barePage.locator('#connection').getAttribute('data-state')).toBe('live');
      for (const type of ['media.user_photo', 'media.user_video']) {
        const button = barePage.locator(`button[data-send="${type}"]`);
        expect(await button.isDisabled(), type).toBe(true);
        expect(await button.getAttribute('title')).toMatch(new RegExp(`^${type.replace('.', '\\.')} needs the sample media host`));
      }
      expect(await barePage.locator('#send-note').isVisible()).toBe(true);
      expect(await barePage.locator('#send-note').innerText()).toContain('Media samples are disabled');
      // The URL to give FaceSign is on the page too; without a tunnel, that line is hidden.
      expect(await barePage.locator('#public-url-line').isVisible()).toBe(true);
      expect(await barePage.locator('#public-url').innerText()).toBe('https://abc123.ngrok-free.app/webhooks/facesign');
      expect(await page.locator('#public-url-line').isVisible()).toBe(false);
      await barePage.locator('button[data-send="session.status"]').click();
      await expect.poll(() => barePage.locator('#deliveries tr[data-state="processed"]').count(), { timeout: 60_000 }).toBe(1);
      expect(await barePage.locator('#deliveries tbody tr').count()).toBe(1);
      // With the sample host (the first runtime), nothing is disabled and there is no note.
      expect(await page.locator('#send-buttons button:disabled').count()).toBe(0);
      expect(await page.locator('#send-note').isVisible()).toBe(false);
      expect(pageErrors).toEqual([]);
      expect(offMachine).toEqual([]);
    });
  },
);
