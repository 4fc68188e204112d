// The VM details (opened by double-click or Enter): overview, the domain XML from libvirt, and CPU
// and memory graphs of the last minute. A modal <dialog>; Escape closes it.
import { useEffect, useRef, useState } from 'react';
import type uPlot from 'uplot';
import { runCommand } from '../api/bind';
import { useApi, useApp, useStoreApi } from '../context';
import { formatMemoryKiB, formatPercent, formatUptimeS } from '../lib/format';
import type { DomainHistory } from '../store/domains-slice';
import type { AppStore } from '../store/store';
import { stateLabel, StateIcon } from './StateIcon';
import { UPlotChart } from './UPlotChart';

type Tab = 'overview' | 'xml' | 'graphs';

function historyData(history: DomainHistory | undefined, column: 'cpu' | 'memory'): uPlot.AlignedData {
  if (!history || history.tMs.length === 0) return column === 'cpu' ? [[], [], []] : [[], []];
  const lastMs = history.tMs[history.tMs.length - 1] ?? 0;
  const xs = history.tMs.map((tMs) => Math.round((tMs - lastMs) / 100) / 10);
  if (column === 'cpu') return [xs, [...history.cpuPct], [...history.busyPct]];
  return [xs, history.memoryKiB.map((kib) => kib / 1024)];
}

function Graphs(props: { domainKey: string }) {
  const select = (s: AppStore): DomainHistory | undefined => s.history[props.domainKey];
  return (
    <div className="details-graphs">
      <UPlotChart
        title="CPU (last 60 s)"
        testId="details-chart-cpu"
        series={[
          { label: 'libvirt CPU', color: '#1f6feb', width: 2 },
          { label: 'guest busy', color: '#2da44e', width: 1.5, dash: [4, 2] },
        ]}
        select={select}
        toData={(history) => historyData(history, 'cpu')}
        formatX={(v) => `${Math.round(v)} s`}
        formatY={(v) => `${Math.round(v)} %`}
        fixedYTop={100}
      />
      <UPlotChart
        title="Memory (last 60 s)"
        testId="details-chart-memory"
        series={[{ label: 'memory', color: '#6e40c9', width: 2, fill: 'rgba(110,64,201,0.08)' }]}
        select={select}
        toData={(history) => historyData(history, 'memory')}
        formatX={(v) => `${Math.round(v)} s`}
        formatY={(v) => formatMemoryKiB(v * 1024)}
      />
    </div>
  );
}

export function VmDetails() {
  const api = useApi();
  const store = useStoreApi();
  const key = useApp((s) => s.detailsKey);
  const domain = useApp((s) => (s.detailsKey === null ? undefined : s.domainsByKey[s.detailsKey]));
  const host = useApp((s) => (domain ? s.hosts.find((candidate) => candidate.id === domain.hostId) : undefined));
  const [tab, setTab] = useState<Tab>('overview');
  const [xml, setXml] = useState<{ key: string; text: string } | null>(null);
  const ref = useRef<HTMLDialogElement | null>(null);

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (key !== null && !dialog.open) {
      setTab('overview');
      dialog.showModal();
    }
    if (key === null && dialog.open) dialog.close();
  }, [key]);

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    const onClose = (): void => store.getState().closeDetails();
    dialog.addEventListener('close', onClose);
    return () => dialog.removeEventListener('close', onClose);
  }, [store]);

  const loadXml = async (): Promise<void> => {
    if (!domain || key === null) return;
    const text = await runCommand(api, store, 'domain:xml', { hostId: domain.hostId, uuid: domain.uuid }, `Reading the XML of ${domain.name}`);
    if (text !== undefined) setXml({ key, text });
  };

  useEffect(() => {
    if (tab === 'xml' && key !== null && xml?.key !== key) void loadXml();
    // loadXml reads the current domain; refetch only when the tab or the VM changes.
  }, [tab, key]);

  const tabs: ReadonlyArray<{ tab: Tab; label: string }> = [
    { tab: 'overview', label: 'Overview' },
    { tab: 'xml', label: 'XML' },
    { tab: 'graphs', label: 'Graphs' },
  ];

  return (
    <dialog ref={ref} className="details-dialog" data-testid="vm-details" aria-label={domain ? `Details of ${domain.name}` : 'VM details'}>
      {key !== null && (
        <>
          <header className="details-header">
            {domain && <StateIcon state={domain.state} />}
            <h2>{domain?.name ?? 'VM no longer listed'}</h2>
            <div className="tabs" role="tablist">
              {tabs.map((spec) => (
                <button key={spec.tab} type="button" role="tab" aria-selected={tab === spec.tab} className={tab === spec.tab ? 'active' : ''} data-testid={`details-tab-${spec.tab}`} onClick={() => setTab(spec.tab)}>
                  {spec.label}
                </button>
              ))}
            </div>
            <button type="button" className="icon-button" aria-label="Close" data-testid="details-close" onClick={() => store.getState().closeDetails()}>
              ×
            </button>
          </header>
          <div className="details-body">
            {tab === 'overview' && domain && (
              <dl className="overview" data-testid="details-overview">
                <dt>Name</dt>
                <dd>{domain.name}</dd>
                <dt>UUID</dt>
                <dd className="mono">{domain.uuid}</dd>
                <dt>State</dt>
                <dd>{stateLabel(domain.state)}</dd>
                <dt>Host</dt>
                <dd>
                  {host?.hostname ?? domain.hostId} <span className="muted mono">{host?.uri}</span>
                </dd>
                <dt>Role</dt>
                <dd>{domain.role === 'member' ? 'pool member' : domain.role}</dd>
                <dt>Health</dt>
                <dd>{domain.health ?? '—'}</dd>
                <dt>vCPUs</dt>
                <dd>{domain.vcpus}</dd>
                <dt>Memory</dt>
                <dd>{formatMemoryKiB(domain.memoryKiB)}</dd>
                <dt>CPU (libvirt)</dt>
                <dd>{formatPercent(domain.cpuPercent)}</dd>
                <dt>Busy (guest)</dt>
                <dd>{domain.busy === null ? '—' : formatPercent(domain.busy * 100)}</dd>
                <dt>In flight</dt>
                <dd>{domain.inflight}</dd>
                <dt>Uptime</dt>
                <dd>{formatUptimeS(domain.uptimeS)}</dd>
              </dl>
            )}
            {tab === 'xml' && (
              <div className="xml-view">
                <div className="panel-toolbar">
                  <button type="button" onClick={() => void loadXml()}>
                    Refresh
                  </button>
                </div>
                <pre data-testid="vm-xml">{xml?.key === key ? xml.text : 'Loading…'}</pre>
              </div>
            )}
            {tab === 'graphs' && <Graphs key={key} domainKey={key} />}
          </div>
        </>
      )}
    </dialog>
  );
}
