// Stabilization windows as Kubernetes' HPA implements them (KEP-853, "configurable scale
// velocity"): scale up only to the LOWEST recommendation seen over the up window, down only to
// the HIGHEST over the down window, so a brief spike or dip cannot move the pool. Pure state.

export interface Recommendation {
  atMs: number;
  desired: number;
}

export interface Stabilized {
  /** The member count after stabilization (before step limits and min/max). */
  desired: number;
  /** Lowest recommendation in the up window (including this one). */
  upFloor: number;
  /** Highest recommendation in the down window (including this one). */
  downCeiling: number;
}

export class RecommendationHistory {
  private entries: Recommendation[] = [];

  add(atMs: number, desired: number): void {
    this.entries.push({ atMs, desired });
  }

  clear(): void {
    this.entries = [];
  }

  size(): number {
    return this.entries.length;
  }

  /** Drops entries older than keepMs (the longer of the two windows). */
  prune(nowMs: number, keepMs: number): void {
    const cutoffMs = nowMs - keepMs;
    this.entries = this.entries.filter((entry) => entry.atMs > cutoffMs);
  }

  /**
   * HPA's stabilizeRecommendationWithBehaviors: a recommendation counts in a window when it is
   * strictly newer than now − window, so a window of 0 means "this recommendation only".
   */
  stabilize(nowMs: number, current: number, raw: number, upWindowMs: number, downWindowMs: number): Stabilized {
    let upFloor = raw;
    let downCeiling = raw;
    for (const entry of this.entries) {
      if (entry.atMs > nowMs - upWindowMs) upFloor = Math.min(upFloor, entry.desired);
      if (entry.atMs > nowMs - downWindowMs) downCeiling = Math.max(downCeiling, entry.desired);
    }
    let desired = current;
    if (desired < upFloor) desired = upFloor;
    if (desired > downCeiling) desired = downCeiling;
    return { desired, upFloor, downCeiling };
  }
}
