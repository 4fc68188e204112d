#!/usr/bin/env node
// Bundles the runnable parts with esbuild: the one-file guest server (no node_modules needed in a VM),
// the headless CLI, the Electron main/backend/preload; then the renderer with vite when it has a
// config. Type checking is separate (`npm run typecheck`); this only emits JavaScript.
import { build } from 'esbuild';
import { chmodSync, existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const common = { bundle: true, platform: 'node', target: 'node20', sourcemap: false, logLevel: 'warning', legalComments: 'none' };

const guestOut = join(root, 'guest-server', 'dist', 'guest-server.js');
const cliOut = join(root, 'dist', 'cli', 'cms.js');
const electronOut = join(root, 'dist', 'electron');

// The collide worker, bundled alone and embedded in the guest server as a string: each worker
// thread then parses a few kilobytes, not the whole server (seconds per boot under TCG).
const workerBundle = await build({ ...common, entryPoints: [join(root, 'guest-server', 'src', 'worker-entry.ts')], write: false, format: 'cjs', minify: true });
const workerSource = workerBundle.outputFiles[0].text;

await Promise.all([
  // CommonJS, one file: it runs with plain `node` in a VM, with no node_modules.
  build({
    ...common,
    entryPoints: [join(root, 'guest-server', 'src', 'main.ts')],
    define: { __CMS_WORKER_SOURCE__: JSON.stringify(workerSource) },
    outfile: guestOut,
    format: 'cjs',
    banner: { js: '#!/usr/bin/env node' },
    // Minified (names kept for stack traces): every worker thread parses this file again, and under
    // TCG emulation parsing dominates a guest's time from boot to serving.
    minify: true,
    keepNames: true,
  }),
  // ESM, with every npm package left external: @unraid/libvirt is a native addon.
  build({
    ...common,
    entryPoints: [join(root, 'electron', 'cli', 'cms.ts')],
    outfile: cliOut,
    format: 'esm',
    packages: 'external',
    banner: { js: '#!/usr/bin/env node' },
  }),
  // Electron main and the control-plane utility process: ESM like the CLI (core reads import.meta.url),
  // npm packages external (electron-builder ships production dependencies; the libvirt addon is N-API).
  build({
    ...common,
    entryPoints: { main: join(root, 'electron', 'main', 'main.ts'), backend: join(root, 'electron', 'main', 'backend.ts') },
    outdir: electronOut,
    format: 'esm',
    packages: 'external',
  }),
  // A sandboxed preload must be one CommonJS file that requires nothing but 'electron'.
  build({
    ...common,
    entryPoints: [join(root, 'electron', 'preload', 'preload.ts')],
    outfile: join(electronOut, 'preload.cjs'),
    platform: 'browser',
    target: 'chrome120',
    format: 'cjs',
    external: ['electron'],
    minify: true,
  }),
]);
chmodSync(guestOut, 0o755);
chmodSync(cliOut, 0o755);

/** Newest modification time under a path (files only), skipping build output and dependencies. */
function newestMtimeMs(path) {
  if (!existsSync(path)) return 0;
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(path)) {
    if (entry === 'dist' || entry === 'node_modules') continue;
    newest = Math.max(newest, newestMtimeMs(join(path, entry)));
  }
  return newest;
}

// The renderer, once it has a vite config; skipped when renderer/dist is newer than its inputs, so
// that a second `npm start` or `npm test` with nothing changed stays fast.
const rendererDir = join(root, 'renderer');
const viteConfig = join(rendererDir, 'vite.config.ts');
if (existsSync(viteConfig)) {
  const builtIndex = join(rendererDir, 'dist', 'index.html');
  const inputsMs = Math.max(newestMtimeMs(rendererDir), newestMtimeMs(join(root, 'electron', 'contract')), newestMtimeMs(join(root, 'package-lock.json')));
  if (!existsSync(builtIndex) || statSync(builtIndex).mtimeMs < inputsMs) {
    const { build: viteBuild } = await import('vite');
    await viteBuild({ configFile: viteConfig, logLevel: 'warn' });
  }
}
