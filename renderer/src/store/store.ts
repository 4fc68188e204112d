// The one renderer store, combined from its slices (domains, load, scaling, metrics, events,
// session). Middleware is applied here only, never inside a slice. A vanilla store, so that plain
// functions (the carrier binding, tests in Node) use it without React.
import { subscribeWithSelector } from 'zustand/middleware';
import { createStore, type StoreApi } from 'zustand/vanilla';
import { createDomainsSlice } from './domains-slice';
import { createEventsSlice } from './events-slice';
import { createLoadSlice } from './load-slice';
import { createMetricsSlice } from './metrics-slice';
import { createScalingSlice } from './scaling-slice';
import { createSessionSlice } from './session-slice';
import type { AppStore } from './types';

export type { AppStore } from './types';

/** The store with subscribeWithSelector's `subscribe(selector, listener)`, which the charts use. */
export type AppStoreApi = ReturnType<typeof createAppStore>;

export function createAppStore(carrier: 'desktop' | 'web' = 'web') {
  const store = createStore<AppStore>()(
    subscribeWithSelector((...args) => ({
      ...createDomainsSlice(...args),
      ...createLoadSlice(...args),
      ...createScalingSlice(...args),
      ...createMetricsSlice(...args),
      ...createEventsSlice(...args),
      ...createSessionSlice(...args),
    })),
  );
  store.setState({ carrier });
  return store;
}

/** For code that only reads and writes (no selector subscriptions). */
export type PlainStoreApi = StoreApi<AppStore>;
