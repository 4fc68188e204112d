// Renderer entry: picks the carrier (the preload's window.cms on the desktop, else the WebSocket
// client of the web mode), binds it to the one store outside React, and renders the UI. It runs in a
// sandboxed page: no Node, no Electron, only the contract.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import 'uplot/dist/uPlot.min.css';
import type { CmsApi } from '../../electron/contract/contract';
import { bindCarrier, type StatusSource } from './api/bind';
import { createWebClient, socketUrlFromLocation, type WebClient } from './api/web-client';
import { App } from './components/App';
import { AppContext } from './context';
import { createAppStore } from './store/store';
import './styles.css';

declare global {
  interface Window {
    /** Exposed by the Electron preload (contextBridge); absent in a browser. */
    cms?: CmsApi;
    /** For the UI benchmark and e2e tests: the store and the carrier's counters. */
    __cms?: { store: ReturnType<typeof createAppStore>; stats?: () => ReturnType<WebClient['stats']> };
  }
}

/** A carrier that never connects: the page explains why instead of showing an empty list. */
function offlineApi(reason: string): CmsApi & StatusSource {
  return {
    carrier: 'web',
    invoke: () => Promise.reject(Object.assign(new Error(reason), { code: 'unavailable' })),
    on: () => () => undefined,
    status: () => 'closed',
    onStatus: () => () => undefined,
  };
}

function pickCarrier(): { api: CmsApi; status?: StatusSource; stats?: WebClient['stats']; close?: () => void } {
  if (window.cms) return { api: window.cms };
  const url = socketUrlFromLocation(window.location);
  if (url === null) {
    const offline = offlineApi('this address has no token: open the URL that `cms serve` printed');
    return { api: offline, status: offline };
  }
  const client = createWebClient({ url, WebSocketImpl: WebSocket });
  window.addEventListener('pagehide', () => client.close());
  return { api: client, status: client, stats: client.stats, close: () => client.close() };
}

const carrier = pickCarrier();
const store = createAppStore(carrier.api.carrier);
bindCarrier(carrier.api, store, carrier.status ? { statusSource: carrier.status } : {});
if (carrier.status && carrier.status.status() === 'closed') {
  store.getState().setConnection('closed', 'this address has no token: open the URL that `cms serve` printed');
}
window.__cms = { store, ...(carrier.stats ? { stats: carrier.stats } : {}) };
// Once the app has quit there is nothing to reconnect to.
store.subscribe(
  (s) => s.quitProgress?.finished === true,
  (finished) => {
    if (finished) carrier.close?.();
  },
);

const rootElement = document.getElementById('root');
if (!rootElement) throw new Error('index.html has no #root element');
createRoot(rootElement).render(
  <StrictMode>
    <AppContext.Provider value={{ api: carrier.api, store }}>
      <App />
    </AppContext.Provider>
  </StrictMode>,
);
