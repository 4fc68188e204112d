// Maps a request path to a file under the built renderer (renderer/dist), for the web server and the
// Electron app:// protocol alike. It must never resolve outside the root (no `..`, no encoded
// separators, no NUL) and never list directories.
import { existsSync } from 'node:fs';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
};

/** The Content-Type for a file; unknown kinds are served as bytes (with nosniff, the browser will not guess). */
export function contentTypeFor(path: string): string {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * The absolute file for a URL path under rootDir, or null when the path is malformed or escapes the
 * root. `/` means index.html. Does not check that the file exists.
 */
export function resolveStaticPath(rootDir: string, urlPathname: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPathname);
  } catch {
    return null;
  }
  if (!decoded.startsWith('/') || decoded.includes('\0') || decoded.includes('\\')) return null;
  const segments = decoded.split('/').filter((segment) => segment !== '');
  if (segments.some((segment) => segment === '..' || segment === '.')) return null;
  const root = resolve(rootDir);
  const file = segments.length === 0 ? join(root, 'index.html') : join(root, ...segments);
  if (file !== root && !file.startsWith(root + sep)) return null;
  return file;
}

/** Walks up from this module to the checkout (the folder holding package.json), from sources or a bundle. */
export function findPackageRoot(startDir: string = dirname(fileURLToPath(import.meta.url))): string | null {
  let dir = startDir;
  for (let i = 0; i < 10; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
  return null;
}

/** Where the renderer engineer's vite build writes the UI: `<checkout>/renderer/dist`. */
export function defaultRendererDir(): string {
  return join(findPackageRoot() ?? process.cwd(), 'renderer', 'dist');
}

/** Served instead of the UI when renderer/dist/index.html does not exist yet. Static: no script, so the CSP holds. */
export function placeholderHtml(rendererDir: string): string {
  const escaped = rendererDir.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8"><title>Cloud Management System</title></head>',
    '<body>',
    '<h1>Cloud Management System</h1>',
    '<p><strong>The UI is not built yet.</strong> The app is running, but there is no built renderer to show.</p>',
    `<p>Looked for <code>${escaped}/index.html</code>. Run <code>npm run build</code>, then reload this page.</p>`,
    '</body></html>',
    '',
  ].join('\n');
}
