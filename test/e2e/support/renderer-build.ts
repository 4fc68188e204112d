// Builds the renderer (vite, renderer/vite.config.ts → renderer/dist) for the e2e tests and the UI
// bench when the bundle is missing or older than its sources. Build only: it serves nothing.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const RENDERER_DIST = join(ROOT, 'renderer', 'dist');
const INDEX = join(RENDERER_DIST, 'index.html');

function newestMtimeMs(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtimeMs(join(path, entry)));
  return newest;
}

/** Runs `vite build` when renderer/dist is older than renderer/ sources or the contract. */
export function ensureRendererBuilt(): string {
  const inputs = [join(ROOT, 'renderer', 'src'), join(ROOT, 'renderer', 'index.html'), join(ROOT, 'renderer', 'public'), join(ROOT, 'renderer', 'vite.config.ts'), join(ROOT, 'electron', 'contract')];
  const fresh = existsSync(INDEX) && statSync(INDEX).mtimeMs >= Math.max(...inputs.map(newestMtimeMs));
  if (fresh) return RENDERER_DIST;
  const result = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'renderer/vite.config.ts', '--logLevel', 'warn'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`vite build failed (${result.status}): ${result.stderr || result.stdout}`);
  return RENDERER_DIST;
}
