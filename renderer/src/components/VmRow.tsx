// One row of the VM list, memoized and subscribed to its own VM only: a push that changes other
// VMs does not re-render it. Selection follows virt-manager: click, ctrl-click, shift-click;
// double-click opens the details.
import { memo, type MouseEvent } from 'react';
import type { DomainView } from '../../../electron/contract/contract';
import { useApp, useStoreApi } from '../context';
import { formatMemoryKiB, formatPercent, formatUptimeS } from '../lib/format';
import { hostLabelFor, selectVisibleKeys } from '../store/selectors';
import { Sparkline } from './Sparkline';
import { StateIcon } from './StateIcon';

export const ROW_HEIGHT_PX = 30;

const roleLabels: Record<DomainView['role'], string> = { template: 'template', member: 'pool member', other: 'other' };

export const VmRow = memo(function VmRow(props: { rowKey: string; index: number }) {
  const { rowKey, index } = props;
  const store = useStoreApi();
  const domain = useApp((s) => s.domainsByKey[rowKey]);
  const selected = useApp((s) => s.selection[rowKey] === true);
  const focused = useApp((s) => s.focusedKey === rowKey);
  const history = useApp((s) => s.history[rowKey]);
  const host = useApp((s) => (domain ? hostLabelFor(s.hosts, domain.hostId) : ''));
  if (!domain) return null;

  const onClick = (event: MouseEvent): void => {
    const mode = event.shiftKey ? 'range' : event.ctrlKey || event.metaKey ? 'toggle' : 'only';
    store.getState().clickRow(rowKey, mode, selectVisibleKeys(store.getState()));
  };
  const onDoubleClick = (): void => store.getState().openDetails(rowKey);

  return (
    <div
      role="row"
      id={`vm-row-${index}`}
      className={`vm-row${selected ? ' selected' : ''}${focused ? ' focused' : ''}`}
      style={{ transform: `translateY(${index * ROW_HEIGHT_PX}px)` }}
      aria-selected={selected}
      aria-rowindex={index + 2}
      data-testid="vm-row"
      data-name={domain.name}
      data-state={domain.state}
      data-role={domain.role}
      data-health={domain.health ?? ''}
      onClick={onClick}
      onDoubleClick={onDoubleClick}
    >
      <div role="gridcell" className="cell cell-state">
        <StateIcon state={domain.state} />
      </div>
      <div role="gridcell" className="cell cell-name" title={`${domain.name}\n${domain.uuid}`}>
        {domain.name}
      </div>
      <div role="gridcell" className="cell cell-cpu">
        <Sparkline history={history} />
        <span className="num">{formatPercent(domain.cpuPercent)}</span>
      </div>
      <div role="gridcell" className="cell num">
        {domain.busy === null ? '—' : formatPercent(domain.busy * 100)}
      </div>
      <div role="gridcell" className="cell num">
        {formatMemoryKiB(domain.memoryKiB)}
      </div>
      <div role="gridcell" className="cell num">
        {domain.vcpus}
      </div>
      <div role="gridcell" className="cell">
        <span className={`badge role-${domain.role}`}>{roleLabels[domain.role]}</span>
      </div>
      <div role="gridcell" className="cell">
        {domain.health ? <span className={`badge health-${domain.health}`}>{domain.health === 'failed' ? 'ejected' : domain.health}</span> : <span className="muted">—</span>}
      </div>
      <div role="gridcell" className="cell num">
        {domain.role === 'member' ? domain.inflight : '—'}
      </div>
      <div role="gridcell" className="cell num">
        {formatUptimeS(domain.uptimeS)}
      </div>
      <div role="gridcell" className="cell cell-host" title={host}>
        {host}
      </div>
    </div>
  );
});
