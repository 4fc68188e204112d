// The desktop app's saved settings (connections, pool, load, policy): one JSON file in the user's
// config directory, validated with zod when read. A bad file never stops the app: the reader returns
// the defaults together with an error that names the file and the failing fields.
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { z } from 'zod';
import type { AppState } from '../../contract/contract';
import { policyConfigSchema } from '../autoscaler/policies';
import { loadConfigSchema, parseControlPlaneConfig, poolConfigSchema, type ControlPlaneConfig, type ControlPlaneConfigInput } from '../service/config';

/** Folder name under the config directory (Electron's userData uses the product name instead). */
export const SETTINGS_APP_DIR = 'cloud-management-system';
export const SETTINGS_FILE = 'settings.json';
/** A connection entry that stands for the built-in sandbox (its real URI depends on where the app is installed). */
export const SANDBOX_CONNECTION = 'sandbox';

export const settingsSchema = z.strictObject({
  version: z.literal(1).default(1),
  /** libvirt URIs, or 'sandbox'. Empty means the sandbox alone. @default [] */
  connections: z.array(z.string().min(1).max(1024)).max(64).default([]),
  pool: poolConfigSchema.default(poolConfigSchema.parse({})),
  load: loadConfigSchema.default(loadConfigSchema.parse({})),
  policy: policyConfigSchema.default(policyConfigSchema.parse(undefined)),
});
export type Settings = z.output<typeof settingsSchema>;

export type SettingsErrorCode = 'settings_invalid' | 'settings_unreadable' | 'settings_write_failed';

export class SettingsError extends Error {
  constructor(
    readonly code: SettingsErrorCode,
    readonly path: string,
    message: string,
  ) {
    super(message);
    this.name = 'SettingsError';
  }
}

export interface LoadedSettings {
  settings: Settings;
  path: string;
  /** Whether the file was there at all (a first start has none, which is not an error). */
  existed: boolean;
  /** Why the file was not used; the settings are then the defaults. */
  error: SettingsError | null;
}

export function defaultSettings(): Settings {
  return settingsSchema.parse({});
}

/** `$XDG_CONFIG_HOME/cloud-management-system`, else `~/.config/cloud-management-system` (the XDG spec ignores a relative XDG_CONFIG_HOME). */
export function settingsDir(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
  const xdg = env.XDG_CONFIG_HOME;
  const base = xdg !== undefined && xdg !== '' && isAbsolute(xdg) ? xdg : join(home, '.config');
  return join(base, SETTINGS_APP_DIR);
}

/** The settings file in a directory (the CLI's settingsDir(), or Electron's app.getPath('userData')). */
export function settingsPath(dir: string = settingsDir()): string {
  return join(dir, SETTINGS_FILE);
}

/** Reads and validates the file; never throws. */
export function loadSettings(path: string): LoadedSettings {
  if (!existsSync(path)) return { settings: defaultSettings(), path, existed: false, error: null };
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    const why = error instanceof SyntaxError ? `is not valid JSON (${error.message})` : `cannot be read (${error instanceof Error ? error.message : String(error)})`;
    const code: SettingsErrorCode = error instanceof SyntaxError ? 'settings_invalid' : 'settings_unreadable';
    return { settings: defaultSettings(), path, existed: true, error: new SettingsError(code, path, `settings file ${path} ${why}; using the defaults`) };
  }
  const parsed = settingsSchema.safeParse(value);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
    return { settings: defaultSettings(), path, existed: true, error: new SettingsError('settings_invalid', path, `settings file ${path} is invalid (${detail}); using the defaults`) };
  }
  return { settings: parsed.data, path, existed: true, error: null };
}

/** Validates, then writes atomically (temp file + rename) with owner-only permissions. Throws SettingsError. */
export function saveSettings(path: string, settings: Settings): void {
  const parsed = settingsSchema.safeParse(settings);
  if (!parsed.success) {
    throw new SettingsError('settings_invalid', path, `refusing to save invalid settings: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const temp = `${path}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeFileSync(temp, `${JSON.stringify(parsed.data, null, 2)}\n`, { mode: 0o600 });
    chmodSync(temp, 0o600);
    renameSync(temp, path);
  } catch (error) {
    throw new SettingsError('settings_write_failed', path, `cannot write settings file ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** The control-plane config the settings describe, laid over an optional base (balancer, agent, sandbox knobs). */
export function settingsToConfig(settings: Settings, base: ControlPlaneConfigInput = {}): ControlPlaneConfig {
  return parseControlPlaneConfig({ ...base, pool: settings.pool, load: settings.load, policy: settings.policy }, 'the saved settings');
}

/** The URIs to open: 'sandbox' entries (and an empty list) become the given sandbox URI. */
export function connectionsToUris(connections: readonly string[], sandboxUri: string): string[] {
  if (connections.length === 0) return [sandboxUri];
  return [...new Set(connections.map((entry) => (entry === SANDBOX_CONNECTION ? sandboxUri : entry)))];
}

/** What to save from the running app: its hosts, load and policy as they are now; the pool section as it was. */
export function settingsFromState(previous: Settings, state: Pick<AppState, 'hosts' | 'load' | 'scaling'>): Settings {
  const connections = state.hosts.map((host) => (host.sandbox ? SANDBOX_CONNECTION : host.uri));
  return settingsSchema.parse({
    ...previous,
    connections: [...new Set(connections)],
    load: { ...previous.load, profile: state.load.profile, digits: state.load.digits },
    policy: state.scaling.config,
  });
}
