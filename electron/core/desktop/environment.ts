// Can this machine open the desktop window? Needs the Electron binary (absent after an offline
// set-up, which skips its download) and a display. Plain Node, so `cms start` can decide before it
// touches Electron, and tests can vary the environment.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export type DesktopProbe =
  | { ok: true; electronBinary: string }
  | { ok: false; code: 'no_electron' | 'no_display' | 'root' | 'disabled'; reason: string };

export interface DesktopProbeOptions {
  /** @default process.env */
  env?: NodeJS.ProcessEnv;
  /** @default process.platform */
  platform?: NodeJS.Platform;
  /** The installed `electron` package's folder; null when it is not installed. @default resolved from node_modules */
  electronPackageDir?: string | null;
  /** The user id (Linux/macOS). @default process.getuid() */
  uid?: number;
}

/** The `electron` npm package's folder, or null when it is not installed. */
export function resolveElectronPackageDir(): string | null {
  try {
    return dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  } catch {
    return null;
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * The Electron binary the package would run, or null. Mirrors the package's own index.js (path.txt
 * names the executable under dist/, ELECTRON_OVERRIDE_DIST_PATH replaces dist/) without requiring it,
 * because that index throws when the download was skipped.
 */
export function electronBinaryPath(packageDir: string | null, env: NodeJS.ProcessEnv = process.env): string | null {
  if (packageDir === null) return null;
  const pathFile = join(packageDir, 'path.txt');
  const executable = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : '';
  const override = env.ELECTRON_OVERRIDE_DIST_PATH;
  let binary: string | null = null;
  if (override) binary = join(override, executable || 'electron');
  else if (executable) binary = join(packageDir, 'dist', executable);
  return binary !== null && isFile(binary) ? binary : null;
}

function hasDisplay(env: NodeJS.ProcessEnv, platform: NodeJS.Platform): boolean {
  // macOS and Windows always have a window server for a logged-in user; elsewhere X11 or Wayland must be named.
  if (platform === 'darwin' || platform === 'win32') return true;
  return Boolean(env.DISPLAY) || Boolean(env.WAYLAND_DISPLAY);
}

/** Electron binary present AND a display (AND not root on Linux); otherwise says why, in words fit to print. */
export function canOpenDesktop(options: DesktopProbeOptions = {}): DesktopProbe {
  const env = options.env ?? process.env;
  const platform = options.platform ?? process.platform;
  if (env.CMS_DESKTOP === '0') return { ok: false, code: 'disabled', reason: 'desktop window disabled (CMS_DESKTOP=0)' };
  const packageDir = options.electronPackageDir === undefined ? resolveElectronPackageDir() : options.electronPackageDir;
  const binary = electronBinaryPath(packageDir, env);
  if (binary === null) return { ok: false, code: 'no_electron', reason: 'Electron binary not installed (offline set-up)' };
  if (!hasDisplay(env, platform)) return { ok: false, code: 'no_display', reason: 'no display (neither DISPLAY nor WAYLAND_DISPLAY is set)' };
  const uid = options.uid ?? (typeof process.getuid === 'function' ? process.getuid() : undefined);
  if (platform === 'linux' && uid === 0) {
    // Chromium refuses to run as root unless its OS sandbox is switched off, and we do not switch it off.
    return { ok: false, code: 'root', reason: "running as root (Chromium's sandbox refuses root, and this app will not disable it)" };
  }
  return { ok: true, electronBinary: binary };
}
