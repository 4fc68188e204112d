// The combined store's type and the slice-creator type every slice file uses, kept apart so the
// slices can name the whole store without importing each other. Types only: no runtime code.
import type { StateCreator } from 'zustand/vanilla';
import type { DomainsSlice } from './domains-slice';
import type { EventsSlice } from './events-slice';
import type { LoadSlice } from './load-slice';
import type { MetricsSlice } from './metrics-slice';
import type { ScalingSlice } from './scaling-slice';
import type { SessionSlice } from './session-slice';

export type AppStore = DomainsSlice & LoadSlice & ScalingSlice & MetricsSlice & EventsSlice & SessionSlice;

/** A slice of the combined store; the middleware list matches the one store.ts applies. */
export type SliceCreator<Slice> = StateCreator<AppStore, [['zustand/subscribeWithSelector', never]], [], Slice>;
