// Ctrl-C safety for benchmarks: stop functions registered here run once on SIGINT/SIGTERM before
// the process exits, so an interrupted bench leaves no guest process on a shared machine.
// It only runs what it was given; the normal path still stops everything in its own finally.

type StopFn = () => Promise<void>;

const pending = new Set<StopFn>();
let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  const onSignal = (signal: NodeJS.Signals): void => {
    console.error(`bench: ${signal}: stopping every process it started…`);
    const all = [...pending].map((stop) => stop().catch(() => undefined));
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, 10_000).unref());
    void Promise.race([Promise.all(all), timeout]).then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
}

/** Runs `body` with `stop` registered for interrupts, then always runs `stop` itself. */
export async function withCleanup<T>(stop: StopFn, body: () => Promise<T>): Promise<T> {
  install();
  pending.add(stop);
  try {
    return await body();
  } finally {
    pending.delete(stop);
    await stop();
  }
}
