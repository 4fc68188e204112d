// What the desktop window may load: its own app:// pages and assets, data: images, and nothing else
// (no http, no ws, no file:). Navigation away from the app is never allowed. Plain Node, so the rule
// is unit-tested; the Electron glue applies it to every request and navigation.
import { urlOrigin } from '../ipc/sender';

/** The app's own scheme, registered as standard and secure so it gets a real origin. */
export const APP_SCHEME = 'app';
export const APP_HOST = 'cms';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
/** The page the window opens. */
export const APP_INDEX_URL = `${APP_ORIGIN}/index.html`;

/** Whether the window's session may fetch this URL at all. `devTools`: also the DevTools' own scheme (unpackaged runs). */
export function isRequestAllowed(url: string, options: { devTools?: boolean } = {}): boolean {
  if (url.startsWith('data:')) return true;
  if (options.devTools && url.startsWith('devtools://')) return true;
  return urlOrigin(url) === APP_ORIGIN;
}

/**
 * Whether the main frame may navigate to this URL: never. The app is one page; links to the outside
 * would turn the privileged window into a browser for someone else's content.
 */
export function isNavigationAllowed(_url: string): boolean {
  return false;
}
