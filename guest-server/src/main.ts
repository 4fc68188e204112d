// Entry point of the one-file guest server (bundled to guest-server/dist/guest-server.js). In the
// main thread it parses flags, starts the server and handles signals; started as a worker thread
// from this same file, it runs a collide worker instead; loaded to build a Node start-up snapshot
// (the guest image's), it starts nothing and leaves main to the process started from the snapshot.
// Only this file may exit the process.
import { startupSnapshot } from 'node:v8';
import { startGuestServer, type RunningGuest } from './guest';
import { createLogger } from './log';
import { OptionsError, parseGuestArgs } from './options';
import { WorkerPool } from './pool';
import { isCollideWorkerInit } from './worker-messages';
import { workerThreads } from './worker-threads';

/** Exit code for a bad command line, as usual for CLI tools. */
const EXIT_USAGE = 2;

/**
 * The file worker threads start from. In the CommonJS bundle `__filename` is this very file; the
 * typeof guard keeps the TS sources loadable as ESM too (where the name does not exist).
 */
function ownScriptPath(): string {
  return typeof __filename === 'string' ? __filename : (process.argv[1] ?? '');
}

async function main(argv: string[], fromSnapshot: boolean): Promise<void> {
  let command;
  try {
    command = parseGuestArgs(argv);
  } catch (error) {
    if (!(error instanceof OptionsError)) throw error;
    process.stderr.write(`guest-server: ${error.message}\nRun with --help for usage.\n`);
    process.exit(EXIT_USAGE);
  }
  if (command.kind !== 'run') {
    process.stdout.write(command.text.endsWith('\n') ? command.text : `${command.text}\n`);
    return;
  }
  const log = createLogger(command.options.logLevel);
  // Since the process began: how long Node took to reach the server when its modules came loaded.
  if (fromSnapshot) log.info('started_from_snapshot', { ms: Math.round(performance.now()) });
  process.on('uncaughtException', (error) => {
    log.error('fatal', { message: error.message, stack: error.stack });
    process.exit(1);
  });
  process.on('unhandledRejection', (reason) => {
    log.error('fatal', { message: reason instanceof Error ? reason.message : String(reason) });
    process.exit(1);
  });

  // Handlers go in before anything starts: a signal during start-up must still end in a drain.
  let running: RunningGuest | null = null;
  let pendingSignal: NodeJS.Signals | null = null;
  const stop = (guest: RunningGuest, signal: NodeJS.Signals): void => {
    if (guest.shutdownStarted) {
      // A second signal cuts the drain short instead of killing mid-write.
      log.warn('shutdown_expedited', { signal });
      guest.expediteShutdown();
      return;
    }
    void guest.shutdown(signal).then(() => process.exit(0));
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (running) stop(running, signal);
    else pendingSignal = signal;
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  function failStart(error: unknown): never {
    log.error('start_failed', { message: error instanceof Error ? error.message : String(error) });
    process.exit(1);
  }

  // The server starts the pool's threads once it has registered (see startGuestServer).
  const { options } = command;
  const pool = new WorkerPool({ workerFile: ownScriptPath(), workers: options.workers, hashRatePerWorker: options.hashRatePerWorker, log });
  try {
    running = await startGuestServer(options, { pool, log });
  } catch (error) {
    failStart(error);
  }
  // A server whose first worker never starts is useless: it ends, and its init or unit restarts it.
  running.firstWorkerReady.catch(failStart);
  if (pendingSignal) stop(running, pendingSignal);
  if (command.options.exitWithStdin) {
    // The parent is gone (even by SIGKILL): nobody is left to manage this guest, so it ends at once.
    const parentGone = (): void => {
      log.warn('parent_gone', { reason: 'standard input closed' });
      process.exit(1);
    };
    process.stdin.on('end', parentGone);
    process.stdin.on('close', parentGone);
    process.stdin.on('error', parentGone);
    process.stdin.resume();
  }
}

if (startupSnapshot.isBuildingSnapshot()) {
  // `node --build-snapshot guest-server.js`: the snapshot holds this bundle's modules loaded and
  // evaluated (the guest image's, compiled too, registers ~0.45 s sooner under TCG). A process
  // started from it (`node --snapshot-blob FILE -- ARGS`) has no script argument: its own
  // arguments begin at argv[1].
  startupSnapshot.setDeserializeMainFunction(() => void main(process.argv.slice(1), true));
} else {
  const { isMainThread, parentPort, workerData } = workerThreads();
  if (isMainThread) void main(process.argv.slice(2), false);
  else if (parentPort && isCollideWorkerInit(workerData)) {
    const port = parentPort;
    void import('./worker').then(({ runCollideWorker }) => runCollideWorker(workerData, port));
  }
}
