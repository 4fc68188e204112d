// Runs the REAL bundled guest server (guest-server/dist/guest-server.js) as a child process for
// tests and benches: builds it first when missing or stale, reads the bound port from its JSON
// logs, and always kills the child. It must never dial anything but loopback: without --manager it
// passes --no-manager, so a test guest cannot wander off to the machine's default gateway.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The bundled guest server every test and the sandbox run. */
export const GUEST_DIST = join(root, 'guest-server', 'dist', 'guest-server.js');
const GUEST_SOURCES = join(root, 'guest-server', 'src');
const BUILD_SCRIPT = join(root, 'build', 'build.mjs');
const LOCK_DIR = join(root, 'guest-server', 'dist', '.build-lock');
/** A lock older than this is left over from a killed run. */
const STALE_LOCK_MS = 120_000;

function newestMtimeMs(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtimeMs(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function isStale(): boolean {
  if (!existsSync(GUEST_DIST)) return true;
  const builtMs = statSync(GUEST_DIST).mtimeMs;
  const inputsMs = Math.max(newestMtimeMs(GUEST_SOURCES), existsSync(BUILD_SCRIPT) ? statSync(BUILD_SCRIPT).mtimeMs : 0);
  return builtMs < inputsMs;
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function runBuild(): void {
  const full = spawnSync(process.execPath, [BUILD_SCRIPT], { cwd: root, encoding: 'utf8' });
  if (full.status === 0) return;
  // The full build also bundles the CLI, which other work in progress may break; the guest alone
  // is what is needed here, with the same esbuild settings as build/build.mjs.
  const script = [
    "import { build } from 'esbuild';",
    'await build({',
    `  entryPoints: [${JSON.stringify(join(GUEST_SOURCES, 'main.ts'))}], outfile: ${JSON.stringify(GUEST_DIST)},`,
    "  bundle: true, platform: 'node', target: 'node20', format: 'cjs', sourcemap: false, logLevel: 'warning',",
    "  legalComments: 'none', banner: { js: '#!/usr/bin/env node' },",
    '});',
  ].join('\n');
  const guestOnly = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
  if (guestOnly.status !== 0) {
    throw new Error(`building the guest server failed:\n${full.stderr}\n${guestOnly.stderr}`);
  }
}

/**
 * Builds guest-server/dist/guest-server.js when it is missing or older than its sources, once
 * across parallel test files (a lock directory serializes them). Synchronous, returns the path.
 */
export function ensureGuestBuilt(): string {
  if (!isStale()) return GUEST_DIST;
  mkdirSync(dirname(LOCK_DIR), { recursive: true });
  const deadline = Date.now() + STALE_LOCK_MS;
  for (;;) {
    try {
      mkdirSync(LOCK_DIR);
      break;
    } catch {
      if (!isStale()) return GUEST_DIST; // another process finished the build meanwhile
      let ageMs = 0;
      try {
        ageMs = Date.now() - statSync(LOCK_DIR).mtimeMs;
      } catch {
        continue; // released between our attempts
      }
      if (ageMs > STALE_LOCK_MS || Date.now() > deadline) rmSync(LOCK_DIR, { recursive: true, force: true });
      else sleepSync(100);
    }
  }
  try {
    if (isStale()) runBuild();
  } finally {
    rmSync(LOCK_DIR, { recursive: true, force: true });
  }
  return GUEST_DIST;
}

/** One JSON log line of the guest (non-JSON stderr output is kept as `{ raw }`). */
export type GuestLogLine = Record<string, unknown> & { event?: string; level?: string };

export interface StartGuestOptions {
  /** Let the guest discover its manager (only with discovery files pointed at test fixtures). @default false */
  allowDiscovery?: boolean;
  /** How long to wait for the "listening" log line, in ms. @default 15000 */
  readyTimeoutMs?: number;
  /** Copy the guest's stderr to this process's stderr (debugging). @default false */
  echoLogs?: boolean;
  /** Run this copy of the bundle instead of GUEST_DIST (e.g. one copied out of the repository). */
  script?: string;
  /** Start Node from this start-up snapshot of the bundle (`node --snapshot-blob FILE -- ARGS`) instead. */
  snapshot?: string;
  /** Flags for Node itself, before the script or snapshot. */
  nodeFlags?: string[];
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface GuestProcess {
  /** The guest's own listening port (on 127.0.0.1 unless --listen said otherwise). */
  port: number;
  child: ChildProcess;
  /** Every log line so far. */
  logs(): GuestLogLine[];
  /** Resolves with the first log line (past or future) matching `predicate`. */
  waitForLog(predicate: (line: GuestLogLine) => boolean, timeoutMs?: number): Promise<GuestLogLine>;
  /** Resolves when the process has exited. */
  exited: Promise<ExitInfo>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves on exit. Safe to call twice. */
  stop(graceMs?: number): Promise<ExitInfo>;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A test runner that dies mid-test must not leave guests spinning on a shared machine.
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

/** Starts the built guest server with `args` (added: --listen 127.0.0.1:0, and --no-manager unless --manager is given). */
export async function startGuest(args: readonly string[] = [], options: StartGuestOptions = {}): Promise<GuestProcess> {
  const built = ensureGuestBuilt();
  const script = options.script ?? built;
  const finalArgs = [...args];
  if (!finalArgs.includes('--listen')) finalArgs.push('--listen', '127.0.0.1:0');
  if (!finalArgs.includes('--manager') && !finalArgs.includes('--no-manager') && !options.allowDiscovery) finalArgs.push('--no-manager');

  installExitHook();
  const entry = options.snapshot ? ['--snapshot-blob', options.snapshot, '--'] : [script];
  const child = spawn(process.execPath, [...(options.nodeFlags ?? []), ...entry, ...finalArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const lines: GuestLogLine[] = [];
  const waiters: Array<{ predicate: (line: GuestLogLine) => boolean; resolve: (line: GuestLogLine) => void }> = [];
  let partial = '';
  child.stdout?.resume();
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    if (options.echoLogs) process.stderr.write(chunk);
    partial += chunk;
    let newline = partial.indexOf('\n');
    while (newline >= 0) {
      const text = partial.slice(0, newline);
      partial = partial.slice(newline + 1);
      newline = partial.indexOf('\n');
      if (text.trim() === '') continue;
      let line: GuestLogLine;
      try {
        const parsed: unknown = JSON.parse(text);
        line = typeof parsed === 'object' && parsed !== null ? (parsed as GuestLogLine) : { raw: text };
      } catch {
        line = { raw: text };
      }
      lines.push(line);
      for (const waiter of [...waiters]) {
        if (waiter.predicate(line)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
    }
  });
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });

  const waitForLog = (predicate: (line: GuestLogLine) => boolean, timeoutMs = 10_000): Promise<GuestLogLine> => {
    const seen = lines.find(predicate);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = {
        predicate,
        resolve: (line: GuestLogLine) => {
          clearTimeout(timer);
          resolve(line);
        },
      };
      const timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(waiter), 1);
        reject(new Error(`guest log line not seen within ${timeoutMs} ms; last lines:\n${lines.slice(-10).map((l) => JSON.stringify(l)).join('\n')}`));
      }, timeoutMs);
      waiters.push(waiter);
      void exited.then((info) => {
        if (!waiters.includes(waiter)) return;
        waiters.splice(waiters.indexOf(waiter), 1);
        clearTimeout(timer);
        reject(new Error(`guest exited (${JSON.stringify(info)}) before the log line; last lines:\n${lines.slice(-10).map((l) => JSON.stringify(l)).join('\n')}`));
      });
    });
  };

  const stop = async (graceMs = 5000): Promise<ExitInfo> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const info = await exited;
      clearTimeout(timer);
      return info;
    }
    return exited;
  };

  let listening: GuestLogLine;
  try {
    listening = await waitForLog((line) => line.event === 'listening', options.readyTimeoutMs ?? 15_000);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  const port = listening.port;
  if (typeof port !== 'number') {
    child.kill('SIGKILL');
    throw new Error(`guest 'listening' log line has no port: ${JSON.stringify(listening)}`);
  }
  return { port, child, logs: () => [...lines], waitForLog, exited, stop };
}
