// The connections sidebar: each libvirt host with its URI, connection status, CPUs and memory;
// clicking one shows only its VMs; add a connection by URI, remove one (after a confirmation).
import { useCallback, useState, type FormEvent } from 'react';
import type { HostView } from '../../../electron/contract/contract';
import { runCommand } from '../api/bind';
import { useApi, useApp, useStoreApi } from '../context';
import { formatMemoryKiB } from '../lib/format';
import { hostLabelFor } from '../store/selectors';
import { ConfirmDialog } from './ConfirmDialog';

export function HostsPanel() {
  const api = useApi();
  const store = useStoreApi();
  const hosts = useApp((s) => s.hosts);
  const hostFilter = useApp((s) => s.filter.hostId);
  const domainCounts = useApp((s) => s.domainKeys.length);
  const [uri, setUri] = useState('');
  const [adding, setAdding] = useState(false);
  const [removing, setRemoving] = useState<HostView | null>(null);

  const onAdd = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    const value = uri.trim();
    if (value === '') return;
    setAdding(true);
    try {
      const added = await runCommand(api, store, 'host:add', { uri: value }, `Connecting to ${value}`);
      if (added) setUri('');
    } finally {
      setAdding(false);
    }
  };

  const cancelRemove = useCallback(() => setRemoving(null), []);

  return (
    <section className="panel hosts-panel" aria-label="Connections" data-testid="hosts-panel">
      <h2>Connections</h2>
      <ul className="host-list">
        <li>
          <button type="button" className={`host-all${hostFilter === null ? ' active' : ''}`} onClick={() => store.getState().setFilter({ hostId: null })}>
            All hosts <span className="muted">({domainCounts} VMs)</span>
          </button>
        </li>
        {hosts.map((host) => (
          <li key={host.id} className={`host-item${hostFilter === host.id ? ' active' : ''}`} data-testid="host-item" data-host-id={host.id} data-status={host.status}>
            <button type="button" className="host-select" onClick={() => store.getState().setFilter({ hostId: hostFilter === host.id ? null : host.id })} title={host.lastError ?? host.uri}>
              <span className={`status-dot status-${host.status}`} aria-hidden="true" />
              <span className="host-name">{hostLabelFor(hosts, host.id)}</span>
              <span className={`host-status status-${host.status}`}>{host.status}</span>
              <span className="host-uri">{host.uri}</span>
              <span className="host-facts">
                {host.cpus ?? '?'} CPUs · {formatMemoryKiB(host.memoryKiB)}
                {host.sandbox ? ' · sandbox' : ''}
              </span>
              {host.lastError && host.status !== 'connected' && <span className="host-error">{host.lastError}</span>}
            </button>
            <button type="button" className="icon-button" aria-label={`Remove ${host.uri}`} data-testid="host-remove" onClick={() => setRemoving(host)}>
              ×
            </button>
          </li>
        ))}
      </ul>
      <form className="host-add" onSubmit={(event) => void onAdd(event)}>
        <input
          type="text"
          placeholder="qemu+ssh://host/system"
          aria-label="libvirt URI to add"
          data-testid="host-add-uri"
          value={uri}
          onChange={(event) => setUri(event.target.value)}
          spellCheck={false}
        />
        <button type="submit" data-testid="host-add" disabled={adding || uri.trim() === ''}>
          {adding ? 'Adding…' : 'Add'}
        </button>
      </form>
      <ConfirmDialog
        open={removing !== null}
        title={`Remove ${removing?.hostname ?? removing?.uri ?? ''}?`}
        confirmLabel="Remove"
        danger
        onCancel={cancelRemove}
        onConfirm={() => {
          const host = removing;
          setRemoving(null);
          if (host) void runCommand(api, store, 'host:remove', { hostId: host.id }, `Removing ${host.uri}`);
        }}
      >
        <p>The app closes this connection; its VMs are left as they are. A host that still holds pool members cannot be removed: scale them away first.</p>
      </ConfirmDialog>
    </section>
  );
}
