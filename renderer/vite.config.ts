// Vite build of the renderer into renderer/dist: one self-contained page for both carriers (the
// Electron window and `cms serve`). It must emit no inline script, style or data: asset, so that the
// strict CSP (`script-src 'self'; style-src 'self'`) holds; it never runs the app itself.
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// import.meta.dirname rather than node:path/node:url: the lint rules for renderer/ forbid Node
// imports (this file is the one piece of renderer/ that runs in Node, and needs none).
const rendererDir = import.meta.dirname;

export default defineConfig({
  root: rendererDir,
  // Relative asset URLs: the page loads from `/?token=…` over HTTP and from a file or app protocol in Electron.
  base: './',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // A data: URL would need `img-src data:`/`font-src data:`; emit every asset as a file instead.
    assetsInlineLimit: 0,
    // The polyfill is only for browsers without modulepreload (Chromium has it); leaving it out keeps the
    // entry chunk free of feature detection that could otherwise be emitted inline.
    modulePreload: { polyfill: false },
    sourcemap: false,
    target: 'chrome120',
    chunkSizeWarningLimit: 1024,
  },
});
