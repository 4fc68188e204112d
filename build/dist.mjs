#!/usr/bin/env node
// `npm run dist`: the AppImage and the deb with electron-builder (config: electron-builder.yml, plus
// the desktop entry from build/linux/). electron-builder must download Electron; where it cannot
// (these build machines are offline) this says so plainly and exits 3, instead of a stack trace.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const DESKTOP_FILE = join(root, 'build', 'linux', 'cloud-management-system.desktop');
/** Keys electron-builder computes itself (Exec must point at the AppImage's AppRun or the deb's binary). */
const COMPUTED_KEYS = new Set(['Type', 'Exec', 'Icon']);

/** The [Desktop Entry] group of a .desktop file as key → value. */
export function parseDesktopEntry(text) {
  const entry = {};
  let inEntry = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('[')) {
      inEntry = line === '[Desktop Entry]';
      continue;
    }
    const index = line.indexOf('=');
    if (inEntry && index > 0) entry[line.slice(0, index).trim()] = line.slice(index + 1).trim();
  }
  return entry;
}

/** What dist adds over electron-builder.yml: the desktop entry's fields. */
export function configOverlay() {
  const entry = parseDesktopEntry(readFileSync(DESKTOP_FILE, 'utf8'));
  return { linux: { desktop: { entry: Object.fromEntries(Object.entries(entry).filter(([key]) => !COMPUTED_KEYS.has(key))) } } };
}

/** Files the packages are made of; `npm run build` makes them. */
export const REQUIRED_BUILD_OUTPUTS = ['dist/electron/main.js', 'dist/electron/backend.js', 'dist/electron/preload.cjs', 'guest-server/dist/guest-server.js'];

/** Whether an error means "could not fetch something from the network". */
export function isDownloadFailure(error) {
  const text = `${error?.code ?? ''} ${error?.message ?? String(error)} ${error?.cause?.code ?? ''} ${error?.cause?.message ?? ''}`;
  return /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|getaddrinfo|socket hang up|net::ERR_|RequestError|HTTPError|Response code 40[34]|download/i.test(text);
}

async function main() {
  const missing = REQUIRED_BUILD_OUTPUTS.filter((file) => !existsSync(join(root, file)));
  if (missing.length > 0) {
    console.error(`dist: missing build output: ${missing.join(', ')}. Run \`npm run build\` first (\`npm run dist\` does).`);
    process.exit(1);
  }
  if (!existsSync(join(root, 'renderer', 'dist', 'index.html'))) {
    console.warn('dist: warning: renderer/dist/index.html is missing; the packaged window will show the "UI not built" page.');
  }
  const electronVersion = JSON.parse(readFileSync(join(root, 'node_modules', 'electron', 'package.json'), 'utf8')).version;
  const { build, Platform } = await import('electron-builder');
  const config = configOverlay();
  // A full local Electron (a normal `npm ci` with network) spares the download.
  const localDist = join(root, 'node_modules', 'electron', 'dist');
  if (existsSync(join(localDist, 'electron'))) config.electronDist = localDist;
  console.log(`dist: building AppImage and deb with Electron ${electronVersion}${config.electronDist ? ' (local copy)' : ''}…`);
  try {
    const artifacts = await build({ targets: Platform.LINUX.createTarget(['AppImage', 'deb']), config, publish: 'never', projectDir: root });
    console.log(`dist: done:\n${artifacts.map((file) => `  ${file}`).join('\n')}`);
  } catch (error) {
    if (isDownloadFailure(error)) {
      console.error(
        [
          `dist: cannot build the packages: electron-builder could not download Electron ${electronVersion} for linux-x64 (${error?.message?.split('\n')[0] ?? error}).`,
          'dist: this machine has no network access to the Electron releases (the set-up installed without the Electron binary for the same reason).',
          `dist: to package here, put electron-v${electronVersion}-linux-x64.zip in the Electron cache (~/.cache/electron), or install the binary (npm ci with network) and run again.`,
        ].join('\n'),
      );
      process.exit(3);
    }
    console.error(`dist: electron-builder failed: ${error instanceof Error ? error.stack : String(error)}`);
    process.exit(1);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
