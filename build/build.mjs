#!/usr/bin/env node
// Bundles the runnable parts with esbuild: the one-file guest server (no node_modules needed in a VM)
// and the headless CLI. Type checking is separate (`npm run typecheck`); this only emits JavaScript.
import { build } from 'esbuild';
import { chmodSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const common = { bundle: true, platform: 'node', target: 'node20', sourcemap: false, logLevel: 'warning', legalComments: 'none' };

const guestOut = join(root, 'guest-server', 'dist', 'guest-server.js');
const cliOut = join(root, 'dist', 'cli', 'cms.js');

await Promise.all([
  // CommonJS so that the worker threads can start from this same file (`new Worker(__filename)`).
  build({
    ...common,
    entryPoints: [join(root, 'guest-server', 'src', 'main.ts')],
    outfile: guestOut,
    format: 'cjs',
    banner: { js: '#!/usr/bin/env node' },
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
]);
chmodSync(guestOut, 0o755);
chmodSync(cliOut, 0o755);
