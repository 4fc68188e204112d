// The UI's event log: the last N log entries at info and above (decisions with their reasons,
// failures, replacements), with subscribers and a JSON-lines export. Memory only; the file log
// (JsonLineLogger) stays the durable record.
import type { LogEntry } from '../metrics/log';

export class EventLog {
  private readonly entries: LogEntry[] = [];
  private readonly listeners = new Set<(entry: LogEntry) => void>();

  constructor(
    /** Entries kept; the oldest go first. @default 5000 */
    private readonly capacity = 5000,
  ) {}

  push(entry: LogEntry): void {
    this.entries.push(entry);
    if (this.entries.length > this.capacity) this.entries.splice(0, this.entries.length - this.capacity);
    for (const listener of this.listeners) {
      try {
        listener(entry);
      } catch {
        // A failing subscriber must not stop the others or the logger.
      }
    }
  }

  subscribe(listener: (entry: LogEntry) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  list(): LogEntry[] {
    return [...this.entries];
  }

  exportJsonLines(): string {
    return this.entries.map((entry) => JSON.stringify(entry)).join('\n') + (this.entries.length > 0 ? '\n' : '');
  }
}
