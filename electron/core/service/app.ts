// Composes a running app from its parts: the log (file + UI event log), the hosts, the control
// plane and the service API. The CLI, the web mode and the Electron main process all start here,
// and all end through shutdown(), which leaves nothing running.
import { systemClock, type Clock } from '../clock';
import { JsonLineLogger, type LogLevel } from '../metrics/log';
import type { ControlPlaneConfig } from './config';
import { ControlPlane } from './control-plane';
import { EventLog } from './event-log';
import { openHosts, type OpenedHosts } from './hosts';
import { CmsService } from './service';

export interface StartAppOptions {
  /** libvirt URIs; empty means the built-in sandbox. */
  uris: string[];
  config: ControlPlaneConfig;
  /** JSON-lines log file. @default 'cms.log' */
  logPath?: string;
  /** @default 'info' */
  logLevel?: LogLevel;
  clock?: Clock;
  /** Asked for by the UI's Quit; the carrier calls shutdown() and ends the process. */
  onQuit?: () => void;
  /** Poll period of every host, ms. @default 1000 */
  pollIntervalMs?: number;
}

export interface RunningApp {
  plane: ControlPlane;
  hosts: OpenedHosts;
  service: CmsService;
  events: EventLog;
  log: JsonLineLogger;
  /** True when any host is the sandbox (simulated guests). */
  sandbox: boolean;
  /** Stops the load, shuts the pool down (ACPI, then force off), closes hosts and the log. Idempotent. */
  shutdown(): Promise<void>;
}

export async function startApp(options: StartAppOptions): Promise<RunningApp> {
  const clock = options.clock ?? systemClock;
  const events = new EventLog();
  const log = new JsonLineLogger({ path: options.logPath ?? 'cms.log', minLevel: options.logLevel ?? 'info', sink: (entry) => events.push(entry), sinkMinLevel: 'info' });
  let plane: ControlPlane | null = null;
  let hosts: OpenedHosts;
  try {
    hosts = await openHosts({ uris: options.uris, clock, log, token: () => plane?.pool.token ?? '', sandbox: options.config.sandbox, pollIntervalMs: options.pollIntervalMs });
  } catch (error) {
    await log.close();
    throw error;
  }
  const opened = hosts;
  plane = new ControlPlane({ clock, log, hosts: opened.hosts, config: options.config, onAgentAddress: (address) => opened.setManagerAddress(address) });
  const started = plane;
  try {
    await started.start();
  } catch (error) {
    await started.stop();
    await opened.close();
    await log.close();
    throw error;
  }
  const service = new CmsService({ clock, plane: started, hosts: opened, events, onQuit: () => options.onQuit?.() });
  started.on('pool', (event) => {
    if (event.type === 'shutdown_progress') service.quitProgress(event.done, event.total, false);
  });
  let stopping: Promise<void> | null = null;
  return {
    plane: started,
    hosts: opened,
    service,
    events,
    log,
    sandbox: opened.hosts.some((binding) => binding.runtime !== undefined),
    shutdown() {
      stopping ??= (async () => {
        await started.stop();
        await opened.close();
        const total = started.pool.list().length;
        service.quitProgress(total, total, true);
        service.dispose();
        await log.close();
      })();
      return stopping;
    },
  };
}
