// Wires a carrier (the preload's window.cms or the web client) to the store with plain functions,
// outside React: push events become store updates, batched so the page applies at most ~10 state
// updates a second whatever the carrier sends; every (re)connection starts with a full `state:get`.
import { logEntrySchema, type CmsApi, type CommandInput, type CommandName, type CommandOutput, type LogEntryView } from '../../../electron/contract/contract';
import type { AppStoreApi, PlainStoreApi } from '../store/store';
import { createThrottle, globalTimers, type ConnectionStatus, type Timers } from './connection';

/** What the binding needs to follow a carrier's connection; the desktop carrier is always open. */
export interface StatusSource {
  status(): ConnectionStatus;
  onStatus(listener: (status: ConnectionStatus, detail: string | null) => void): () => void;
}

export interface BindOptions {
  /** Shortest gap between two store updates from state pushes or log entries, ms. @default 100 */
  batchIntervalMs?: number;
  /** Follows the connection; without it the carrier counts as always connected. */
  statusSource?: StatusSource;
  timers?: Timers;
  /** Page clock, ms (history points and notification times). @default Date.now */
  nowMs?: () => number;
}

/** Subscribes the store to the carrier; returns the function that undoes it. */
export function bindCarrier(api: CmsApi, store: AppStoreApi, options: BindOptions = {}): () => void {
  const nowMs = options.nowMs ?? (() => Date.now());
  const timers = options.timers ?? globalTimers;
  const intervalMs = options.batchIntervalMs ?? 100;
  let latestState: Parameters<ReturnType<AppStoreApi['getState']>['applyAppState']>[0] | null = null;
  let entries: LogEntryView[] = [];

  const throttle = createThrottle(
    intervalMs,
    () => {
      const state = store.getState();
      if (latestState !== null) {
        state.applyAppState(latestState, nowMs());
        latestState = null;
      }
      if (entries.length > 0) {
        const batch = entries;
        entries = [];
        state.appendEntries(batch);
      }
    },
    timers,
    nowMs,
  );

  let resyncSerial = 0;
  const resync = (): void => {
    const serial = ++resyncSerial;
    const failed = (what: string) => (error: unknown): void => {
      store.getState().setConnection(store.getState().connection, `could not read ${what}: ${error instanceof Error ? error.message : String(error)}`);
    };
    api.invoke('state:get', {}).then((state) => {
      // A push that arrived after this answer was sent is newer: keep it.
      if (serial === resyncSerial && latestState === null) store.getState().applyAppState(state, nowMs());
    }, failed('the app state'));
    // The decisions and failures from before this page connected.
    api.invoke('events:export', {}).then((text) => {
      if (serial === resyncSerial) store.getState().seedEntries(parseEventLines(text));
    }, failed('the event log'));
  };

  const offs = [
    api.on('state:update', (state) => {
      latestState = state;
      throttle.request();
    }),
    api.on('metrics:sample', (sample) => store.getState().applySample(sample)),
    api.on('events:entry', (entry) => {
      entries.push(entry);
      throttle.request();
    }),
    api.on('notify:error', (note) => store.getState().notify(note, nowMs())),
    api.on('quit:progress', (progress) => store.getState().setQuitProgress(progress)),
  ];

  const source = options.statusSource;
  if (source) {
    offs.push(
      source.onStatus((status, detail) => {
        store.getState().setConnection(status, detail);
        if (status === 'open') resync();
      }),
    );
    store.getState().setConnection(source.status());
    if (source.status() === 'open') resync();
  } else {
    store.getState().setConnection('open');
    resync();
  }

  return () => {
    for (const off of offs) off();
    throttle.cancel();
  };
}

/** Entries of an events:export text (JSON lines); a line that does not parse as an entry is skipped. */
export function parseEventLines(text: string): LogEntryView[] {
  const entries: LogEntryView[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const parsed = logEntrySchema.safeParse(JSON.parse(line));
      if (parsed.success) entries.push(parsed.data);
    } catch {
      // A torn or foreign line: the rest of the log is still worth showing.
    }
  }
  return entries;
}

/** The error text a notification shows: the app's message, with its code when it adds something. */
export function errorText(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' && !error.message.includes(code) ? `${error.message} (${code})` : error.message;
  }
  return String(error);
}

/**
 * Runs a command for the UI: a failure becomes a notification naming what failed, and the result is
 * undefined. Components call this instead of api.invoke so no rejection goes unreported.
 */
export async function runCommand<C extends CommandName>(
  api: CmsApi,
  store: PlainStoreApi,
  channel: C,
  payload: CommandInput<C>,
  what: string,
): Promise<CommandOutput<C> | undefined> {
  try {
    return await api.invoke(channel, payload);
  } catch (error) {
    store.getState().notify({ title: `${what} failed`, message: errorText(error), vm: null }, Date.now());
    return undefined;
  }
}
