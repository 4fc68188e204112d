// Entry of the control-plane process that the Electron main process forks (utilityProcess): runs
// startApp and answers contract frames on process.parentPort. It imports no Electron module; it runs
// in its own process so that sandbox guests can be spawned with ELECTRON_RUN_AS_NODE (see below).
import { LAUNCH_ENV, parseLaunch, type BackendMessage } from '../core/ipc/backend-protocol';
import { serveOverPort } from '../core/ipc/remote-service';
import { startApp, type RunningApp } from '../core/service/app';

// Sandbox guests are spawned with process.execPath, which here is the Electron binary: this makes
// them run as plain Node. Safe in this process only: it never launches Chromium processes (setting it
// in the main process would break the renderer and GPU processes it starts later).
process.env.ELECTRON_RUN_AS_NODE = '1';

const port = process.parentPort;
const post = (message: BackendMessage): void => {
  try {
    port.postMessage(message);
  } catch {
    // The main process is gone; we are about to exit anyway.
  }
};

async function main(): Promise<void> {
  let app: RunningApp;
  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await app.shutdown();
      post({ kind: 'stopped' });
      // Give the last frames a moment to leave before the process ends.
      setTimeout(() => process.exit(0), 100);
    })();
    return stopping;
  };
  try {
    const launch = parseLaunch(process.env[LAUNCH_ENV]);
    app = await startApp({ uris: launch.uris, config: launch.config, logPath: launch.logPath, onQuit: () => void stop() });
  } catch (error) {
    post({ kind: 'failed', message: error instanceof Error ? error.message : String(error) });
    setTimeout(() => process.exit(1), 100);
    return;
  }
  const endpoint = serveOverPort(app.service, post);
  // Frames sent before this point were queued by the port; they are answered now that the app runs.
  port.on('message', (event) => endpoint.receive(event.data));
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  post({ kind: 'ready', sandbox: app.sandbox });
}

void main();
