// How a headless session ends, shared by `cms run` and `cms serve`: one stop however it is asked
// for (signal, duration, `exit`, the UI's Quit), the pool shut down, the report written, and a
// second Ctrl-C that exits at once. It owns no app state; the caller passes what to stop.
import { writeFileSync } from 'node:fs';
import type { RunningApp } from '../core/service/app';

export interface SessionLifecycleOptions {
  app: RunningApp;
  /** Where the run's JSON report goes, if anywhere. */
  reportPath?: string;
  /** Seconds until the session stops by itself; 0 runs until asked. */
  durationS: number;
  /** Prints a status line (silenced by --quiet). */
  say: (line: string) => void;
  /** Runs after the pool is down (and even when shutting it down failed): close what else is open. */
  afterShutdown?: () => Promise<void>;
}

export interface SessionLifecycle {
  /** Stops the session once; later calls return the same promise. */
  stop(why: string): Promise<void>;
  /** Resolves when the session has stopped; prints the final outcome line first. */
  finished: Promise<void>;
}

export function sessionLifecycle(options: SessionLifecycleOptions): SessionLifecycle {
  const { app, say } = options;
  let stopping: Promise<void> | null = null;
  let timer: NodeJS.Timeout | null = null;
  let finish: () => void = () => {};
  // Never rejects: a failed shutdown has been reported already, and the session is over either way.
  const finished = new Promise<void>((resolve) => (finish = resolve));

  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      console.error(`cms: ${signal} again: exiting now`);
      process.exit(130);
    }
    void stop(`${signal} received`);
  };

  const stop = (why: string): Promise<void> => {
    stopping ??= (async () => {
      say(`cms: ${why}: stopping the load and shutting the pool down…`);
      try {
        await app.shutdown();
        if (options.reportPath) {
          writeFileSync(options.reportPath, `${JSON.stringify(app.plane.report(), null, 2)}\n`);
          say(`cms: report written to ${options.reportPath}`);
        }
      } finally {
        await options.afterShutdown?.();
        if (timer) clearTimeout(timer);
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        const outcomes = app.plane.outcomes();
        say(`cms: done · sent ${outcomes.sent} · ok ${outcomes.ok} · failed ${outcomes.failed} · expired ${outcomes.expired} · in flight ${outcomes.inflight}`);
        finish();
      }
    })();
    return stopping;
  };

  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  if (options.durationS > 0) timer = setTimeout(() => void stop(`duration of ${options.durationS} s reached`), options.durationS * 1000);
  return { stop, finished };
}
