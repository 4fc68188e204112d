// `cms start` (what `npm start` runs): the desktop window when Electron and a display are there,
// else `cms serve` on this machine with the reason printed. Plain Node: it launches the Electron
// binary as a child process and never imports Electron itself.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { constants } from 'node:os';
import { LAUNCH_ENV } from '../core/ipc/backend-protocol';
import { canOpenDesktop, type DesktopProbe } from '../core/desktop/environment';
import { findPackageRoot } from '../core/web/static';

export interface StartOptions {
  /** Runs `cms serve` with the same flags; gets the reason the desktop was not opened. */
  serve: (fallbackReason: string) => Promise<number>;
  /** JSON for the desktop app's control plane ({uris, config, logPath}) when the user gave flags; null uses its saved settings. */
  launchJson: string | null;
  /** @default canOpenDesktop() */
  probe?: DesktopProbe;
  /** The bundled Electron main. @default '<checkout>/dist/electron/main.js' */
  mainScript?: string;
}

export function defaultMainScript(): string {
  return join(findPackageRoot() ?? process.cwd(), 'dist', 'electron', 'main.js');
}

/** Runs the Electron binary on the main script; resolves with its exit code (128+n after a signal). */
export function runElectron(binary: string, mainScript: string, launchJson: string | null): Promise<number> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // Inherited from an editor's terminal, this would make Electron run as plain Node and open no window.
  delete env.ELECTRON_RUN_AS_NODE;
  if (launchJson !== null) env[LAUNCH_ENV] = launchJson;
  else delete env[LAUNCH_ENV];
  const child = spawn(binary, [mainScript], { stdio: 'inherit', env });
  const forward = (signal: NodeJS.Signals): void => {
    // The app runs its own quit sequence (pool shutdown) on SIGINT/SIGTERM.
    child.kill(signal);
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  return new Promise((resolve) => {
    child.once('error', (error) => {
      console.error(`cms: cannot run Electron (${binary}): ${error.message}`);
      resolve(1);
    });
    child.once('exit', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : 1));
    });
  });
}

export async function startCommand(options: StartOptions): Promise<number> {
  const probe = options.probe ?? canOpenDesktop();
  if (!probe.ok) return options.serve(probe.reason);
  const mainScript = options.mainScript ?? defaultMainScript();
  if (!existsSync(mainScript)) return options.serve(`the desktop app is not built (${mainScript} is missing; run npm run build)`);
  console.log(`cms: opening the desktop window (Electron at ${probe.electronBinary})`);
  return runElectron(probe.electronBinary, mainScript, options.launchJson);
}
