// `npm run bench`: every benchmark, one after another (never in parallel: they share the cores).
// The guest and control benches always run; ui and kvm run when their files exist. A bench that
// throws is reported and the next one still runs; the exit code then says something failed.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runControlBench } from './control.bench';
import { runGuestBench } from './guest.bench';

const here = dirname(fileURLToPath(import.meta.url));

type BenchRun = () => Promise<void>;

/** The module's `run…Bench` export: `name` (e.g. runUiBench) or else the one export named like it. */
function benchExport(module: Record<string, unknown>, name: string): BenchRun {
  const candidates = [name, ...Object.keys(module).filter((key) => /^run\w*Bench$/i.test(key))];
  const found = candidates.map((key) => module[key]).find((value) => typeof value === 'function');
  if (!found) throw new Error(`no ${name}() export`);
  return found as BenchRun;
}

/** Imports an optional bench only when its file is there. */
async function optionalBench(file: string, exportName: string): Promise<BenchRun | null> {
  const path = join(here, file);
  if (!existsSync(path)) return null;
  const module = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  return benchExport(module, exportName);
}

async function main(): Promise<void> {
  const benches: Array<{ name: string; run: BenchRun | null }> = [
    { name: 'guest', run: runGuestBench },
    { name: 'control', run: runControlBench },
    { name: 'ui', run: await optionalBench('ui.bench.ts', 'runUiBench') },
    { name: 'kvm', run: await optionalBench('kvm.bench.ts', 'runKvmBench') },
  ];
  let failed = 0;
  for (const bench of benches) {
    if (!bench.run) {
      console.log(`== ${bench.name}: skipped (test/bench/${bench.name}.bench.ts not present)\n`);
      continue;
    }
    console.log(`== ${bench.name}`);
    try {
      await bench.run();
    } catch (error) {
      failed++;
      console.error(`== ${bench.name} failed:`, error);
    }
    console.log('');
  }
  if (failed > 0) process.exitCode = 1;
}

await main();
