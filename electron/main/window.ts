// The app window and its session, locked down: context isolation, OS sandbox, no Node in the page,
// web security on, CSP on every response, no navigation, no new windows, no permissions, no requests
// outside app://. Glue only: every rule it applies is decided in electron/core.
import { BrowserWindow, type Session } from 'electron';
import { APP_INDEX_URL, isNavigationAllowed, isRequestAllowed } from '../core/desktop/navigation';

export interface MainWindowOptions {
  /** dist/electron/preload.cjs */
  preload: string;
  icon?: string;
  /** Allow DevTools (unpackaged runs only). */
  devTools: boolean;
}

/** Session-wide rules; run once, before the window loads anything. */
export function hardenSession(session: Session, csp: string, devTools: boolean): void {
  session.setPermissionRequestHandler((_webContents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  session.webRequest.onBeforeRequest((details, callback) => callback({ cancel: !isRequestAllowed(details.url, { devTools }) }));
  // Electronegativity CSP_GLOBAL_CHECK (LOW, manual review) points here because the policy is built at
  // run time: it is core/web/csp.ts's contentSecurityPolicy() (default-src 'none', script-src 'self',
  // no unsafe-*), also set on every app:// response by protocol.ts; desktop-decisions.test.ts checks it.
  session.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [csp] } });
  });
}

export function createMainWindow(options: MainWindowOptions): BrowserWindow {
  const window = new BrowserWindow({
    width: 1360,
    height: 860,
    minWidth: 900,
    minHeight: 560,
    show: false,
    title: 'Cloud Management System',
    icon: options.icon,
    backgroundColor: '#1e1e1e',
    // Electronegativity PRELOAD_JS_CHECK (MEDIUM, manual review) asks that the preload be reviewed: it is
    // electron/preload/preload.ts, sandboxed, and exposes only the contract's invoke/on over contextBridge
    // (commands and events checked against the contract's names), never ipcRenderer itself.
    webPreferences: {
      preload: options.preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      safeDialogs: true,
      spellcheck: false,
      devTools: options.devTools,
      // Middle-click would open links in new windows; the app has none to open.
      disableBlinkFeatures: 'Auxclick',
    },
  });
  const contents = window.webContents;
  contents.on('will-navigate', (event, url) => {
    if (!isNavigationAllowed(url)) event.preventDefault();
  });
  contents.on('will-redirect', (event, url) => {
    if (!isNavigationAllowed(url)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  window.once('ready-to-show', () => window.show());
  void window.loadURL(APP_INDEX_URL);
  return window;
}
