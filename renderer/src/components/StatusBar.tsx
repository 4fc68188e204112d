// The status bar: pool status (healthy/desired, req/s, p95), progress while members clone and boot,
// the sandbox note when VMs are simulated, and the carrier's connection state.
import { useShallow } from 'zustand/react/shallow';
import { useApp } from '../context';
import { formatMs, formatRps } from '../lib/format';
import { selectPoolSummary } from '../store/selectors';

const connectionText = {
  connecting: 'Connecting…',
  open: 'Connected',
  reconnecting: 'Reconnecting…',
  refused: 'Refused by the app',
  closed: 'Disconnected',
} as const;

export function StatusBar() {
  const summary = useApp(useShallow(selectPoolSummary));
  const note = useApp((s) => s.sandboxNote);
  const connection = useApp((s) => s.connection);
  const detail = useApp((s) => s.connectionDetail);
  const carrier = useApp((s) => s.carrier);

  const starting = summary !== null && summary.booting > 0;
  return (
    <footer className="status-bar" data-testid="status-bar">
      {summary ? (
        <span className="status-pool" data-testid="status-pool">
          <strong>
            {summary.healthy}/{summary.desired}
          </strong>{' '}
          VMs healthy · {formatRps(summary.servedRps)} req/s served of {formatRps(summary.offeredRps)} · p95 {formatMs(summary.p95Ms)}
          {summary.warm > 0 ? ` · ${summary.warm} warm` : ''}
        </span>
      ) : (
        <span className="status-pool muted">No pool status yet</span>
      )}
      {starting && summary && (
        <span className="status-progress" data-testid="status-booting" title="Members cloning or booting">
          <progress max={Math.max(1, summary.desired)} value={summary.healthy} />
          {summary.booting} cloning/booting
        </span>
      )}
      {note && (
        <span className="status-note" data-testid="sandbox-note" title={note}>
          {note}
        </span>
      )}
      <span className={`status-connection conn-${connection}`} data-testid="connection-status" title={detail ?? undefined}>
        {carrier === 'desktop' ? 'Desktop' : 'Web'} · {connectionText[connection]}
      </span>
    </footer>
  );
}
