// One-line text for event-log entries: a scale decision reads "2 → 3: <reason>" with its inputs
// spelled out ("utilization 85 % · healthy 2 · offered 12 req/s"), other entries show their fields.
// Pure: no DOM, no store.
import type { LogEntryView } from '../../../electron/contract/contract';
import { formatMs, formatPercent, formatRps } from './format';

const str = (value: unknown): string | null => (typeof value === 'string' ? value : typeof value === 'number' ? String(value) : null);
const num = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The autoscaler's inputs (its ScalingSummary) as short labelled values; unknown fields as key=value. */
export function describeInputs(inputs: unknown): string {
  if (!isRecord(inputs)) return '';
  const parts: string[] = [];
  const known = new Set<string>();
  const add = (key: string, label: string, format: (value: number) => string): void => {
    known.add(key);
    const value = inputs[key];
    if (value === null) parts.push(`${label} —`);
    else if (num(value) !== null) parts.push(`${label} ${format(num(value) ?? 0)}`);
  };
  add('utilization', 'utilization', (v) => formatPercent(v * 100));
  add('inflightPerMember', 'in flight/member', (v) => v.toFixed(1));
  add('p95Ms', 'p95', formatMs);
  add('current', 'current', String);
  add('healthy', 'healthy', String);
  add('booting', 'booting', String);
  add('warmed', 'warmed', String);
  add('warming', 'warming', String);
  add('offeredRps', 'offered', (v) => `${formatRps(v)} req/s`);
  add('servedRps', 'served', (v) => `${formatRps(v)} req/s`);
  for (const [key, value] of Object.entries(inputs)) {
    if (known.has(key)) continue;
    const text = str(value);
    if (text !== null) parts.push(`${key} ${text}`);
  }
  return parts.join(' · ');
}

const hidden = new Set(['ts', 'level', 'event']);

function fieldsText(entry: LogEntryView, skip: ReadonlySet<string>): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(entry)) {
    if (hidden.has(key) || skip.has(key) || value === undefined) continue;
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    parts.push(`${key}=${text.length > 120 ? `${text.slice(0, 117)}…` : text}`);
  }
  return parts.join(' ');
}

/** The entry's headline (what happened) and detail (why / with which inputs). */
export function describeEntry(entry: LogEntryView): { headline: string; detail: string } {
  const name = str(entry.name);
  switch (entry.event) {
    case 'scale_up':
    case 'scale_down':
    case 'scale_hold': {
      const reason = str(entry.reason) ?? '';
      const from = str(entry.from) ?? '?';
      const to = str(entry.to) ?? '?';
      return { headline: `${from} → ${to}${reason ? `: ${reason}` : ''}`, detail: [str(entry.policy), describeInputs(entry.inputs)].filter(Boolean).join(' · ') };
    }
    case 'member_failed':
    case 'member_ejected':
      return { headline: `${name ?? str(entry.uuid) ?? 'member'}: ${str(entry.reason) ?? 'failed'}${entry.replacing === true ? ' (replacing)' : ''}`, detail: fieldsText(entry, new Set(['name', 'uuid', 'reason', 'replacing'])) };
    case 'action_failed':
      return { headline: `${str(entry.action) ?? 'action'} ${name ?? ''}: ${str(entry.message) ?? ''}`.trim(), detail: '' };
    default:
      return { headline: name ?? '', detail: fieldsText(entry, new Set(name ? ['name'] : [])) };
  }
}

/** The file name an export gets: cms-events-2025-01-31T10-20-30.jsonl. */
export function exportFileName(now: Date): string {
  return `cms-events-${now.toISOString().slice(0, 19).replace(/:/g, '-')}.jsonl`;
}
