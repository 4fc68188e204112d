// The VM list: a sortable header and a virtualized body (only the rows in view are mounted), with
// keyboard navigation on the grid — arrows move, Shift extends, Ctrl moves the cursor only, Space
// toggles, Ctrl+A selects all, Enter opens the details, Escape clears.
import { useEffect, type KeyboardEvent } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { useApp, useStoreApi } from '../context';
import type { SortColumn } from '../store/domains-slice';
import { selectVisibleKeys } from '../store/selectors';
import { useVirtualRows } from './use-virtual-rows';
import { ROW_HEIGHT_PX, VmRow } from './VmRow';

const columns: ReadonlyArray<{ column: SortColumn; label: string; className?: string }> = [
  { column: 'state', label: '', className: 'cell-state' },
  { column: 'name', label: 'Name' },
  { column: 'cpu', label: 'CPU usage' },
  { column: 'busy', label: 'Busy' },
  { column: 'memory', label: 'Memory' },
  { column: 'vcpus', label: 'vCPUs' },
  { column: 'role', label: 'Role' },
  { column: 'health', label: 'Health' },
  { column: 'inflight', label: 'In flight' },
  { column: 'uptime', label: 'Uptime' },
  { column: 'host', label: 'Host' },
];

export function VmList() {
  const store = useStoreApi();
  const keys = useApp(useShallow(selectVisibleKeys));
  const sort = useApp((s) => s.sort);
  const total = useApp((s) => s.domainKeys.length);
  const focusedKey = useApp((s) => s.focusedKey);
  const ready = useApp((s) => s.ready);
  const virtual = useVirtualRows(keys.length, ROW_HEIGHT_PX);
  const { scrollToIndex } = virtual;

  const focusedIndex = focusedKey === null ? -1 : keys.indexOf(focusedKey);
  useEffect(() => {
    if (focusedIndex >= 0) scrollToIndex(focusedIndex);
  }, [focusedIndex, scrollToIndex]);

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>): void => {
    const state = store.getState();
    const visible = selectVisibleKeys(state);
    const mode = event.shiftKey ? 'extend' : event.ctrlKey || event.metaKey ? 'focus' : 'only';
    const step = (delta: number): void => {
      event.preventDefault();
      state.moveFocus(delta, mode, visible);
    };
    switch (event.key) {
      case 'ArrowDown':
        return step(1);
      case 'ArrowUp':
        return step(-1);
      case 'PageDown':
        return step(virtual.pageRows);
      case 'PageUp':
        return step(-virtual.pageRows);
      case 'Home':
        return step(-visible.length);
      case 'End':
        return step(visible.length);
      case ' ':
        event.preventDefault();
        if (state.focusedKey === null) state.moveFocus(1, 'only', visible);
        else state.toggleFocused();
        return;
      case 'Enter':
        if (state.focusedKey !== null) {
          event.preventDefault();
          state.openDetails(state.focusedKey);
        }
        return;
      case 'Escape':
        state.clearSelection();
        return;
      case 'a':
      case 'A':
        if (event.ctrlKey || event.metaKey) {
          event.preventDefault();
          state.selectAll(visible);
        }
        return;
    }
  };

  // Keyed by slot, not by VM: a row scrolled into view takes over the DOM of the one that left,
  // and rows that stay keep their props, so scrolling creates no elements and re-renders two rows.
  const rows = [];
  for (let i = virtual.start; i < virtual.end; i++) {
    const key = keys[i];
    if (key !== undefined) rows.push(<VmRow key={i % virtual.slotCount} rowKey={key} index={i} />);
  }

  return (
    <div className="vm-list" role="grid" aria-label="Virtual machines" aria-rowcount={keys.length + 1} aria-multiselectable="true" data-testid="vm-list">
      <div className="vm-row vm-header" role="row" aria-rowindex={1}>
        {columns.map((spec) => (
          <div
            key={spec.column}
            role="columnheader"
            className={`cell ${spec.className ?? ''}`}
            aria-sort={sort.column === spec.column ? (sort.descending ? 'descending' : 'ascending') : 'none'}
          >
            <button type="button" className="sort-button" data-testid={`sort-${spec.column}`} onClick={() => store.getState().setSort(spec.column)} title={`Sort by ${spec.label || 'state'}`}>
              {spec.label}
              {sort.column === spec.column && <span className="sort-arrow">{sort.descending ? '▼' : '▲'}</span>}
            </button>
          </div>
        ))}
      </div>
      <div
        ref={virtual.containerRef}
        className="vm-body"
        tabIndex={0}
        data-testid="vm-list-body"
        aria-activedescendant={focusedIndex >= 0 ? `vm-row-${focusedIndex}` : undefined}
        onScroll={virtual.onScroll}
        onKeyDown={onKeyDown}
      >
        <div className="vm-spacer" role="rowgroup" style={{ height: `${keys.length * ROW_HEIGHT_PX}px` }}>
          {rows}
        </div>
        {keys.length === 0 && <div className="empty-note">{!ready ? 'Connecting to the app…' : total === 0 ? 'No VMs on the connected hosts.' : 'No VM matches the filter.'}</div>}
      </div>
    </div>
  );
}
