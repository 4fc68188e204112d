// Estimates what one member can serve, from the guests' own heartbeats: hashes/s ÷ busy fraction
// is a member's full hash rate; divided by the expected attempts of a request it gives requests/s.
// Used to derive demand (VMs the offered load needs) for the elasticity metrics; decides nothing.
import type { LoadMessage } from '../../../guest-server/src/protocol';

export class CapacityEstimator {
  private fullHashRate: number | null = null;

  constructor(
    /** Heartbeats with less busy than this say too little about full speed. @default 0.2 */
    private readonly minBusy = 0.2,
    /** Weight of each new observation in the moving average. @default 0.1 */
    private readonly alpha = 0.1,
  ) {}

  observe(load: LoadMessage): void {
    // A first heartbeat may say "busy" before any hash was counted: it says nothing about speed.
    if (load.hashRate === undefined || load.hashRate <= 0 || load.busy < this.minBusy) return;
    const full = load.hashRate / load.busy;
    this.fullHashRate = this.fullHashRate === null ? full : this.fullHashRate + this.alpha * (full - this.fullHashRate);
  }

  /** Requests/s one member serves at full load with `digits` hex digits (expected attempts 16^digits); null until observed. */
  capacityRps(digits: number): number | null {
    if (this.fullHashRate === null || !(this.fullHashRate > 0)) return null;
    return this.fullHashRate / 16 ** digits;
  }
}
