// Saved settings: where the file lives, a save/load round trip, and bad files (not JSON, wrong
// fields, unreadable) that must give a clear error naming the path and fall back to the defaults.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appStateSchema, type AppState } from '../../electron/contract/contract';
import {
  connectionsToUris,
  defaultSettings,
  loadSettings,
  SANDBOX_CONNECTION,
  saveSettings,
  SettingsError,
  settingsDir,
  settingsFromState,
  settingsPath,
  settingsSchema,
  settingsToConfig,
} from '../../electron/core/settings/settings';

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cms-settings-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('settings location', () => {
  it('uses $XDG_CONFIG_HOME when absolute, else ~/.config', () => {
    expect(settingsDir({ XDG_CONFIG_HOME: '/xdg' }, '/home/u')).toBe('/xdg/cloud-management-system');
    expect(settingsDir({}, '/home/u')).toBe('/home/u/.config/cloud-management-system');
    expect(settingsDir({ XDG_CONFIG_HOME: 'relative' }, '/home/u')).toBe('/home/u/.config/cloud-management-system');
    expect(settingsPath('/data')).toBe('/data/settings.json');
  });
});

describe('settings file', () => {
  it('gives the defaults, without an error, on a first start', () => {
    const loaded = loadSettings(join(dir, 'settings.json'));
    expect(loaded).toMatchObject({ existed: false, error: null });
    expect(loaded.settings).toEqual(defaultSettings());
    expect(loaded.settings.connections).toEqual([]);
  });

  it('round-trips connections, pool, load and policy, written owner-only in a new folder', () => {
    const path = join(dir, 'nested', 'settings.json');
    const settings = settingsSchema.parse({
      connections: ['qemu:///system', SANDBOX_CONNECTION],
      pool: { name: 'web', templateName: 'tmpl', shutdownTimeoutMs: 4000 },
      load: { profile: { kind: 'sine', meanRps: 5, amplitudeRps: 3, periodS: 60 }, digits: 5, arrivals: 'poisson' },
      policy: { kind: 'threshold', min: 2, max: 6, upPct: 80 },
    });
    saveSettings(path, settings);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const loaded = loadSettings(path);
    expect(loaded.error).toBeNull();
    expect(loaded.settings).toEqual(settings);
    expect(readdirSync(join(dir, 'nested'))).toEqual(['settings.json']);
  });

  it('reports a file that is not JSON, naming the path, and uses the defaults', () => {
    const path = join(dir, 'settings.json');
    writeFileSync(path, '{ "connections": [');
    const loaded = loadSettings(path);
    expect(loaded.existed).toBe(true);
    expect(loaded.error).toBeInstanceOf(SettingsError);
    expect(loaded.error?.code).toBe('settings_invalid');
    expect(loaded.error?.message).toContain(path);
    expect(loaded.error?.message).toMatch(/not valid JSON.*using the defaults/);
    expect(loaded.settings).toEqual(defaultSettings());
  });

  it('reports invalid fields by their path', () => {
    const path = join(dir, 'settings.json');
    writeFileSync(path, JSON.stringify({ connections: [''], policy: { min: 5, max: 2 }, load: { digits: 40 }, surprise: true }));
    const loaded = loadSettings(path);
    const message = loaded.error?.message ?? '';
    expect(message).toContain(path);
    expect(message).toMatch(/connections\.0/);
    expect(message).toMatch(/load\.digits/);
    expect(message).toMatch(/surprise|unrecognized/i);
    expect(loaded.settings).toEqual(defaultSettings());
  });

  it('reports an unreadable file without throwing', () => {
    if (process.getuid?.() === 0) {
      // root reads anything; a directory in the file's place is unreadable as a file for everyone.
      const path = join(dir, 'settings.json');
      mkdirSync(path);
      expect(loadSettings(path).error?.code).toBe('settings_unreadable');
      return;
    }
    const path = join(dir, 'settings.json');
    writeFileSync(path, '{}');
    chmodSync(path, 0o000);
    expect(loadSettings(path).error?.code).toBe('settings_unreadable');
  });

  it('refuses to save invalid settings and says where writing failed', () => {
    const bad = { ...defaultSettings(), connections: [''] };
    expect(() => saveSettings(join(dir, 'settings.json'), bad)).toThrow(/refusing to save invalid settings: connections\.0/);
    expect(existsSync(join(dir, 'settings.json'))).toBe(false);
    writeFileSync(join(dir, 'file'), '');
    expect(() => saveSettings(join(dir, 'file', 'settings.json'), defaultSettings())).toThrow(SettingsError);
  });
});

describe('settings and the app', () => {
  it('turns into a control-plane config and URIs', () => {
    const settings = settingsSchema.parse({ connections: ['qemu:///system', SANDBOX_CONNECTION, 'qemu:///system'], policy: { max: 3 } });
    const config = settingsToConfig(settings, { sandbox: { bootDelayMs: 10 } });
    expect(config.policy.max).toBe(3);
    expect(config.sandbox.bootDelayMs).toBe(10);
    expect(connectionsToUris(settings.connections, 'test:///app/sandbox-host.xml')).toEqual(['qemu:///system', 'test:///app/sandbox-host.xml']);
    expect(connectionsToUris([], 'test:///s.xml')).toEqual(['test:///s.xml']);
  });

  it('captures hosts, load and policy from the running app', () => {
    const previous = settingsSchema.parse({ pool: { name: 'kept' } });
    const state = {
      hosts: [
        { id: 'h1', uri: 'test:///somewhere/sandbox-host.xml', status: 'connected', hostname: null, cpus: null, memoryKiB: null, lastError: null, sandbox: true },
        { id: 'h2', uri: 'qemu+ssh://h2/system', status: 'reconnecting', hostname: null, cpus: null, memoryKiB: null, lastError: null, sandbox: false },
      ],
      load: { profile: { kind: 'constant', rateRps: 7 }, running: true, paused: false, offeredRps: 7, digits: 4, sent: 0 },
      scaling: { config: settingsSchema.parse({ policy: { kind: 'target', metric: 'p95', target: 200, max: 9 } }).policy, paused: false, lastReason: null },
    } satisfies Pick<AppState, 'hosts' | 'load' | 'scaling'>;
    appStateSchema.pick({ hosts: true, load: true, scaling: true }).parse(state);
    const next = settingsFromState(previous, state);
    expect(next.connections).toEqual([SANDBOX_CONNECTION, 'qemu+ssh://h2/system']);
    expect(next.load.profile).toEqual({ kind: 'constant', rateRps: 7 });
    expect(next.load.digits).toBe(4);
    expect(next.policy).toMatchObject({ kind: 'target', metric: 'p95', target: 200, max: 9 });
    expect(next.pool.name).toBe('kept');
  });
});
