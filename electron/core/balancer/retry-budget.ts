// A retry budget over a sliding time window (after Finagle's RetryBudget): retries may add at most
// `ratio` × requests plus a small floor, so a failing pool is not hammered by its own retries.
// It only counts; it never decides which member a retry goes to.
import type { Clock } from '../clock';

export interface RetryBudgetOptions {
  clock: Clock;
  /** Retries allowed per request submitted in the window (0.2 = 20 % extra load at most). @default 0.2 */
  ratio?: number;
  /** Retries always allowed per window, so the first failures of a quiet period can retry. @default 10 */
  minRetriesPerWindow?: number;
  /** Length of the sliding window, in ms. @default 10000 */
  windowMs?: number;
  /** Buckets the window is cut into; more buckets slide more smoothly. @default 10 */
  buckets?: number;
}

export class RetryBudget {
  private readonly clock: Clock;
  private readonly ratio: number;
  private readonly floor: number;
  private readonly bucketMs: number;
  private readonly requests: number[];
  private readonly retries: number[];
  private currentBucket: number;

  constructor(options: RetryBudgetOptions) {
    this.clock = options.clock;
    this.ratio = options.ratio ?? 0.2;
    this.floor = options.minRetriesPerWindow ?? 10;
    const buckets = Math.max(1, Math.floor(options.buckets ?? 10));
    this.bucketMs = Math.max(1, (options.windowMs ?? 10_000) / buckets);
    this.requests = new Array<number>(buckets).fill(0);
    this.retries = new Array<number>(buckets).fill(0);
    this.currentBucket = Math.floor(this.clock.nowMs() / this.bucketMs);
  }

  /** Counts one request submitted. */
  deposit(): void {
    const index = this.rotate();
    this.requests[index] = (this.requests[index] ?? 0) + 1;
  }

  /** Takes one retry from the budget; false (and nothing taken) when the budget is spent. */
  tryWithdraw(): boolean {
    const index = this.rotate();
    const requests = this.requests.reduce((sum, n) => sum + n, 0);
    const retries = this.retries.reduce((sum, n) => sum + n, 0);
    if (retries + 1 > this.ratio * requests + this.floor) return false;
    this.retries[index] = (this.retries[index] ?? 0) + 1;
    return true;
  }

  /** Zeroes the buckets that slid out of the window; returns the current bucket's index. */
  private rotate(): number {
    const size = this.requests.length;
    const bucket = Math.floor(this.clock.nowMs() / this.bucketMs);
    const steps = Math.min(size, bucket - this.currentBucket);
    for (let i = 1; i <= steps; i++) {
      const index = (((this.currentBucket + i) % size) + size) % size;
      this.requests[index] = 0;
      this.retries[index] = 0;
    }
    if (bucket > this.currentBucket) this.currentBucket = bucket;
    return ((this.currentBucket % size) + size) % size;
  }
}
