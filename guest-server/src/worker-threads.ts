// node:worker_threads, loaded when first needed instead of with the modules: a Node start-up
// snapshot (the guest image's) must not hold it, or every thread of a process started from it
// fails ("undefined is not an integer typed array": its shared cwd counter does not survive).
import type * as WorkerThreads from 'node:worker_threads';

/** The module, loaded now: process.getBuiltinModule (Node ≥ 20.16), else the CommonJS bundle's require. */
export function workerThreads(): typeof WorkerThreads {
  if (typeof process.getBuiltinModule === 'function') return process.getBuiltinModule('node:worker_threads');
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- only the bundle runs on a Node this old
  return require('node:worker_threads') as typeof WorkerThreads;
}
