// Serves the built renderer to the window over the app:// scheme (a real, secure origin, unlike
// file://), with the CSP on every response. Glue only: path resolution and the CSP come from core.
import { readFile } from 'node:fs/promises';
import { protocol, type Session } from 'electron';
import { APP_HOST, APP_SCHEME } from '../core/desktop/navigation';
import { SECURITY_HEADERS } from '../core/web/csp';
import { contentTypeFor, placeholderHtml, resolveStaticPath } from '../core/web/static';

/** Must run before the app is ready. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
}

export function serveAppScheme(session: Session, rendererDir: string, csp: string): void {
  const headers = (contentType: string): Record<string, string> => ({ ...SECURITY_HEADERS, 'Content-Security-Policy': csp, 'Content-Type': contentType });
  session.protocol.handle(APP_SCHEME, async (request) => {
    const url = new URL(request.url);
    const file = url.host === APP_HOST ? resolveStaticPath(rendererDir, url.pathname) : null;
    if (file === null) return new Response('not found', { status: 404, headers: headers('text/plain; charset=utf-8') });
    try {
      const body = await readFile(file);
      return new Response(new Uint8Array(body), { status: 200, headers: headers(contentTypeFor(file)) });
    } catch {
      if (url.pathname === '/' || url.pathname === '/index.html') {
        return new Response(placeholderHtml(rendererDir), { status: 200, headers: headers('text/html; charset=utf-8') });
      }
      return new Response('not found', { status: 404, headers: headers('text/plain; charset=utf-8') });
    }
  });
}
