// `cms serve`: the app with its web UI, for hosts without a display. Starts the control plane and
// the web server, prints `cms: web UI at http://127.0.0.1:PORT/?token=T`, and on SIGINT/SIGTERM,
// the UI's Quit or the duration's end shuts the pool down and closes everything it opened.
import type { LogLevel } from '../core/metrics/log';
import { startApp, type RunningApp } from '../core/service/app';
import type { ControlPlaneConfig } from '../core/service/config';
import { startWebServer, type WebServer } from '../core/web/server';
import { sessionLifecycle } from './lifecycle';

export interface ServeSession {
  config: ControlPlaneConfig;
  /** libvirt URIs; empty means the built-in sandbox. */
  uris: string[];
  /** @default '127.0.0.1' */
  host?: string;
  /** 0 picks a free port. @default 0 */
  port?: number;
  logPath: string;
  logLevel: LogLevel;
  /** Seconds; 0 serves until interrupted. @default 0 */
  durationS?: number;
  reportPath?: string;
  /** Only the URL line and errors. */
  quiet?: boolean;
  /** Built renderer folder. @default '<checkout>/renderer/dist' */
  rendererDir?: string;
  /** Why `cms start` fell back to the browser, printed before the URL. */
  fallbackReason?: string;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/** Serves until stopped; resolves with the exit code. */
export async function serveSession(session: ServeSession): Promise<number> {
  const say = (line: string): void => {
    if (!session.quiet) console.log(line);
  };
  let stop: (why: string) => Promise<void> = async () => {};
  const app: RunningApp = await startApp({
    uris: session.uris,
    config: session.config,
    logPath: session.logPath,
    logLevel: session.logLevel,
    onQuit: () => void stop('Quit chosen in the UI'),
  });
  let web: WebServer;
  try {
    web = await startWebServer({ service: app.service, host: session.host, port: session.port, rendererDir: session.rendererDir, log: app.log });
  } catch (error) {
    await app.shutdown();
    throw error;
  }

  const lifecycle = sessionLifecycle({
    app,
    reportPath: session.reportPath,
    durationS: session.durationS ?? 0,
    say,
    // The pool first, so the page still receives quit:progress to the end; then the sockets.
    afterShutdown: () => web.close(),
  });
  stop = lifecycle.stop;

  if (session.fallbackReason) console.log(`cms: not opening a desktop window: ${session.fallbackReason}. Serving the UI to a browser instead.`);
  // Tests and scripts read this exact line: keep its shape.
  console.log(`cms: web UI at ${web.url}`);
  if (!LOOPBACK.has(web.host)) console.log(`cms: warning: listening on ${web.host}, not loopback: anyone who can reach this port and learns the token controls the app.`);
  if (app.sandbox) say('cms: running on the built-in sandbox — VMs are simulated (libvirt test driver + one local guest process each, CPU throttled per vCPU).');
  say('cms: press Ctrl-C (or Quit in the UI) to shut the pool down and exit.');

  await lifecycle.finished;
  return 0;
}
