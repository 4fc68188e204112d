// End to end: the real `cms serve` on the sandbox, the built renderer in headless Chromium (Debian's
// package, driven by playwright-core). The list shows the host's domains; a VM is shut down and run
// again; more load grows the pool in the list and the charts; a bulk action; the event log shows a
// decision's reason; a wrong token is refused. Screenshots go to test-output/e2e/.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type BrowserSession } from './support/browser';
import { startCmsServe, type CmsServe } from './support/cms-serve';
import { ROOT } from './support/renderer-build';

const SHOTS = join(ROOT, 'test-output', 'e2e');

// Page-side globals for the functions that run in the browser: this file type-checks without the
// DOM library, so the little it touches there is declared here, for this module only.
interface PageElement {
  getAttribute(name: string): string | null;
  textContent: string | null;
}
declare const document: { querySelector(selector: string): PageElement | null; querySelectorAll(selector: string): { length: number } };
declare const WebSocket: new (url: string) => { onopen: (() => void) | null; onclose: ((event: { code: number }) => void) | null };

/** Fast sandbox timings: short boots, a quick control loop, no scale-down while the test runs. */
const SERVE_ARGS = ['--rate', '1', '--min', '1', '--max', '4', '--boot-delay-ms', '300', '--period-ms', '500', '--warmup-s', '1', '--down-window-s', '120', '--quiet'];

let app: CmsServe;
let workDir: string;
let browser: BrowserSession;
let page: Page;

const row = (name: string) => page.locator(`[data-testid="vm-row"][data-name="${name}"]`);

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

/** Waits until the page function returns true, polling every 100 ms; screenshots the page if it never does. */
async function until(what: string, fn: (args: string[]) => boolean, args: string[] = [], timeoutMs = 15_000): Promise<void> {
  try {
    await page.waitForFunction(fn, args, { timeout: timeoutMs, polling: 100 });
  } catch (error) {
    await shot(`failed-${what.replace(/\W+/g, '-')}`).catch(() => undefined);
    throw new Error(`timed out waiting for ${what}: ${error instanceof Error ? error.message : String(error)}\n${app.output()}`);
  }
}

async function waitForState(name: string, state: string, timeoutMs = 10_000): Promise<void> {
  await until(`${name} to be ${state}`, ([n, s]) => document.querySelector(`[data-testid="vm-row"][data-name="${n}"]`)?.getAttribute('data-state') === s, [name, state], timeoutMs);
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  workDir = mkdtempSync(join(tmpdir(), 'cms-e2e-hosts-'));
  app = await startCmsServe({ args: SERVE_ARGS });
  browser = await launchBrowser();
  page = browser.page;
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await app?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
}, 30_000);

describe('the web UI on cms serve', () => {
  it('lists the sandbox host and its domains', async () => {
    const response = await page.goto(app.url);
    expect(response?.status()).toBe(200);
    await until('the first pool member', () => document.querySelectorAll('[data-testid="vm-row"][data-role="member"]').length >= 1);
    for (const name of ['cms-template', 'web-frontend', 'db-primary', 'build-runner']) await row(name).waitFor();
    expect(await row('cms-template').getAttribute('data-role')).toBe('template');
    expect(await row('web-frontend').getAttribute('data-role')).toBe('other');
    const host = page.locator('[data-testid="host-item"]');
    expect(await host.count()).toBe(1);
    expect(await host.getAttribute('data-status')).toBe('connected');
    expect(await page.locator('[data-testid="sandbox-note"]').textContent()).toMatch(/simulated/i);
    expect(await page.locator('[data-testid="connection-status"]').textContent()).toContain('Connected');
    await shot('01-list');
  }, 30_000);

  it('shuts a VM down and runs it again from the toolbar', async () => {
    await waitForState('web-frontend', 'running');
    await row('web-frontend').click();
    await page.locator('[data-testid="action-shutdown"]').click();
    const dialog = page.locator('dialog[open][data-testid="confirm-dialog"]');
    expect(await dialog.textContent()).toContain('web-frontend');
    await page.locator('[data-testid="confirm-ok"]').click();
    await waitForState('web-frontend', 'shutoff');
    await shot('02-shut-off');
    await page.locator('[data-testid="action-start"]').click();
    await waitForState('web-frontend', 'running');
    expect(await row('web-frontend').getAttribute('data-state')).toBe('running');
    // The template is the base of every clone: the toolbar does not offer to run it.
    await row('cms-template').click();
    expect(await page.locator('[data-testid="action-start"]').isDisabled()).toBe(true);
  }, 30_000);

  it('opens the details with the keyboard and shows the domain XML', async () => {
    await row('web-frontend').click();
    await page.keyboard.press('Enter');
    await page.locator('[data-testid="details-overview"]').waitFor();
    await page.locator('[data-testid="details-tab-xml"]').click();
    await until('the domain XML', () => (document.querySelector('[data-testid="vm-xml"]')?.textContent ?? '').includes('<name>web-frontend</name>'));
    await page.locator('[data-testid="details-tab-graphs"]').click();
    await page.locator('[data-testid="details-chart-cpu"] canvas').waitFor();
    await shot('03-details');
    await page.keyboard.press('Escape');
    await page.locator('[data-testid="details-overview"]').waitFor({ state: 'detached' });
  }, 20_000);

  it('pauses and resumes two VMs at once (bulk action)', async () => {
    await row('db-primary').click();
    await row('build-runner').click({ modifiers: ['Control'] });
    expect(await page.locator('[data-testid="selection-count"]').textContent()).toBe('2 selected');
    await page.locator('[data-testid="action-suspend"]').click();
    await waitForState('db-primary', 'paused');
    await waitForState('build-runner', 'paused');
    await shot('04-bulk-paused');
    await page.locator('[data-testid="action-resume"]').click();
    await waitForState('db-primary', 'running');
    await waitForState('build-runner', 'running');
  }, 20_000);

  it('adds and removes a connection, and reports a failed one as a notification', async () => {
    // A second sandbox host: the test driver keeps state per file, so a copy is a separate host.
    const secondHost = join(workDir, 'second-host.xml');
    copyFileSync(join(ROOT, 'electron', 'core', 'sandbox', 'sandbox-host.xml'), secondHost);
    await page.locator('[data-testid="host-add-uri"]').fill(`test://${secondHost}`);
    await page.locator('[data-testid="host-add"]').click();
    await until('a second host', () => document.querySelectorAll('[data-testid="host-item"][data-status="connected"]').length === 2);
    await until('its domains in the list', () => document.querySelectorAll('[data-testid="vm-row"][data-name="web-frontend"]').length === 2);
    await shot('05-two-hosts');
    await page.locator('[data-testid="host-item"]').nth(1).locator('[data-testid="host-remove"]').click();
    await page.locator('[data-testid="confirm-ok"]').click();
    await until('the host to go', () => document.querySelectorAll('[data-testid="host-item"]').length === 1);
    await until('its domains to go', () => document.querySelectorAll('[data-testid="vm-row"][data-name="web-frontend"]').length === 1);

    await page.locator('[data-testid="host-add-uri"]').fill('test:///no/such/host.xml');
    await page.locator('[data-testid="host-add"]').click();
    const note = page.locator('[data-testid="notification"]').first();
    await note.waitFor();
    expect(await note.textContent()).toContain('test:///no/such/host.xml');
    await note.getByRole('button', { name: 'Dismiss' }).click();
    await page.locator('[data-testid="host-add-uri"]').fill('');
  }, 20_000);

  it('grows the pool in the list and the charts when the inter-request time gets shorter', async () => {
    const membersBefore = await page.locator('[data-testid="vm-row"][data-role="member"]').count();
    await page.locator('[data-testid="load-inter-request"]').fill('0.04');
    expect(await page.locator('[data-testid="load-rate"]').inputValue()).toBe('25');
    await page.locator('[data-testid="load-apply"]').click();
    await until('the offered rate to reach 25 req/s', () => (document.querySelector('[data-testid="load-status"]')?.textContent ?? '').includes('25.0 req/s'), [], 5_000);
    await until(
      'at least 3 healthy pool members in the list',
      () => document.querySelectorAll('[data-testid="vm-row"][data-role="member"][data-health="healthy"]').length >= 3,
      undefined,
      30_000,
    );
    expect(await page.locator('[data-testid="vm-row"][data-role="member"]').count()).toBeGreaterThan(membersBefore);
    await until(
      'the pool chart to show the growth',
      () => {
        const summary = JSON.parse(document.querySelector('[data-testid="chart-pool"]')?.getAttribute('data-summary') ?? '{}') as { max?: Record<string, number | null> };
        return (summary.max?.healthy ?? 0) >= 3 && (summary.max?.desired ?? 0) >= 3;
      },
      undefined,
      10_000,
    );
    const requests = JSON.parse((await page.locator('[data-testid="chart-requests"]').getAttribute('data-summary')) ?? '{}') as { max: Record<string, number> };
    expect(requests.max.offered).toBeGreaterThanOrEqual(20);
    await shot('06-pool-grown');
  }, 45_000);

  it('shows the scale-up decision with its reason in the event log', async () => {
    await page.locator('[data-testid="event-category"]').selectOption('decision');
    await until('a scale_up entry', () => document.querySelector('[data-testid="event-row"][data-event="scale_up"]') !== null, [], 5_000);
    const headlines = await page.locator('[data-testid="event-row"][data-event="scale_up"] [data-testid="event-headline"]').allTextContents();
    // "2 → 4: <reason>" — the growth the load caused, with the metric the policy tracked in its reason.
    const growth = headlines.find((text) => /^\d+ → ([2-9]|\d{2,}): /.test(text));
    expect(growth, headlines.join('\n')).toBeDefined();
    expect(growth).toMatch(/utilization/);
    expect((await page.locator('[data-testid="last-reason"]').textContent()) ?? '').toMatch(/utilization/);
    await shot('07-event-log');
    // Export: the app's whole log as JSON lines, downloaded from a Blob.
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('[data-testid="event-export"]').click()]);
    expect(download.suggestedFilename()).toMatch(/^cms-events-.*\.jsonl$/);
    const lines = readFileSync((await download.path()) ?? '', 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { event: string; reason?: string });
    expect(lines.some((line) => line.event === 'scale_up' && typeof line.reason === 'string')).toBe(true);
    await page.locator('[data-testid="event-category"]').selectOption('all');
  }, 15_000);

  it('refuses a wrong token for the page and for the socket', async () => {
    const other = await browser.context.newPage();
    try {
      const response = await other.goto(`${app.origin}/?token=wrong-token`);
      expect(response?.status()).toBeGreaterThanOrEqual(401);
      expect(response?.status()).toBeLessThanOrEqual(403);
      expect(await other.locator('[data-testid="vm-row"]').count()).toBe(0);
      // From the app's own origin, a socket with the wrong token never opens.
      const outcome = await page.evaluate(
        (url) =>
          new Promise<string>((resolve) => {
            const ws = new WebSocket(url);
            ws.onopen = () => resolve('open');
            ws.onclose = (event) => resolve(`closed ${event.code}`);
          }),
        `${app.origin.replace('http', 'ws')}/ws?token=wrong-token`,
      );
      expect(outcome).toMatch(/^closed/);
    } finally {
      await other.close();
    }
    expect(browser.errors.filter((text) => /Content Security Policy|Refused to/i.test(text))).toEqual([]);
  }, 15_000);

  it('quits from the UI: the pool shuts down with progress, then the app exits', async () => {
    await page.locator('[data-testid="quit"]').click();
    await page.locator('[data-testid="confirm-ok"]').click();
    await page.locator('[data-testid="quit-progress"]').waitFor({ state: 'visible' });
    await until('the shutdown to finish', () => (document.querySelector('[data-testid="quit-progress"]')?.textContent ?? '').includes('has quit'), [], 20_000);
    const text = (await page.locator('[data-testid="quit-progress"]').textContent()) ?? '';
    // Every member the pool had (4 after the load test) counted as stopped.
    expect(text).toMatch(/([1-9]\d*) of \1 VMs stopped/);
    expect(await page.locator('[data-testid="connection-banner"]').count()).toBe(0);
    await shot('08-quit');
    expect(app.output()).not.toMatch(/error/i);
  }, 30_000);
});
