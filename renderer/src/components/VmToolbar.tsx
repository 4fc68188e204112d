// The VM list's toolbar: bulk actions on the selection (Run, Shut Down, Force Off, Pause, Resume,
// Reboot, Delete clone; the destructive ones confirm in a modal), and the text and role filters.
// A button is enabled when the action applies to at least one selected VM; only those are sent.
import { useCallback, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { DomainActionName } from '../../../electron/contract/contract';
import { runCommand } from '../api/bind';
import { useApi, useApp, useStoreApi } from '../context';
import type { RoleFilter } from '../store/domains-slice';
import { actionApplies, actionTargets, destructiveActions, selectSelectedDomains } from '../store/selectors';
import { ConfirmDialog } from './ConfirmDialog';

const actions: ReadonlyArray<{ action: DomainActionName; label: string; verb: string }> = [
  { action: 'start', label: 'Run', verb: 'Run' },
  { action: 'shutdown', label: 'Shut Down', verb: 'Shut down' },
  { action: 'forceoff', label: 'Force Off', verb: 'Force off' },
  { action: 'suspend', label: 'Pause', verb: 'Pause' },
  { action: 'resume', label: 'Resume', verb: 'Resume' },
  { action: 'reboot', label: 'Reboot', verb: 'Reboot' },
  { action: 'delete', label: 'Delete clone', verb: 'Delete' },
];

const consequences: Partial<Record<DomainActionName, string>> = {
  shutdown: 'The guests get an ACPI shutdown request; work in progress on them ends.',
  forceoff: 'Like pulling the power cord: the guests stop at once without shutting down.',
  reboot: 'The guests restart; requests in flight on them fail and are retried elsewhere.',
  delete: 'The clones are shut down, undefined and their overlay disks removed. The pool replaces them if it needs to.',
};

export function VmToolbar() {
  const api = useApi();
  const store = useStoreApi();
  const selected = useApp(useShallow(selectSelectedDomains));
  const filter = useApp((s) => s.filter);
  const [pending, setPending] = useState<DomainActionName | null>(null);
  const [busy, setBusy] = useState(false);

  const run = useCallback(
    async (action: DomainActionName) => {
      const domains = selectSelectedDomains(store.getState());
      const targets = actionTargets(action, domains);
      if (targets.length === 0) return;
      setBusy(true);
      try {
        // Per-VM failures arrive as notify:error pushes naming each VM; nothing more to report here.
        await runCommand(api, store, 'domain:action', { action, targets }, `${action} of ${targets.length} VM${targets.length === 1 ? '' : 's'}`);
      } finally {
        setBusy(false);
      }
    },
    [api, store],
  );

  const onAction = (action: DomainActionName): void => {
    if (destructiveActions.has(action)) setPending(action);
    else void run(action);
  };

  const pendingSpec = actions.find((spec) => spec.action === pending);
  const pendingNames = pending ? selected.filter((domain) => actionApplies(pending, domain)).map((domain) => domain.name) : [];
  const cancel = useCallback(() => setPending(null), []);

  return (
    <div className="vm-toolbar" role="toolbar" aria-label="VM actions">
      <div className="button-group">
        {actions.map((spec) => (
          <button
            key={spec.action}
            type="button"
            data-testid={`action-${spec.action}`}
            className={destructiveActions.has(spec.action) ? 'action-danger' : undefined}
            disabled={busy || !selected.some((domain) => actionApplies(spec.action, domain))}
            onClick={() => onAction(spec.action)}
          >
            {spec.label}
          </button>
        ))}
      </div>
      <span className="selection-count" data-testid="selection-count">
        {selected.length > 0 ? `${selected.length} selected` : 'None selected'}
      </span>
      <div className="filters">
        <input
          type="search"
          placeholder="Filter VMs"
          aria-label="Filter VMs by name, state or health"
          data-testid="vm-filter"
          value={filter.text}
          onChange={(event) => store.getState().setFilter({ text: event.target.value })}
        />
        <select aria-label="Role" data-testid="vm-role-filter" value={filter.role} onChange={(event) => store.getState().setFilter({ role: event.target.value as RoleFilter })}>
          <option value="all">All roles</option>
          <option value="member">Pool members</option>
          <option value="template">Templates</option>
          <option value="other">Other</option>
        </select>
      </div>
      <ConfirmDialog
        open={pending !== null}
        title={`${pendingSpec?.verb ?? ''} ${pendingNames.length} VM${pendingNames.length === 1 ? '' : 's'}?`}
        confirmLabel={pendingSpec?.label ?? 'OK'}
        danger
        onCancel={cancel}
        onConfirm={() => {
          const action = pending;
          setPending(null);
          if (action) void run(action);
        }}
      >
        <p>{pending ? consequences[pending] : ''}</p>
        <ul className="confirm-names">
          {pendingNames.slice(0, 12).map((name) => (
            <li key={name}>{name}</li>
          ))}
          {pendingNames.length > 12 && <li>… and {pendingNames.length - 12} more</li>}
        </ul>
      </ConfirmDialog>
    </div>
  );
}
