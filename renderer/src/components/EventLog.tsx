// The event log: every scale decision with its inputs and reason, failures, replacements, newest
// first; filter by text and kind; export the app's whole log as JSON lines (a Blob download).
import { memo, useState } from 'react';
import { runCommand } from '../api/bind';
import { useApi, useApp, useStoreApi } from '../context';
import { describeEntry, exportFileName } from '../lib/describe-event';
import { formatTimeOfDay } from '../lib/format';
import type { EventCategoryFilter, EventRow } from '../store/events-slice';
import { selectVisibleEvents } from '../store/selectors';
import { useVirtualRows } from './use-virtual-rows';

const ROW_HEIGHT_PX = 40;

const EventLine = memo(function EventLine(props: { row: EventRow; index: number }) {
  const { entry, category } = props.row;
  const { headline, detail } = describeEntry(entry);
  return (
    <div
      className={`event-row level-${entry.level} cat-${category}`}
      style={{ transform: `translateY(${props.index * ROW_HEIGHT_PX}px)` }}
      data-testid="event-row"
      data-event={entry.event}
      title={JSON.stringify(entry, null, 1)}
    >
      <div className="event-line1">
        <span className="event-time">{formatTimeOfDay(entry.ts)}</span>
        <span className={`event-name cat-${category}`}>{entry.event}</span>
        <span className="event-headline" data-testid="event-headline">
          {headline}
        </span>
      </div>
      <div className="event-detail">{detail}</div>
    </div>
  );
});

export function EventLog() {
  const api = useApi();
  const store = useStoreApi();
  const rows = useApp(selectVisibleEvents);
  const total = useApp((s) => s.eventRows.length);
  const filter = useApp((s) => s.eventFilter);
  const [exporting, setExporting] = useState(false);
  const virtual = useVirtualRows(rows.length, ROW_HEIGHT_PX, 4);

  const onExport = async (): Promise<void> => {
    setExporting(true);
    try {
      const text = await runCommand(api, store, 'events:export', {}, 'Exporting the event log');
      if (text === undefined) return;
      const url = URL.createObjectURL(new Blob([text], { type: 'application/x-ndjson' }));
      const link = document.createElement('a');
      link.href = url;
      link.download = exportFileName(new Date());
      document.body.append(link);
      link.click();
      link.remove();
      // Give the download a moment to start before the URL is revoked.
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } finally {
      setExporting(false);
    }
  };

  const lines = [];
  for (let i = virtual.start; i < virtual.end; i++) {
    const row = rows[i];
    if (row) lines.push(<EventLine key={row.seq} row={row} index={i} />);
  }

  return (
    <section className="event-log" aria-label="Event log" data-testid="event-log">
      <div className="panel-toolbar">
        <h2>Event log</h2>
        <input
          type="search"
          placeholder="Filter events"
          aria-label="Filter events"
          data-testid="event-filter"
          value={filter.text}
          onChange={(event) => store.getState().setEventFilter({ text: event.target.value })}
        />
        <select
          aria-label="Event kind"
          data-testid="event-category"
          value={filter.category}
          onChange={(event) => store.getState().setEventFilter({ category: event.target.value as EventCategoryFilter })}
        >
          <option value="all">All events</option>
          <option value="decision">Scaling decisions</option>
          <option value="failure">Failures</option>
          <option value="member">VM lifecycle</option>
          <option value="load">Load</option>
          <option value="other">Other</option>
        </select>
        <span className="muted count">
          {rows.length === total ? total : `${rows.length} of ${total}`}
        </span>
        <button type="button" data-testid="event-export" onClick={() => void onExport()} disabled={exporting}>
          Export JSONL
        </button>
      </div>
      <div className="event-body" ref={virtual.containerRef} onScroll={virtual.onScroll} tabIndex={0}>
        <div className="event-spacer" style={{ height: `${rows.length * ROW_HEIGHT_PX}px` }}>
          {lines}
        </div>
        {rows.length === 0 && <div className="empty-note">{total === 0 ? 'No events yet.' : 'No event matches the filter.'}</div>}
      </div>
    </section>
  );
}
