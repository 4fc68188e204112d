// The decisions the Electron glue applies, tested in plain Node: the tray's tooltip, icon and
// "Scale to…" sizes, what the window may load, whether a desktop window can open here, and the quit
// sequence (progress, watchdog, holding the window open until the pool is down).
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../electron/core/clock';
import { canOpenDesktop, electronBinaryPath, resolveElectronPackageDir } from '../../electron/core/desktop/environment';
import { APP_INDEX_URL, isNavigationAllowed, isRequestAllowed } from '../../electron/core/desktop/navigation';
import { QuitSequence, type QuitSnapshot } from '../../electron/core/desktop/quit';
import { scaleChoices, trayIconName, trayTooltip, type TrayState } from '../../electron/core/desktop/tray';
import { contentSecurityPolicy } from '../../electron/core/web/csp';

function trayState(overrides: { pool?: Partial<TrayState['pool']>; latest?: Partial<NonNullable<TrayState['latest']>> | null; load?: Partial<TrayState['load']>; hostStatus?: TrayState['hosts'][number]['status']; quitting?: boolean } = {}): TrayState {
  const latest = overrides.latest === null ? null : {
    tS: 10, offeredRps: 120, arrivedPerS: 120, servedRps: 120, okPerS: 120, failedPerS: 0, expiredPerS: 0,
    p50Ms: 30, p95Ms: 80, p99Ms: 120, poolDesired: 5, poolBooting: 1, poolHealthy: 4, utilization: 0.6, inflight: 3,
    ...overrides.latest,
  };
  return {
    pool: { name: 'cms', desired: 5, min: 1, max: 8, warmPoolSize: 0, savedPoolSize: 0, healthy: 4, booting: 1, warm: 0, saved: 0, ...overrides.pool },
    latest,
    load: { profile: { kind: 'constant', rateRps: 120 }, running: true, paused: false, offeredRps: 120, digits: 3, sent: 1000, ...overrides.load },
    hosts: [{ id: 'h1', uri: 'test:///x.xml', status: overrides.hostStatus ?? 'connected', hostname: null, cpus: 4, memoryKiB: 1, lastError: null, sandbox: true }],
    quitting: overrides.quitting ?? false,
  };
}

describe('tray', () => {
  it('says healthy/desired VMs, served req/s and p95', () => {
    expect(trayTooltip(trayState())).toBe('4/5 VMs · 120 req/s · p95 80 ms');
    expect(trayTooltip(trayState({ latest: { servedRps: 0.44, p95Ms: 79.6 } }))).toBe('4/5 VMs · 0.4 req/s · p95 80 ms');
    expect(trayTooltip(trayState({ latest: null, pool: { healthy: 0, desired: 1 } }))).toBe('0/1 VMs · 0 req/s · p95 –');
    expect(trayTooltip(trayState({ load: { paused: true } }))).toBe('4/5 VMs · 120 req/s · p95 80 ms · load paused');
    expect(trayTooltip(trayState({ quitting: true }), 'Shutting the pool down: 2 of 5 VMs stopped…')).toBe('Shutting the pool down: 2 of 5 VMs stopped…');
  });

  it('picks the icon from the pool and hosts', () => {
    expect(trayIconName(trayState({ pool: { healthy: 5, booting: 0 } }))).toBe('ok');
    expect(trayIconName(trayState())).toBe('scaling');
    expect(trayIconName(trayState({ pool: { healthy: 0, booting: 0 } }))).toBe('degraded');
    expect(trayIconName(trayState({ pool: { healthy: 5, booting: 0 }, hostStatus: 'reconnecting' }))).toBe('degraded');
    expect(trayIconName(trayState({ pool: { healthy: 5, booting: 0 }, load: { paused: true } }))).toBe('idle');
    expect(trayIconName(trayState({ quitting: true }))).toBe('quitting');
  });

  it('offers 1..max to scale to, thinned for big pools, marking the current size', () => {
    expect(scaleChoices({ max: 4, desired: 2 })).toEqual([
      { count: 1, current: false },
      { count: 2, current: true },
      { count: 3, current: false },
      { count: 4, current: false },
    ]);
    const big = scaleChoices({ max: 100, desired: 37 }, 16);
    const counts = big.map((choice) => choice.count);
    expect(counts[0]).toBe(1);
    expect(counts.at(-1)).toBe(100);
    expect(counts).toContain(37);
    expect(counts.length).toBeLessThanOrEqual(17);
    expect([...counts].sort((a, b) => a - b)).toEqual(counts);
    expect(big.filter((choice) => choice.current)).toEqual([{ count: 37, current: true }]);
  });
});

describe('window rules', () => {
  it('loads only the app origin and data: images, and never navigates', () => {
    expect(isRequestAllowed(APP_INDEX_URL)).toBe(true);
    expect(isRequestAllowed('app://cms/assets/index-abc.js')).toBe(true);
    expect(isRequestAllowed('data:image/png;base64,AAAA')).toBe(true);
    for (const url of ['https://example.com/x.js', 'http://127.0.0.1:8080/', 'ws://127.0.0.1/ws', 'file:///etc/passwd', 'app://other/index.html', 'devtools://devtools/bundled/x']) {
      expect(isRequestAllowed(url), url).toBe(false);
    }
    expect(isRequestAllowed('devtools://devtools/bundled/x', { devTools: true })).toBe(true);
    expect(isNavigationAllowed('https://example.com/')).toBe(false);
    expect(isNavigationAllowed(APP_INDEX_URL)).toBe(false);
  });

  it('sends one strict CSP: no inline or eval script, no remote sources', () => {
    const csp = contentSecurityPolicy();
    expect(csp).toMatch(/^default-src 'none'; script-src 'self'; /);
    expect(csp).not.toMatch(/unsafe|https?:|\*/);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(contentSecurityPolicy({ connectSrc: ['ws://127.0.0.1:4000', "'unsafe-eval'", 'ws://x; script-src *'] })).toContain("connect-src 'self' ws://127.0.0.1:4000;");
  });
});

describe('canOpenDesktop', () => {
  let dir = '';
  let withBinary = '';
  let withoutBinary = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cms-electron-'));
    // An installed package with its binary (as after a normal `npm ci`)…
    withBinary = join(dir, 'full');
    mkdirSync(join(withBinary, 'dist'), { recursive: true });
    writeFileSync(join(withBinary, 'path.txt'), 'electron');
    writeFileSync(join(withBinary, 'dist', 'electron'), '#!/bin/sh\n');
    chmodSync(join(withBinary, 'dist', 'electron'), 0o755);
    // …and one installed with ELECTRON_SKIP_BINARY_DOWNLOAD (no path.txt, no dist/).
    withoutBinary = join(dir, 'skipped');
    mkdirSync(withoutBinary);
    writeFileSync(join(withoutBinary, 'package.json'), '{}');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const user = { platform: 'linux' as const, uid: 1000 };

  it('opens when the binary and a display are there', () => {
    expect(canOpenDesktop({ ...user, env: { DISPLAY: ':0' }, electronPackageDir: withBinary })).toEqual({ ok: true, electronBinary: join(withBinary, 'dist', 'electron') });
    expect(canOpenDesktop({ ...user, env: { WAYLAND_DISPLAY: 'wayland-0' }, electronPackageDir: withBinary }).ok).toBe(true);
    expect(canOpenDesktop({ platform: 'darwin', uid: 501, env: {}, electronPackageDir: withBinary }).ok).toBe(true);
  });

  it('says why not: no binary (offline set-up), no package, no display, root, or turned off', () => {
    expect(canOpenDesktop({ ...user, env: { DISPLAY: ':0' }, electronPackageDir: withoutBinary })).toEqual({ ok: false, code: 'no_electron', reason: 'Electron binary not installed (offline set-up)' });
    expect(canOpenDesktop({ ...user, env: { DISPLAY: ':0' }, electronPackageDir: null })).toMatchObject({ ok: false, code: 'no_electron' });
    expect(canOpenDesktop({ ...user, env: { DISPLAY: '' }, electronPackageDir: withBinary })).toMatchObject({ ok: false, code: 'no_display', reason: expect.stringMatching(/^no display/) });
    expect(canOpenDesktop({ ...user, env: {}, electronPackageDir: withBinary })).toMatchObject({ ok: false, code: 'no_display' });
    expect(canOpenDesktop({ platform: 'linux', uid: 0, env: { DISPLAY: ':0' }, electronPackageDir: withBinary })).toMatchObject({ ok: false, code: 'root' });
    expect(canOpenDesktop({ ...user, env: { DISPLAY: ':0', CMS_DESKTOP: '0' }, electronPackageDir: withBinary })).toMatchObject({ ok: false, code: 'disabled' });
  });

  it('follows ELECTRON_OVERRIDE_DIST_PATH and requires an actual file', () => {
    expect(electronBinaryPath(withoutBinary, { ELECTRON_OVERRIDE_DIST_PATH: join(withBinary, 'dist') })).toBe(join(withBinary, 'dist', 'electron'));
    expect(electronBinaryPath(withBinary, { ELECTRON_OVERRIDE_DIST_PATH: join(dir, 'nowhere') })).toBeNull();
    writeFileSync(join(withoutBinary, 'path.txt'), 'electron');
    mkdirSync(join(withoutBinary, 'dist', 'electron'), { recursive: true });
    expect(electronBinaryPath(withoutBinary, {})).toBeNull();
  });

  it('finds the installed electron package here, and agrees with it about the binary', () => {
    const packageDir = resolveElectronPackageDir();
    expect(packageDir).not.toBeNull();
    const binary = electronBinaryPath(packageDir, {});
    // These machines install with ELECTRON_SKIP_BINARY_DOWNLOAD; a machine with the binary must say ok.
    expect(canOpenDesktop({ ...user, env: { DISPLAY: ':0' } })).toEqual(binary === null ? expect.objectContaining({ ok: false, code: 'no_electron' }) : { ok: true, electronBinary: binary });
  });
});

describe('quit sequence', () => {
  function sequence(watchdogMs = 10_000): { clock: ManualClock; quit: QuitSequence; changes: QuitSnapshot[]; watchdogFired: () => number } {
    const clock = new ManualClock();
    const changes: QuitSnapshot[] = [];
    let fired = 0;
    const quit = new QuitSequence({ clock, watchdogMs, onChange: (s) => changes.push(s), onWatchdog: () => (fired += 1) });
    return { clock, quit, changes, watchdogFired: () => fired };
  }

  it('runs running → stopping with progress → stopped, holding exits until the end', () => {
    const { quit, changes } = sequence();
    expect(quit.mustHoldExit()).toBe(true);
    expect(quit.fraction()).toBeNull();
    expect(quit.request('tray')).toBe('begin');
    expect(quit.request('window')).toBe('already_stopping');
    expect(quit.snapshot()).toMatchObject({ phase: 'stopping', source: 'tray' });
    expect(quit.label()).toBe('Shutting the pool down…');
    expect(quit.fraction()).toBe(-1);
    quit.progress(2, 5);
    expect(quit.label()).toBe('Shutting the pool down: 2 of 5 VMs stopped…');
    expect(quit.fraction()).toBeCloseTo(0.4);
    expect(quit.mustHoldExit()).toBe(true);
    quit.progress(5, 5, true);
    expect(quit.snapshot()).toMatchObject({ phase: 'stopped', forced: false, error: null });
    expect(quit.mustHoldExit()).toBe(false);
    expect(quit.exitCode()).toBe(0);
    expect(quit.label()).toBe('Pool shut down: exiting');
    expect(quit.request('menu')).toBe('already_stopped');
    expect(changes.map((c) => c.phase)).toEqual(['stopping', 'stopping', 'stopped']);
  });

  it('ignores progress before a quit, and the watchdog ends a shutdown that hangs', () => {
    const { clock, quit, watchdogFired } = sequence(10_000);
    quit.progress(1, 2);
    expect(quit.snapshot().phase).toBe('running');
    quit.request('signal');
    clock.advance(9_999);
    expect(quit.snapshot().phase).toBe('stopping');
    clock.advance(1);
    expect(quit.snapshot()).toMatchObject({ phase: 'stopped', forced: true });
    expect(watchdogFired()).toBe(1);
    expect(quit.exitCode()).toBe(1);
    expect(quit.label()).toMatch(/did not confirm its shutdown within 10 s/);
    quit.finish(null);
    expect(quit.snapshot().forced).toBe(true);
  });

  it('a clean finish disarms the watchdog; a crash while running ends with an error', () => {
    const clean = sequence(1000);
    clean.quit.request('ui');
    clean.quit.finish(null);
    clean.clock.advance(5000);
    expect(clean.watchdogFired()).toBe(0);
    expect(clean.quit.exitCode()).toBe(0);

    const crash = sequence();
    crash.quit.finish('the control plane process ended unexpectedly (exit code 1)');
    expect(crash.quit.snapshot()).toMatchObject({ phase: 'stopped', source: 'backend_exit' });
    expect(crash.quit.exitCode()).toBe(1);
    expect(crash.quit.label()).toMatch(/ended unexpectedly/);
  });
});
