// The events slice: the event log (decisions with inputs and reasons, failures, replacements) as it
// arrives, capped; its filter; the error notifications; and quit progress. No I/O, no React.
import type { LogEntryView, PushEventPayload } from '../../../electron/contract/contract';
import type { SliceCreator } from './types';

/** Entries kept in the page; the app keeps more and exports all of them. */
export const EVENT_LOG_CAPACITY = 2000;
/** Notifications kept; older ones are dropped even if not dismissed. */
export const NOTIFICATION_CAPACITY = 6;

export type EventCategory = 'decision' | 'failure' | 'member' | 'load' | 'other';
export type EventCategoryFilter = 'all' | EventCategory;

export interface EventRow {
  /** Page-local sequence number: a stable React key. */
  seq: number;
  category: EventCategory;
  entry: LogEntryView;
}

export interface Notification {
  id: number;
  title: string;
  message: string;
  /** The VM the error is about, when there is one. */
  vm: string | null;
  atMs: number;
}

export interface EventsState {
  /** Oldest first. */
  eventRows: readonly EventRow[];
  nextSeq: number;
  eventFilter: { text: string; category: EventCategoryFilter };
  notifications: readonly Notification[];
  nextNotificationId: number;
  quitProgress: PushEventPayload<'quit:progress'> | null;
}

export interface EventsActions {
  appendEntries(entries: readonly LogEntryView[]): void;
  /** The app's log so far (events:export at connect): merged with what already arrived, no duplicates. */
  seedEntries(history: readonly LogEntryView[]): void;
  setEventFilter(patch: Partial<EventsState['eventFilter']>): void;
  notify(note: { title: string; message: string; vm: string | null }, atMs: number): void;
  dismissNotification(id: number): void;
  setQuitProgress(progress: PushEventPayload<'quit:progress'>): void;
}

export type EventsSlice = EventsState & EventsActions;

export function initialEventsState(): EventsState {
  return { eventRows: [], nextSeq: 1, eventFilter: { text: '', category: 'all' }, notifications: [], nextNotificationId: 1, quitProgress: null };
}

/** Which filter group an entry belongs to, from its event name and level. */
export function categorize(entry: LogEntryView): EventCategory {
  const event = entry.event;
  if (event.startsWith('scale_') || event === 'policy_set' || event.startsWith('autoscaling_')) return 'decision';
  if (entry.level === 'error' || entry.level === 'warn' || /fail|eject|reject|lost|crash/.test(event)) return 'failure';
  if (event.startsWith('member_') || event.startsWith('host_') || event.startsWith('shutdown_')) return 'member';
  if (event.startsWith('load_')) return 'load';
  return 'other';
}

/** The entries appended, the oldest dropped beyond capacity. */
export function appendEventRows(state: Pick<EventsState, 'eventRows' | 'nextSeq'>, entries: readonly LogEntryView[]): Pick<EventsState, 'eventRows' | 'nextSeq'> {
  if (entries.length === 0) return state;
  let seq = state.nextSeq;
  const added = entries.map((entry) => ({ seq: seq++, category: categorize(entry), entry }));
  const all = state.eventRows.concat(added);
  return { eventRows: all.length > EVENT_LOG_CAPACITY ? all.slice(all.length - EVENT_LOG_CAPACITY) : all, nextSeq: seq };
}

/**
 * The log as the app has it, followed by the entries that arrived here and are not in it (pushed
 * after the export was taken). Entries are compared by their JSON text: the app sends each one
 * unchanged in both places.
 */
export function seedEventRows(state: Pick<EventsState, 'eventRows' | 'nextSeq'>, history: readonly LogEntryView[]): Pick<EventsState, 'eventRows' | 'nextSeq'> {
  const known = new Set(history.map((entry) => JSON.stringify(entry)));
  const newer = state.eventRows.filter((row) => !known.has(JSON.stringify(row.entry))).map((row) => row.entry);
  return appendEventRows({ eventRows: [], nextSeq: state.nextSeq }, [...history.slice(Math.max(0, history.length - EVENT_LOG_CAPACITY)), ...newer]);
}

/**
 * Progress never goes backwards on screen: the last report may count only what was left (0 of 0)
 * when the pool was already down, so the largest total seen stays, and a finished shutdown is complete.
 */
export function mergeQuitProgress(prev: EventsState['quitProgress'], next: PushEventPayload<'quit:progress'>): PushEventPayload<'quit:progress'> {
  const total = Math.max(prev?.total ?? 0, next.total);
  const done = next.finished ? total : Math.min(total, Math.max(prev?.done ?? 0, next.done));
  return { done, total, finished: next.finished || (prev?.finished ?? false) };
}

export const createEventsSlice: SliceCreator<EventsSlice> = (set) => ({
  ...initialEventsState(),
  appendEntries: (entries) => set((s) => appendEventRows(s, entries)),
  seedEntries: (history) => set((s) => seedEventRows(s, history)),
  setEventFilter: (patch) => set((s) => ({ eventFilter: { ...s.eventFilter, ...patch } })),
  notify: (note, atMs) =>
    set((s) => {
      const added: Notification = { id: s.nextNotificationId, title: note.title, message: note.message, vm: note.vm, atMs };
      const all = [...s.notifications, added];
      return { notifications: all.slice(Math.max(0, all.length - NOTIFICATION_CAPACITY)), nextNotificationId: s.nextNotificationId + 1 };
    }),
  dismissNotification: (id) => set((s) => ({ notifications: s.notifications.filter((note) => note.id !== id) })),
  setQuitProgress: (progress) => set((s) => ({ quitProgress: mergeQuitProgress(s.quitProgress, progress) })),
});
