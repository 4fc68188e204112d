// Notices that the VM was restored from a saved image (the pool's saved pool): the emulated RTC
// reads the host's time, while the guest's own clock went on from where it was saved, so the two
// part by the time it spent saved. The guest then redials at once: its old connection is gone.
import { closeSync, openSync, readSync } from 'node:fs';

export interface RestoreWatchOptions {
  /** Seconds since the epoch as the RTC reads them; a missing file (no RTC, not a VM) turns the watch off. */
  rtcFile: string;
  /** How often the RTC is read. */
  intervalMs: number;
  /** A change of (RTC − own clock) beyond this many seconds means a restore; the RTC counts whole seconds. */
  thresholdS: number;
  /** Own clock, ms since the epoch. @default Date.now */
  now?: () => number;
  onRestored: (behindS: number) => void;
  /** Called once when the RTC cannot be read at all (the watch then stops). */
  onUnavailable?: (message: string) => void;
}

export interface RestoreWatch {
  stop(): void;
}

export function watchForRestore(options: RestoreWatchOptions): RestoreWatch {
  const now = options.now ?? Date.now;
  let offsetS: number | null = null;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;

  // One descriptor, read again from offset 0 each time (sysfs renders the value afresh): a single
  // synchronous pread, where an asynchronous read cost a thread-pool round trip per check (under
  // emulation an idle guest's CPU went from ~3 % to ~10 % of a core at 5 checks a second).
  let fd: number | null = null;
  const buffer = Buffer.alloc(32);
  const fail = (error: unknown): void => {
    stopped = true;
    if (fd !== null) closeSync(fd);
    fd = null;
    options.onUnavailable?.(error instanceof Error ? error.message : String(error));
  };

  const check = (): void => {
    let rtcS: number;
    try {
      fd ??= openSync(options.rtcFile, 'r');
      const length = readSync(fd, buffer, 0, buffer.length, 0);
      rtcS = Number.parseInt(buffer.toString('latin1', 0, length), 10);
    } catch (error) {
      fail(error);
      return;
    }
    // Unreadable this once (a file being rewritten): the next read decides.
    if (!Number.isFinite(rtcS)) return;
    const current = rtcS - now() / 1000;
    if (offsetS !== null && current - offsetS > options.thresholdS) options.onRestored(Math.round(current - offsetS));
    offsetS = current;
  };

  const arm = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      check();
      arm();
    }, options.intervalMs);
    // Never what keeps the process alive.
    timer.unref();
  };
  check();
  arm();

  return {
    stop: () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (fd !== null) closeSync(fd);
      fd = null;
    },
  };
}
