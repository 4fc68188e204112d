// What /proc says about a process, for tests that signal guest processes: its scheduler state,
// its process group, and whether it is still alive. Linux only, read-only.
import { readFileSync } from 'node:fs';

export interface ProcStat {
  /** Scheduler state letter: 'R' running, 'S' sleeping, 'T' stopped, 'Z' zombie… */
  state: string;
  /** Process group id. */
  pgid: number;
}

/** The process's /proc/<pid>/stat fields of interest, or undefined when it is gone. */
export function procStat(pid: number): ProcStat | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name may hold spaces and parentheses: fields start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '', pgid: Number(fields[2]) };
}

export function procState(pid: number): string | undefined {
  return procStat(pid)?.state;
}

/** True when a process with this pid exists and is not a zombie. */
export function processAlive(pid: number): boolean {
  const state = procState(pid);
  return state !== undefined && state !== 'Z' && state !== 'X';
}
