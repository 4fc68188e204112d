// `cms run`: a scripted experiment (or, with no duration, a session until Ctrl-C / `exit`).
// Opens the hosts, runs the control plane, prints a status line a second, and on any exit stops
// the load and shuts the pool down so that nothing it started is left running.
import { createInterface } from 'node:readline';
import type { ControlPlaneConfig } from '../core/service/config';
import { startApp } from '../core/service/app';
import type { LogLevel } from '../core/metrics/log';
import type { MetricsSample } from '../core/metrics/series';
import { UsageError, numberFlag } from './run-options';
import { sessionLifecycle } from './lifecycle';

export interface RunSession {
  config: ControlPlaneConfig;
  uris: string[];
  /** Seconds; 0 runs until interrupted. */
  durationS: number;
  reportPath?: string;
  logPath: string;
  logLevel: LogLevel;
  /** Read the original's console commands from stdin (only when it is a terminal). */
  console: boolean;
  quiet: boolean;
}

export function formatStatusLine(sample: MetricsSample, outcomes: { ok: number; failed: number; expired: number; inflight: number }): string {
  const ms = (value: number | null): string => (value === null ? '–' : `${Math.round(value)} ms`);
  const util = sample.utilization === null ? '–' : `${Math.round(sample.utilization * 100)}%`;
  return [
    `t=${sample.tS.toFixed(0)}s`,
    `offered ${sample.offeredRps.toFixed(1)} rps`,
    `served ${sample.servedRps.toFixed(1)} rps`,
    `p50 ${ms(sample.p50Ms)} p95 ${ms(sample.p95Ms)}`,
    `pool ${sample.poolHealthy}/${sample.poolDesired}${sample.poolBooting > 0 ? ` (+${sample.poolBooting} booting)` : ''}`,
    `util ${util}`,
    `ok ${outcomes.ok} failed ${outcomes.failed} expired ${outcomes.expired} inflight ${outcomes.inflight}`,
  ].join(' · ');
}

/** Runs one session to its end; resolves with the process exit code. */
export async function runSession(session: RunSession): Promise<number> {
  const app = await startApp({ uris: session.uris, config: session.config, logPath: session.logPath, logLevel: session.logLevel });
  const controlPlane = app.plane;
  if (app.sandbox && !session.quiet) {
    console.log('cms: running on the built-in sandbox — VMs are simulated (libvirt test driver + one local guest process each, CPU throttled per vCPU).');
  }

  const say = (line: string): void => {
    if (!session.quiet) console.log(line);
  };
  const { stop, finished } = sessionLifecycle({ app, reportPath: session.reportPath, durationS: session.durationS, say });

  if (!session.quiet) {
    controlPlane.on('sample', (sample) => console.log(formatStatusLine(sample, controlPlane.outcomes())));
  }

  let lines: ReturnType<typeof createInterface> | null = null;
  if (session.console && process.stdin.isTTY) {
    console.log('cms: type a number to set the inter-request time in seconds, or `exit` to shut everything down.');
    lines = createInterface({ input: process.stdin });
    lines.on('line', (line) => {
      const text = line.trim();
      if (text === '') return;
      if (text === 'exit') return void stop('exit typed');
      try {
        const seconds = numberFlag(text, 'inter-request time', { min: 0 });
        if (seconds === undefined || seconds <= 0) throw new UsageError('inter-request time must be more than 0 seconds');
        controlPlane.setInterRequestS(seconds);
        console.log(`cms: inter-request time ${seconds} s (${(1 / seconds).toFixed(2)} rps)`);
      } catch (error) {
        console.log(`cms: ${error instanceof Error ? error.message : String(error)} — type a number of seconds, or exit`);
      }
    });
  }

  await finished;
  lines?.close();
  return 0;
}
