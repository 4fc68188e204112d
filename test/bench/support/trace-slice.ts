// Picks the load trace for the elasticity benchmark and cuts a window out of it, averaged into
// equal bins (the volume of requests is kept: each bin's rate is the time-weighted mean). Reads
// only the trace files named here; it replays nothing (the load generator does).
import { existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUNDLED_TRACE_RELATIVE_PATH, loadTraceFile } from '../../../electron/core/loadgen/trace';
import { rateAt, traceLengthS, type TracePoint } from '../../../electron/core/loadgen/profiles';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** The bundled 3-day trace, else the full month in ../shared/traces (same first days). */
export async function loadBenchTrace(): Promise<{ points: TracePoint[]; source: string }> {
  const candidates = [join(root, BUNDLED_TRACE_RELATIVE_PATH), join(root, '..', 'shared', 'traces', 'nasa_jul95_1min.csv')];
  const path = candidates.find((candidate) => existsSync(candidate));
  if (!path) throw new Error(`no trace file found; looked in: ${candidates.join(', ')}`);
  return { points: await loadTraceFile(path), source: relative(root, path) };
}

/**
 * The trace between fromS and toS (trace seconds), re-based to start at 0, as one point per binS
 * whose rate is the mean rate over that bin. Throws when the window is empty or past the trace.
 */
export function sliceTrace(points: readonly TracePoint[], fromS: number, toS: number, binS: number): TracePoint[] {
  if (!(binS > 0) || !(toS > fromS)) throw new RangeError(`need binS > 0 and toS > fromS, got ${binS}, ${fromS}, ${toS}`);
  if (toS > traceLengthS(points)) throw new RangeError(`window ends at ${toS} s, after the trace (${traceLengthS(points)} s)`);
  const profile = { kind: 'trace' as const, points: [...points], timeScale: 1, rateScale: 1, loop: false };
  const out: TracePoint[] = [];
  // The trace is a step function: integrate it in 1 s steps (its rows are a minute apart).
  for (let start = fromS; start < toS; start += binS) {
    const end = Math.min(toS, start + binS);
    let sum = 0;
    for (let t = start; t < end; t += 1) sum += rateAt(profile, t + 0.5) * Math.min(1, end - t);
    out.push({ tS: start - fromS, rateRps: sum / (end - start) });
  }
  return out;
}
