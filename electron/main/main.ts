// The Electron main process: thin glue. It forks the control plane into a utility process, opens the
// locked-down window, routes the contract's IPC to the control plane, forwards its push events, runs
// the tray and the quit sequence. Every decision it applies is made (and tested) in electron/core.
import { join } from 'node:path';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain, Menu, session, utilityProcess, type MenuItemConstructorOptions } from 'electron';
import { parseCommandInput, type AppState, type PushEventPayload, type Result } from '../contract/contract';
import { systemClock } from '../core/clock';
import { APP_ORIGIN } from '../core/desktop/navigation';
import { QuitSequence, type QuitSource } from '../core/desktop/quit';
import { LAUNCH_ENV, parseLaunch, type Launch } from '../core/ipc/backend-protocol';
import { RemoteService } from '../core/ipc/remote-service';
import { registerIpcRouter } from '../core/ipc/router';
import { createSenderCheck } from '../core/ipc/sender';
import { JsonLineLogger } from '../core/metrics/log';
import { sandboxUri } from '../core/sandbox/sandbox-host';
import { connectionsToUris, defaultSettings, loadSettings, saveSettings, settingsDir, settingsFromState, settingsPath, settingsToConfig, type Settings } from '../core/settings/settings';
import { contentSecurityPolicy } from '../core/web/csp';
import { findPackageRoot } from '../core/web/static';
import { registerAppScheme, serveAppScheme } from './protocol';
import { createAppTray, type AppTray } from './tray';
import { createMainWindow, hardenSession } from './window';

/** dist/electron, inside app.asar when packaged. */
const bundleDir = dirname(fileURLToPath(import.meta.url));
const appRoot = findPackageRoot(bundleDir) ?? join(bundleDir, '..', '..');

interface Startup {
  launch: Launch;
  /** The saved settings in use; null when `cms start` passed a launch from flags (then nothing is saved). */
  settings: Settings | null;
  settingsFile: string;
  /** Why the saved settings were not used, to show the user. */
  warning: string | null;
}

function builtInSandboxUri(): string {
  // Packaged, the host file is an extra resource: libvirt's C code cannot read inside app.asar.
  return app.isPackaged ? sandboxUri(join(process.resourcesPath, 'sandbox-host.xml')) : sandboxUri();
}

function resolveStartup(userData: string): Startup {
  const settingsFile = settingsPath(userData);
  const fromFlags = process.env[LAUNCH_ENV];
  if (fromFlags) return { launch: parseLaunch(fromFlags), settings: null, settingsFile, warning: null };
  const loaded = loadSettings(settingsFile);
  let warning = loaded.error?.message ?? null;
  let settings = loaded.settings;
  let config;
  try {
    config = settingsToConfig(settings);
  } catch (error) {
    warning = `settings file ${settingsFile}: ${error instanceof Error ? error.message : String(error)}; using the defaults`;
    settings = defaultSettings();
    config = settingsToConfig(settings);
  }
  return { launch: { uris: connectionsToUris(settings.connections, builtInSandboxUri()), config, logPath: join(userData, 'cms.log') }, settings, settingsFile, warning };
}

function run(): void {
  const userData = app.getPath('userData');
  const log = new JsonLineLogger({ path: join(userData, 'desktop.log') });
  let startup: Startup;
  try {
    startup = resolveStartup(userData);
  } catch (error) {
    dialog.showErrorBox('Cloud Management System cannot start', error instanceof Error ? error.message : String(error));
    app.exit(2);
    return;
  }
  const devTools = !app.isPackaged;
  const csp = contentSecurityPolicy();
  hardenSession(session.defaultSession, csp, devTools);
  serveAppScheme(session.defaultSession, join(appRoot, 'renderer', 'dist'), csp);

  let window: BrowserWindow | null = null;
  let tray: AppTray | null = null;
  let lastState: AppState | null = null;
  let exiting = false;

  const backend = utilityProcess.fork(join(bundleDir, 'backend.js'), [], {
    env: { ...process.env, [LAUNCH_ENV]: JSON.stringify(startup.launch) },
    serviceName: 'CMS control plane',
    stdio: 'inherit',
  });
  const remote = new RemoteService({
    post: (message) => backend.postMessage(message),
    onLifecycle: (message) => {
      if (message.kind === 'ready') log.info('desktop.backend_ready', { sandbox: message.sandbox });
      else if (message.kind === 'failed') quit.finish(`the control plane could not start: ${message.message}`);
      else quit.finish(null);
    },
    onMalformed: (issue) => log.warn('desktop.backend_malformed', { issue }),
  });

  const quit = new QuitSequence({
    clock: systemClock,
    // The pool's own ACPI timeout plus time for force off and closing the hosts.
    watchdogMs: startup.launch.config.pool.shutdownTimeoutMs + 30_000,
    onChange: () => render(),
    onWatchdog: () => {
      log.error('desktop.quit_watchdog', { waitedMs: startup.launch.config.pool.shutdownTimeoutMs + 30_000 });
      backend.kill();
    },
  });

  function render(): void {
    tray?.update(lastState, quit.label());
    if (window && !window.isDestroyed()) {
      const fraction = quit.fraction();
      // Electron: below 0 removes the bar, above 1 makes it indeterminate.
      window.setProgressBar(fraction === null ? -1 : fraction < 0 ? 2 : fraction);
    }
    const snapshot = quit.snapshot();
    if (snapshot.phase === 'stopped' && !exiting) {
      exiting = true;
      log.info('desktop.exit', { source: snapshot.source, forced: snapshot.forced, error: snapshot.error });
      if (snapshot.error !== null) dialog.showErrorBox('Cloud Management System', quit.label());
      tray?.destroy();
      void log.close().finally(() => app.exit(quit.exitCode()));
    }
  }

  function persistSettings(): void {
    if (startup.settings === null || lastState === null) return;
    try {
      saveSettings(startup.settingsFile, settingsFromState(startup.settings, lastState));
    } catch (error) {
      log.warn('desktop.settings_not_saved', { message: error instanceof Error ? error.message : String(error) });
    }
  }

  function requestQuit(source: QuitSource): void {
    const outcome = quit.request(source);
    showWindow();
    if (outcome !== 'begin') return;
    log.info('desktop.quit', { source });
    persistSettings();
    void remote.handle('app:quit', {}).then((result) => {
      if (!result.ok) quit.finish(result.error.message);
    });
  }

  function openWindow(): BrowserWindow {
    const created = createMainWindow({ preload: join(bundleDir, 'preload.cjs'), icon: join(iconDir(), 'app.png'), devTools });
    created.on('close', (event) => {
      if (quit.mustHoldExit()) {
        event.preventDefault();
        requestQuit('window');
      }
    });
    return created;
  }

  function showWindow(): void {
    if (exiting) return;
    if (!window || window.isDestroyed()) window = openWindow();
    window.show();
    window.focus();
  }

  function report(what: string): (result: Result<unknown>) => void {
    return (result) => {
      if (!result.ok) log.warn('desktop.tray_action_failed', { what, code: result.error.code, message: result.error.message });
    };
  }

  backend.on('message', (message: unknown) => remote.receive(message));
  backend.on('exit', (code: number) => {
    remote.disconnect(`the control plane process exited (code ${code})`);
    const running = quit.snapshot().phase === 'running';
    quit.finish(running ? `the control plane process ended unexpectedly (exit code ${code})` : code === 0 ? null : `the control plane exited with code ${code}`);
  });

  remote.subscribe((event, payload) => {
    if (event === 'state:update') {
      lastState = payload as PushEventPayload<'state:update'>;
      tray?.update(lastState, quit.label());
    } else if (event === 'quit:progress') {
      const progress = payload as PushEventPayload<'quit:progress'>;
      // The end comes with the process's 'stopped' frame, so that we never exit before it has.
      quit.progress(progress.done, progress.total, false);
    }
    if (window && !window.isDestroyed()) window.webContents.send(event, payload);
  });

  registerIpcRouter({
    ipcMain,
    service: {
      handle: async (channel, payload) => {
        if (channel !== 'app:quit') return remote.handle(channel, payload);
        // Quit from the page runs the same sequence as the tray's (settings saved, progress, exit).
        const input = parseCommandInput('app:quit', payload);
        if (!input.ok) return input;
        requestQuit('ui');
        return { ok: true, value: null };
      },
    },
    checkSender: createSenderCheck({ origin: APP_ORIGIN, webContentsIds: () => (window && !window.isDestroyed() ? [window.webContents.id] : []) }),
    onRefused: (channel, reason) => log.warn('desktop.ipc_refused', { channel, reason }),
  });

  const menu: MenuItemConstructorOptions[] = [
    { label: 'File', submenu: [{ label: 'Quit', accelerator: 'CmdOrCtrl+Q', click: () => requestQuit('menu') }] },
    { role: 'editMenu' },
    {
      label: 'View',
      submenu: [{ role: 'reload' }, ...(devTools ? [{ role: 'toggleDevTools' } as const] : []), { type: 'separator' }, { role: 'resetZoom' }, { role: 'zoomIn' }, { role: 'zoomOut' }, { type: 'separator' }, { role: 'togglefullscreen' }],
    },
  ];
  Menu.setApplicationMenu(Menu.buildFromTemplate(menu));

  tray = createAppTray(iconDir(), {
    show: showWindow,
    setLoadPaused: (paused) => void remote.handle(paused ? 'load:pause' : 'load:resume', {}).then(report('pause load')),
    scaleTo: (count) => void remote.handle('pool:scale', { count }).then(report('scale to')),
    quit: () => requestQuit('tray'),
  });

  app.on('second-instance', showWindow);
  app.on('before-quit', (event) => {
    if (quit.mustHoldExit()) {
      event.preventDefault();
      requestQuit('menu');
    }
  });
  // Closing the last window does not end the app by itself: the quit sequence does, once the pool is down.
  app.on('window-all-closed', () => {});
  process.on('SIGINT', () => requestQuit('signal'));
  process.on('SIGTERM', () => requestQuit('signal'));

  showWindow();
  if (startup.warning !== null && window) {
    void dialog.showMessageBox(window, { type: 'warning', message: 'Saved settings were not used', detail: startup.warning });
  }
}

function iconDir(): string {
  return app.isPackaged ? join(process.resourcesPath, 'icons') : join(appRoot, 'build', 'icons');
}

// One folder for the CLI and the desktop app ($XDG_CONFIG_HOME or ~/.config/cloud-management-system):
// settings, logs and Chromium's own data. Must be set before the app is ready.
app.setPath('userData', settingsDir());
registerAppScheme();
if (!app.requestSingleInstanceLock()) {
  // Another instance owns the pool; it shows its window (second-instance) and this one leaves.
  app.exit(0);
} else {
  void app.whenReady().then(run);
}
