import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobCancelledError, JobFailedError } from '../../src/index';
import { useRedis } from '../support/fixture';
import { useDashboards } from './serve';

/**
 * The dashboard end to end in headless Chromium (Debian's /usr/bin/chromium driven by
 * playwright-core, never a downloaded browser): a failed job is seen and retried until a worker
 * finishes it; a running job is cancelled and its handler's signal aborts; requests without the
 * token are refused; the page logs no error and no CSP violation. Screenshots go to test-results/.
 */
const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const SHOTS = join(__dirname, '..', '..', 'test-results');
const TOKEN = 'browser-test-token';
const WAIT = { timeout: 20_000 };

const redis = useRedis();
const serve = useDashboards();

/** Resolves with the signal's reason once it aborts. */
function aborted(signal: AbortSignal): Promise<unknown> {
  return new Promise((resolve) => (signal.aborted ? resolve(signal.reason) : signal.addEventListener('abort', () => resolve(signal.reason), { once: true })));
}

// locally a machine without chromium skips; in CI a missing browser is a failure, not a skip
describe.skipIf(!hasChromium && !process.env.CI)('the dashboard in headless Chromium', () => {
  let browser: Browser;

  beforeAll(async () => {
    if (!hasChromium) throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium) for the dashboard browser test`);
    mkdirSync(SHOTS, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  /** A page that records console errors and warnings, page errors (CSP violations are console errors) and accepts every confirm(). */
  async function openPage(url: string): Promise<{ page: Page; problems: string[]; dialogs: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const problems: string[] = [];
    const dialogs: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(`${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.accept();
    });
    await page.goto(url);
    return { page, problems, dialogs };
  }

  it('retries a failed job until it finishes, cancels a running one, and refuses requests without the token', async () => {
    const t = redis.tusker();
    const q = t.queue<{ kind: 'email' | 'report' }>('emails');
    let smtpDown = true;
    let started!: () => void;
    const reportStarted = new Promise<void>((resolve) => (started = resolve));
    let reportAborted: Promise<unknown> | undefined;
    const processor = q.process(
      async (job) => {
        if (job.data.kind === 'report') {
          reportAborted = aborted(job.signal);
          started();
          throw await reportAborted;
        }
        if (smtpDown) throw new Error('smtp server down');
        return { sent: true };
      },
      { concurrency: 2 },
    );
    await q.publish({ kind: 'email' }, { id: 'welcome', attempts: 1 });
    await expect(q.waitFor('welcome', { wait: 10_000 })).rejects.toBeInstanceOf(JobFailedError);
    smtpDown = false;

    const d = await serve(t, { token: TOKEN });
    const { page, problems, dialogs } = await openPage(`${d.url}#token=${TOKEN}`);
    // the token left the address bar (it stays in sessionStorage)
    expect(page.url()).toBe(d.url);

    // see the failed job, retry it, watch a worker finish it
    await page.click('tr[data-queue="emails"] button.link');
    const failedRow = page.locator('tr[data-job="welcome"][data-state="failed"]');
    await failedRow.waitFor(WAIT);
    await expect(failedRow.locator('td.error').textContent()).resolves.toBe('smtp server down');
    await page.screenshot({ path: join(SHOTS, 'dashboard-failed-job.png'), fullPage: true });
    await failedRow.locator('button[data-action="retry"]').click();
    await page.click('#state-tabs button[data-state="finished"]');
    await page.locator('tr[data-job="welcome"][data-state="finished"]').waitFor(WAIT);
    await page.click('tr[data-job="welcome"] button.link');
    await page.locator('#job-detail[data-job="welcome"][data-state="finished"]').waitFor(WAIT);
    await expect(page.locator('#job-detail dd[data-field="result"]').textContent()).resolves.toContain('"sent": true');
    // its timeline: published, failed, made available again by the retry, claimed, finished
    for (const moment of ['created at', 'failed at', 'available at', 'claimed at', 'finished at']) {
      expect(await page.locator(`#job-detail dd[data-field="${moment}"]`).count()).toBe(1);
    }
    expect(await q.getJob('welcome')).toMatchObject({ state: 'finished', result: { sent: true } });
    await page.screenshot({ path: join(SHOTS, 'dashboard-retried-finished.png'), fullPage: true });

    // cancel a running job: confirmed, its handler's signal aborts, it ends failed with the reason
    await q.publish({ kind: 'report' }, { id: 'report' });
    await reportStarted;
    await page.click('#state-tabs button[data-state="claimed"]');
    const running = page.locator('tr[data-job="report"][data-state="claimed"]');
    await running.waitFor(WAIT);
    await running.locator('button[data-action="cancel"]').click();
    await expect(reportAborted).resolves.toBeInstanceOf(JobCancelledError);
    expect(dialogs).toEqual([expect.stringContaining('Cancel running job report')]);
    await page.click('#state-tabs button[data-state="failed"]');
    const cancelled = page.locator('tr[data-job="report"][data-state="failed"]');
    await cancelled.waitFor(WAIT);
    await expect(cancelled.locator('td.error').textContent()).resolves.toBe('cancelled from the dashboard');
    expect(await q.getJob('report')).toMatchObject({ state: 'failed', error: 'cancelled from the dashboard' });
    await page.screenshot({ path: join(SHOTS, 'dashboard-cancelled.png'), fullPage: true });

    // the chart is drawn by uPlot, from the page's own files; its first sample (one refresh at
    // least 2 s after the page opened) counts the finished retry and the failed cancel
    await page.locator('#chart .uplot').waitFor(WAIT);
    await page.locator('#chart:not([data-samples="0"])').waitFor(WAIT);
    const { throughput } = (await (await page.request.get(`${d.url}api/overview`, { headers: { Authorization: `Bearer ${TOKEN}` } })).json()) as {
      throughput: { time: number[]; finished: number[]; failed: number[] };
    };
    expect(throughput.finished.some((rate) => rate > 0)).toBe(true);
    await page.screenshot({ path: join(SHOTS, 'dashboard-throughput.png'), fullPage: true });
    expect(problems).toEqual([]);

    // without the token: the API refuses, and a page opened without it says what is missing
    const bare = await page.request.get(`${d.url}api/overview`);
    expect(bare.status()).toBe(401);
    const withHeader = await page.request.get(`${d.url}api/overview`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(withHeader.status()).toBe(200);
    const context = await browser.newContext();
    const stranger = await context.newPage();
    await stranger.goto(d.url);
    await stranger.locator('#status.error', { hasText: 'needs its token' }).waitFor(WAIT);
    expect(await stranger.locator('tr[data-queue]').count()).toBe(0);
    await stranger.screenshot({ path: join(SHOTS, 'dashboard-no-token.png') });
    // pasting the token in the field it offers opens the dashboard
    await stranger.fill('#token-input', TOKEN);
    await stranger.click('#token-save');
    await stranger.locator('tr[data-queue="emails"]').waitFor(WAIT);
    expect(await stranger.locator('#token-form').isHidden()).toBe(true);
    await context.close();

    await page.close();
    await processor.stop();
  }, 90_000);

  it('read-only: no action buttons on the page', async () => {
    const t = redis.tusker();
    const q = t.queue('audit');
    await q.publish(1, { id: 'a', attempts: 1 });
    await (await q.claim({ wait: 0 }))?.fail('no');
    const d = await serve(t, { readOnly: true });
    const { page, problems } = await openPage(d.url);
    await page.locator('#mode', { hasText: 'read-only' }).waitFor(WAIT);
    await page.click('tr[data-queue="audit"] button.link');
    await page.locator('tr[data-job="a"][data-state="failed"]').waitFor(WAIT);
    expect(await page.locator('button[data-action]').count()).toBe(0);
    expect(problems).toEqual([]);
    await page.screenshot({ path: join(SHOTS, 'dashboard-read-only.png'), fullPage: true });
    await page.close();
  }, 60_000);
});
