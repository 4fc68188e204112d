// CPU % of a domain from two libvirt samples, the virt-manager way (divided by vCPUs).
// Pure arithmetic: knows nothing about connections, polling or clocks.

/** One reading of a domain's cumulative CPU time, with the monotonic time it was taken. */
export interface CpuSample {
  /** Cumulative guest CPU time in nanoseconds (virDomainInfo.cpuTime). */
  cpuTimeNs: number;
  /** Monotonic time of the reading in milliseconds (Clock.nowMs()). */
  atMs: number;
}

/**
 * `100 × Δ cpuTime / (Δ wall × vCPUs)`, clamped to 0–100.
 * Null when there is no earlier sample, when no wall time passed, when vcpus is not positive,
 * or when cpuTime went backwards (the domain restarted between samples, so the delta means nothing).
 */
export function cpuPercent(prev: CpuSample | undefined, next: CpuSample, vcpus: number): number | null {
  if (!prev || vcpus <= 0) return null;
  const wallNs = (next.atMs - prev.atMs) * 1_000_000;
  if (!(wallNs > 0)) return null;
  const cpuNs = next.cpuTimeNs - prev.cpuTimeNs;
  if (cpuNs < 0) return null;
  const percent = (100 * cpuNs) / (wallNs * vcpus);
  return Math.min(100, Math.max(0, percent));
}
