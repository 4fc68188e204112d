// `cms start`'s choice between the desktop window and the web UI: with a desktop it runs the Electron
// binary on the built main (a stand-in script here, since the real binary is not installed) and
// returns its exit code; without one, or without a built main, it serves and says why.
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCommand } from '../../electron/cli/start';

let dir = '';
let fakeElectron = '';
let mainScript = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cms-start-'));
  fakeElectron = join(dir, 'electron');
  // Records what it was started with, like a window that closes with exit code 7.
  writeFileSync(fakeElectron, `#!/bin/sh\nprintf '%s\\n' "$@" > "${dir}/args"\nprintf '%s' "$CMS_LAUNCH_JSON" > "${dir}/launch"\nprintf '%s' "\${ELECTRON_RUN_AS_NODE:-unset}" > "${dir}/run-as-node"\nexit 7\n`);
  chmodSync(fakeElectron, 0o755);
  mainScript = join(dir, 'main.js');
  writeFileSync(mainScript, '');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('cms start', () => {
  it('serves and passes the reason on when no desktop window can open', async () => {
    const reasons: string[] = [];
    const code = await startCommand({ probe: { ok: false, code: 'no_display', reason: 'no display (neither DISPLAY nor WAYLAND_DISPLAY is set)' }, launchJson: null, serve: async (reason) => (reasons.push(reason), 0) });
    expect(code).toBe(0);
    expect(reasons).toEqual(['no display (neither DISPLAY nor WAYLAND_DISPLAY is set)']);
  });

  it('serves when the Electron main is not built', async () => {
    const reasons: string[] = [];
    await startCommand({ probe: { ok: true, electronBinary: fakeElectron }, mainScript: join(dir, 'missing.js'), launchJson: null, serve: async (reason) => (reasons.push(reason), 0) });
    expect(reasons[0]).toMatch(/desktop app is not built .*missing\.js/);
  });

  it('runs Electron on the main script with the launch, never as plain Node, and returns its exit code', async () => {
    const before = process.env.ELECTRON_RUN_AS_NODE;
    process.env.ELECTRON_RUN_AS_NODE = '1';
    try {
      const launch = JSON.stringify({ uris: ['test:///default'], config: {}, logPath: '/tmp/cms.log' });
      const code = await startCommand({ probe: { ok: true, electronBinary: fakeElectron }, mainScript, launchJson: launch, serve: async () => 99 });
      expect(code).toBe(7);
      expect(readFileSync(join(dir, 'args'), 'utf8')).toBe(`${mainScript}\n`);
      expect(readFileSync(join(dir, 'launch'), 'utf8')).toBe(launch);
      expect(readFileSync(join(dir, 'run-as-node'), 'utf8')).toBe('unset');
    } finally {
      if (before === undefined) delete process.env.ELECTRON_RUN_AS_NODE;
      else process.env.ELECTRON_RUN_AS_NODE = before;
    }
    expect(existsSync(join(dir, 'args'))).toBe(true);
  });
});
