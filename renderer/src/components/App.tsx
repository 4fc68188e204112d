// The window's layout, virt-manager-like: connections, load and scaling on the left; the VM list
// over the live charts and the event log on the right; the status bar at the bottom.
import { useApp } from '../context';
import { Charts } from './Charts';
import { EventLog } from './EventLog';
import { HostsPanel } from './HostsPanel';
import { LoadPanel } from './LoadPanel';
import { Notifications } from './Notifications';
import { QuitButton, QuitProgress } from './QuitDialog';
import { ScalingPanel } from './ScalingPanel';
import { StatusBar } from './StatusBar';
import { VmDetails } from './VmDetails';
import { VmList } from './VmList';
import { VmToolbar } from './VmToolbar';

function ConnectionBanner() {
  const connection = useApp((s) => s.connection);
  const detail = useApp((s) => s.connectionDetail);
  const quit = useApp((s) => s.quitProgress?.finished === true);
  // After Quit the app is gone on purpose: the quit dialog says so, not an error banner.
  if (quit || connection === 'open' || connection === 'connecting') return null;
  const text =
    connection === 'refused'
      ? `The app refused this page${detail ? ` (${detail})` : ''}. Open the address that \`cms serve\` printed, with its token.`
      : connection === 'reconnecting'
        ? `Lost the connection to the app${detail ? ` (${detail})` : ''}; reconnecting…`
        : `Not connected to the app${detail ? `: ${detail}` : ''}.`;
  return (
    <div className={`banner banner-${connection}`} role="alert" data-testid="connection-banner">
      {text}
    </div>
  );
}

export function App() {
  return (
    <div className="app">
      <header className="app-header">
        <span className="app-logo" aria-hidden="true" />
        <h1>Cloud Management System</h1>
        <span className="header-spacer" />
        <QuitButton />
      </header>
      <ConnectionBanner />
      <div className="app-main">
        <aside className="sidebar">
          <HostsPanel />
          <LoadPanel />
          <ScalingPanel />
        </aside>
        <main className="content">
          <section className="vm-section" aria-label="Virtual machines">
            <VmToolbar />
            <VmList />
          </section>
          <div className="lower">
            <Charts />
            <EventLog />
          </div>
        </main>
      </div>
      <StatusBar />
      <Notifications />
      <VmDetails />
      <QuitProgress />
    </div>
  );
}
