// React access to the one store and the carrier: a context carrying both, and hooks that read the
// store through selectors. Components never hold the carrier or the store in module globals, so the
// same tree runs on the desktop carrier, the web client or a test stub.
import { createContext, useContext } from 'react';
import { useStore } from 'zustand';
import type { CmsApi } from '../../electron/contract/contract';
import type { AppStore, AppStoreApi } from './store/store';

export interface AppContextValue {
  api: CmsApi;
  store: AppStoreApi;
}

export const AppContext = createContext<AppContextValue | null>(null);

function useAppContext(): AppContextValue {
  const value = useContext(AppContext);
  if (!value) throw new Error('AppContext missing: render the UI inside <AppContext.Provider>');
  return value;
}

/** Reads the store through a selector; wrap selectors that build arrays/objects in useShallow. */
export function useApp<T>(selector: (state: AppStore) => T): T {
  return useStore(useAppContext().store, selector);
}

export function useApi(): CmsApi {
  return useAppContext().api;
}

export function useStoreApi(): AppStoreApi {
  return useAppContext().store;
}
