// The desktop quit sequence as a state machine: running → stopping (pool shutdown with progress:
// ACPI, then force off) → stopped, then the app exits. A watchdog bounds the wait. Plain Node with an
// injected clock; the Electron glue asks it whether to hold a window close and what to show.
import type { Clock, TimerHandle } from '../clock';

export type QuitPhase = 'running' | 'stopping' | 'stopped';
export type QuitSource = 'tray' | 'menu' | 'window' | 'ui' | 'signal' | 'backend_exit';

export interface QuitSnapshot {
  phase: QuitPhase;
  source: QuitSource | null;
  /** Members shut down so far, out of total (0/0 until the pool reports). */
  done: number;
  total: number;
  /** The watchdog fired: we exit without the pool's confirmation. */
  forced: boolean;
  /** Why the stop did not end cleanly (the control plane crashed, say); null when it did. */
  error: string | null;
}

export interface QuitSequenceOptions {
  clock: Clock;
  /** Longest the shutdown may take before the app exits anyway, ms; above the pool's ACPI timeout. @default 60000 */
  watchdogMs?: number;
  /** Told after every change. */
  onChange?: (snapshot: QuitSnapshot) => void;
  /** Told once when the watchdog gives up waiting. */
  onWatchdog?: () => void;
}

export type QuitRequestOutcome = 'begin' | 'already_stopping' | 'already_stopped';

export class QuitSequence {
  private state: QuitSnapshot = { phase: 'running', source: null, done: 0, total: 0, forced: false, error: null };
  private watchdog: TimerHandle | null = null;
  private readonly watchdogMs: number;

  constructor(private readonly options: QuitSequenceOptions) {
    this.watchdogMs = options.watchdogMs ?? 60_000;
  }

  snapshot(): QuitSnapshot {
    return { ...this.state };
  }

  /** A quit was asked for; only the first starts the shutdown ('begin': the caller starts it now). */
  request(source: QuitSource): QuitRequestOutcome {
    if (this.state.phase === 'stopping') return 'already_stopping';
    if (this.state.phase === 'stopped') return 'already_stopped';
    this.state = { ...this.state, phase: 'stopping', source };
    this.watchdog = this.options.clock.setTimeout(() => this.giveUp(), this.watchdogMs);
    this.changed();
    return 'begin';
  }

  /** Shutdown progress from the pool (`quit:progress`); `finished` ends the sequence. */
  progress(done: number, total: number, finished = false): void {
    if (this.state.phase !== 'stopping') return;
    this.state = { ...this.state, done: Math.max(0, done), total: Math.max(0, total) };
    if (finished) this.finish(null);
    else this.changed();
  }

  /** The shutdown ended (error: it ended badly, e.g. the control plane died). Also valid while running: a crash. */
  finish(error: string | null = null): void {
    if (this.state.phase === 'stopped') return;
    this.clearWatchdog();
    this.state = { ...this.state, phase: 'stopped', error, source: this.state.source ?? 'backend_exit' };
    this.changed();
  }

  /** Hold a window close or an app quit until the pool is down. */
  mustHoldExit(): boolean {
    return this.state.phase !== 'stopped';
  }

  /** The process exit code once stopped: 0 for a clean shutdown. */
  exitCode(): number {
    return this.state.forced || this.state.error !== null ? 1 : 0;
  }

  /** Fraction for a progress bar: null when none should show, -1 while the total is not known yet. */
  fraction(): number | null {
    if (this.state.phase !== 'stopping') return null;
    return this.state.total > 0 ? Math.min(1, this.state.done / this.state.total) : -1;
  }

  /** One line for a tooltip or a dialog. */
  label(): string {
    const { phase, done, total, forced, error } = this.state;
    if (phase === 'running') return '';
    if (phase === 'stopping') return total > 0 ? `Shutting the pool down: ${done} of ${total} VMs stopped…` : 'Shutting the pool down…';
    if (forced) return `The pool did not confirm its shutdown within ${Math.round(this.watchdogMs / 1000)} s: exiting anyway`;
    if (error !== null) return `The control plane stopped: ${error}`;
    return 'Pool shut down: exiting';
  }

  dispose(): void {
    this.clearWatchdog();
  }

  private giveUp(): void {
    this.watchdog = null;
    if (this.state.phase !== 'stopping') return;
    this.state = { ...this.state, phase: 'stopped', forced: true };
    this.changed();
    this.options.onWatchdog?.();
  }

  private clearWatchdog(): void {
    if (this.watchdog) this.options.clock.clearTimeout(this.watchdog);
    this.watchdog = null;
  }

  private changed(): void {
    this.options.onChange?.(this.snapshot());
  }
}
