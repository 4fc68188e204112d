// `npm run bench:ui`: the built renderer in headless Chromium fed 500 domains that all change every
// second, over the web mode's WebSocket framing from a stub carrier (test/e2e/support/stub-app).
// Per phase: median / p99 / worst frame time (requestAnimationFrame deltas), long tasks, the page's
// main-thread work from a CDP trace (worst task in wall and in CPU time, so contention from other
// processes on a shared machine shows as the difference), renderer heap (CDP JSHeapUsedSize), and
// messages and bytes per second over the carrier. Target: no frame over 50 ms. It also saves docs/screenshot.png from a real `cms serve` sandbox run (skip with
// --no-screenshot). It reports; it does not fail on a slow (shared) machine.
import { mkdirSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CDPSession, Page } from 'playwright-core';
import { CHROMIUM_PATH, launchBrowser } from '../e2e/support/browser';
import { startCmsServe } from '../e2e/support/cms-serve';
import { ensureRendererBuilt, ROOT } from '../e2e/support/renderer-build';
import { startStubApp, type CarrierCounters, type StubApp } from '../e2e/support/stub-app';
import { fixed, table } from './support/format';

/** What the page exposes to the bench (main.tsx's window.__cms, the recorders' window.__bench). */
interface BenchWindow {
  __cms?: { store: { getState(): { stateUpdates: number; domainKeys: string[] } } };
  __bench: { frames: number[]; longTasks: number[]; last: number; scrollPx: number };
}
// Page-side globals for the functions that run in the browser: this file type-checks without the
// DOM library, so the little it touches there is declared here, for this module only.
declare const window: BenchWindow;
declare const document: { querySelectorAll(selector: string): { length: number } };
declare const performance: { now(): number };

/** From the issue: no frame may take longer than this. */
export const TARGET_MAX_FRAME_MS = 50;
export const DOMAINS = 500;

export interface PhaseResult {
  name: string;
  seconds: number;
  frames: number;
  medianFrameMs: number;
  p99FrameMs: number;
  worstFrameMs: number;
  framesOver50: number;
  longTasks: number;
  worstLongTaskMs: number;
  /** Main-thread tasks of the page, from the trace: worst wall time, worst CPU time, CPU busy %. */
  worstTaskWallMs: number;
  worstTaskCpuMs: number;
  mainThreadCpuPct: number;
  /** The machine's 1-minute load average at the end of the phase (2 cores here, shared). */
  loadAvg1: number;
  /** State pushes the page folded into its store. */
  storeUpdatesPerS: number;
  messagesPerS: number;
  kBytesPerS: number;
  heapUsedMiB: number;
}

interface Phase {
  name: string;
  seconds: number;
  /** Push interval for this phase, ms. */
  stateIntervalMs: number;
  /** Set up in the page before measuring (sorting, scrolling). */
  before?: (page: Page) => Promise<void>;
  after?: (page: Page) => Promise<void>;
}

/**
 * The frame and long-task recorders, as page source text: tsx compiles this file with esbuild's
 * keepNames, whose `__name()` helper does not exist in the page, so nested functions cannot be
 * handed to page.evaluate as closures.
 */
const RECORDERS_JS = `(() => {
  if (window.__bench) return;
  const bench = { frames: [], longTasks: [], last: performance.now(), scrollPx: 0 };
  window.__bench = bench;
  function loop(now) {
    bench.frames.push(now - bench.last);
    bench.last = now;
    if (bench.scrollPx !== 0) {
      const body = document.querySelector('[data-testid="vm-list-body"]');
      if (body) {
        // Back and forth over the whole list: rows enter and leave every frame. The position is
        // tracked here rather than read back, so the harness forces no layout of its own.
        bench.maxScrollPx ??= body.scrollHeight - body.clientHeight;
        bench.scrollTopPx = Math.min(bench.maxScrollPx, Math.max(0, (bench.scrollTopPx ?? 0) + bench.scrollPx));
        if (bench.scrollTopPx >= bench.maxScrollPx) bench.scrollPx = -Math.abs(bench.scrollPx);
        else if (bench.scrollTopPx <= 0) bench.scrollPx = Math.abs(bench.scrollPx);
        body.scrollTop = bench.scrollTopPx;
      }
    }
    requestAnimationFrame(loop);
  }
  requestAnimationFrame(loop);
  new PerformanceObserver(function (list) {
    for (const entry of list.getEntries()) bench.longTasks.push(entry.duration);
  }).observe({ type: 'longtask', buffered: false });
})()`;

async function installRecorders(page: Page): Promise<void> {
  await page.evaluate(RECORDERS_JS);
}

async function resetRecorders(page: Page): Promise<void> {
  await page.evaluate(() => {
    const bench = window.__bench;
    bench.frames = [];
    bench.longTasks = [];
    bench.last = performance.now();
  });
}

async function readRecorders(page: Page): Promise<{ frames: number[]; longTasks: number[]; storeUpdates: number }> {
  return page.evaluate(() => {
    const w = window;
    return { frames: [...w.__bench.frames], longTasks: [...w.__bench.longTasks], storeUpdates: w.__cms?.store.getState().stateUpdates ?? 0 };
  });
}

async function storeUpdates(page: Page): Promise<number> {
  return page.evaluate(() => window.__cms?.store.getState().stateUpdates ?? 0);
}

async function heapUsedMiB(cdp: CDPSession): Promise<number> {
  const { metrics } = await cdp.send('Performance.getMetrics');
  const used = metrics.find((metric) => metric.name === 'JSHeapUsedSize')?.value ?? 0;
  return used / (1024 * 1024);
}

interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  dur?: number;
  tdur?: number;
  args?: { name?: string };
}

/** Records a trace of the page's process around `during`; returns its events. */
async function traceDuring(cdp: CDPSession, during: () => Promise<void>): Promise<TraceEvent[]> {
  const events: TraceEvent[] = [];
  const onData = (data: { value: unknown[] }): void => {
    events.push(...(data.value as TraceEvent[]));
  };
  cdp.on('Tracing.dataCollected', onData);
  const complete = new Promise<void>((resolve) => cdp.once('Tracing.tracingComplete', () => resolve()));
  await cdp.send('Tracing.start', { categories: 'toplevel,devtools.timeline', transferMode: 'ReportEvents' });
  try {
    await during();
  } finally {
    await cdp.send('Tracing.end');
    await complete;
    cdp.off('Tracing.dataCollected', onData);
  }
  return events;
}

/** The renderer main thread's tasks: the CrRendererMain thread with the most of them. */
function mainThreadTasks(events: readonly TraceEvent[]): Array<{ wallMs: number; cpuMs: number }> {
  const mains = new Set(events.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain').map((e) => `${e.pid}:${e.tid}`));
  const byThread = new Map<string, Array<{ wallMs: number; cpuMs: number }>>();
  for (const e of events) {
    const key = `${e.pid}:${e.tid}`;
    if (e.ph !== 'X' || !mains.has(key) || !/RunTask$/.test(e.name) || e.dur === undefined) continue;
    const list = byThread.get(key) ?? [];
    list.push({ wallMs: e.dur / 1000, cpuMs: (e.tdur ?? e.dur) / 1000 });
    byThread.set(key, list);
  }
  return [...byThread.values()].sort((a, b) => b.length - a.length)[0] ?? [];
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

async function runPhase(page: Page, cdp: CDPSession, stub: StubApp, phase: Phase): Promise<PhaseResult> {
  stub.setStateIntervalMs(phase.stateIntervalMs);
  await phase.before?.(page);
  // Let the new push rate settle before counting.
  await sleep(1_500);
  // Frames are counted only inside the trace: starting and stopping a trace stalls the page
  // itself, which would otherwise be charged to the app.
  let updatesBefore = 0;
  let before: CarrierCounters = stub.counters();
  let startedMs = Date.now();
  let elapsedS = 0;
  let after: CarrierCounters = before;
  let recorded: Awaited<ReturnType<typeof readRecorders>> = { frames: [], longTasks: [], storeUpdates: 0 };
  const events = await traceDuring(cdp, async () => {
    await sleep(500);
    await resetRecorders(page);
    updatesBefore = await storeUpdates(page);
    before = stub.counters();
    startedMs = Date.now();
    await sleep(phase.seconds * 1000);
    recorded = await readRecorders(page);
    after = stub.counters();
    elapsedS = (Date.now() - startedMs) / 1000;
  });
  const tasks = mainThreadTasks(events);
  await phase.after?.(page);
  // The first delta spans the reset; drop it.
  const frames = recorded.frames.slice(1).sort((a, b) => a - b);
  return {
    name: phase.name,
    seconds: elapsedS,
    frames: frames.length,
    medianFrameMs: quantile(frames, 0.5),
    p99FrameMs: quantile(frames, 0.99),
    worstFrameMs: frames.at(-1) ?? NaN,
    framesOver50: frames.filter((ms) => ms > TARGET_MAX_FRAME_MS).length,
    longTasks: recorded.longTasks.length,
    worstLongTaskMs: recorded.longTasks.length > 0 ? Math.max(...recorded.longTasks) : 0,
    worstTaskWallMs: Math.max(0, ...tasks.map((task) => task.wallMs)),
    worstTaskCpuMs: Math.max(0, ...tasks.map((task) => task.cpuMs)),
    mainThreadCpuPct: (100 * tasks.reduce((sum, task) => sum + task.cpuMs, 0)) / (elapsedS * 1000),
    loadAvg1: loadavg()[0] ?? NaN,
    storeUpdatesPerS: (recorded.storeUpdates - updatesBefore) / elapsedS,
    messagesPerS: (after.messages - before.messages) / elapsedS,
    kBytesPerS: (after.bytes - before.bytes) / 1024 / elapsedS,
    heapUsedMiB: await heapUsedMiB(cdp),
  };
}

export async function measureUi(): Promise<{ phases: PhaseResult[]; heapAfterGcMiB: number; domainsShown: number; cspErrors: string[] }> {
  const distDir = ensureRendererBuilt();
  const stub = await startStubApp({ distDir, domainCount: DOMAINS, stateIntervalMs: 1000 });
  const browser = await launchBrowser({ extraArgs: ['--enable-precise-memory-info'] });
  try {
    const { page } = browser;
    const cdp = await browser.context.newCDPSession(page);
    await cdp.send('Performance.enable');
    await page.goto(stub.url);
    await page.waitForFunction((n) => window.__cms?.store.getState().domainKeys.length === n, DOMAINS, { timeout: 20_000 });
    await page.locator('[data-testid="vm-row"]').first().waitFor();
    await installRecorders(page);
    // Warm-up: JIT, first history points, chart creation.
    await sleep(3_000);

    const phases: Phase[] = [
      { name: 'list idle, 1 push/s', seconds: 15, stateIntervalMs: 1000 },
      {
        name: 'list scrolling, 1 push/s',
        seconds: 10,
        stateIntervalMs: 1000,
        before: (p) => p.evaluate(() => void (window.__bench.scrollPx = 45)),
        after: (p) => p.evaluate(() => void (window.__bench.scrollPx = 0)),
      },
      {
        name: 'sorted by CPU (rows reorder), 1 push/s',
        seconds: 10,
        stateIntervalMs: 1000,
        before: async (p) => {
          await p.locator('[data-testid="sort-cpu"]').click();
        },
        after: async (p) => {
          await p.locator('[data-testid="sort-name"]').click();
        },
      },
      { name: 'carrier maximum, 10 pushes/s', seconds: 10, stateIntervalMs: 100 },
    ];
    const results: PhaseResult[] = [];
    for (const phase of phases) results.push(await runPhase(page, cdp, stub, phase));

    await cdp.send('HeapProfiler.collectGarbage');
    const heapAfterGcMiB = await heapUsedMiB(cdp);
    const domainsShown = await page.evaluate(() => window.__cms?.store.getState().domainKeys.length ?? 0);
    const cspErrors = browser.errors.filter((text) => /Content Security Policy|Refused to/i.test(text));
    return { phases: results, heapAfterGcMiB, domainsShown, cspErrors };
  } finally {
    await browser.close();
    await stub.close();
  }
}

/** A realistic sandbox run through the real `cms serve`: load steps up, the pool grows; then a screenshot. */
export async function saveReadmeScreenshot(path: string): Promise<void> {
  const app = await startCmsServe({
    args: ['--steps', '0:2,12:9,40:18', '--min', '1', '--max', '6', '--boot-delay-ms', '1500', '--period-ms', '1000', '--warmup-s', '2', '--quiet'],
  });
  const browser = await launchBrowser({ width: 1440, height: 900 });
  try {
    const { page } = browser;
    await page.goto(app.url);
    await page.locator('[data-testid="vm-row"][data-role="member"]').first().waitFor({ timeout: 20_000 });
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="vm-row"][data-role="member"][data-health="healthy"]').length >= 4, undefined, { timeout: 90_000, polling: 500 });
    // A little more history on the charts after the growth, and a selected VM as someone would have.
    await sleep(8_000);
    await page.locator('[data-testid="vm-row"][data-name="cms-1"]').click();
    await page.locator('[data-testid="event-category"]').selectOption('decision');
    await sleep(1_000);
    mkdirSync(join(path, '..'), { recursive: true });
    await page.screenshot({ path });
  } finally {
    await browser.close();
    await app.stop();
  }
}

export async function runUiBench(): Promise<void> {
  const screenshot = !process.argv.includes('--no-screenshot');
  const { phases, heapAfterGcMiB, domainsShown, cspErrors } = await measureUi();
  const lines = [
    `UI benchmark: ${domainsShown} domains, every running one changing on each push; stub carrier over the web mode's WebSocket framing`,
    `Chromium (${CHROMIUM_PATH}) headless, 1440×900, software rendering; frame times are requestAnimationFrame deltas (60 Hz ≈ 16.7 ms)`,
    '',
    ...table(
      [
        { title: 'phase' },
        { title: 's' },
        { title: 'frames' },
        { title: 'median ms' },
        { title: 'p99 ms' },
        { title: 'worst ms' },
        { title: '>50 ms' },
        { title: 'long tasks' },
        { title: 'task wall ms' },
        { title: 'task CPU ms' },
        { title: 'main CPU %' },
        { title: 'store upd/s' },
        { title: 'msgs/s' },
        { title: 'KiB/s' },
        { title: 'heap MiB' },
        { title: 'load avg' },
      ],
      phases.map((p) => [
        p.name,
        fixed(p.seconds, 0),
        String(p.frames),
        fixed(p.medianFrameMs, 1),
        fixed(p.p99FrameMs, 1),
        fixed(p.worstFrameMs, 1),
        String(p.framesOver50),
        String(p.longTasks),
        fixed(p.worstTaskWallMs, 0),
        fixed(p.worstTaskCpuMs, 0),
        fixed(p.mainThreadCpuPct, 1),
        fixed(p.storeUpdatesPerS, 1),
        fixed(p.messagesPerS, 1),
        fixed(p.kBytesPerS, 0),
        fixed(p.heapUsedMiB, 1),
        fixed(p.loadAvg1, 1),
      ]),
    ),
    '',
    `renderer heap after GC: ${fixed(heapAfterGcMiB, 1)} MiB`,
    `CSP violations: ${cspErrors.length === 0 ? 'none' : cspErrors.join(' | ')}`,
  ];
  const worst = Math.max(...phases.map((p) => p.worstFrameMs));
  const worstCpu = Math.max(...phases.map((p) => p.worstTaskCpuMs));
  lines.push(`target: no frame over ${TARGET_MAX_FRAME_MS} ms — worst frame ${fixed(worst, 1)} ms: ${worst <= TARGET_MAX_FRAME_MS ? 'met' : 'NOT met'}`);
  lines.push(
    `the page's own work: worst main-thread task ${fixed(worstCpu, 1)} ms of CPU (${worstCpu <= TARGET_MAX_FRAME_MS ? 'within' : 'over'} the ${TARGET_MAX_FRAME_MS} ms budget); ` +
      `a frame far longer than that is the machine's other load (see load avg, ${availableParallelism()} cores)`,
  );
  console.log(lines.join('\n'));

  if (screenshot) {
    const path = join(ROOT, 'docs', 'screenshot.png');
    await saveReadmeScreenshot(path);
    console.log(`screenshot of a sandbox run saved to ${path}`);
  }
}

const invokedDirectly = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  runUiBench().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
