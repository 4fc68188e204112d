// The load generator: an open-model arrival process that follows a LoadProfile. Arrivals happen at
// the offered rate whether or not earlier requests finished, each stamped with its exact intended
// time so latency is measured from it (no coordinated omission). It sends nothing itself.
import type { Clock, TimerHandle } from '../clock';
import { nullLogger, type Logger } from '../metrics/log';
import { describeProfile, profilePieceAt, rateAt, rateFromInterRequestS, ProfileError, type LoadProfile } from './profiles';

/** One arrival: `seq` counts from 0 since start(); `intendedAtMs` is on the clock's nowMs() scale. */
export type Arrival = { seq: number; intendedAtMs: number };

/** `uniform` spaces arrivals evenly (the original's fixed inter-request time); `poisson` draws exponential gaps. */
export type ArrivalProcess = 'uniform' | 'poisson';

export type LoadGeneratorOptions = {
  clock: Clock;
  profile: LoadProfile;
  /** How arrivals are spaced at a given rate. @default 'uniform' */
  arrivals?: ArrivalProcess;
  /** Uniform [0, 1) source for poisson gaps; pass a seeded PRNG in tests. @default Math.random */
  random?: () => number;
  /** Most arrivals emitted in one wake-up; the rest follow on a 0 ms timer so I/O can run between. @default 1000 */
  maxBurst?: number;
  /** Integration step for smoothly varying profiles (ramp, sine), in ms of profile time. @default 10 */
  stepMs?: number;
  /** Longest sleep between wake-ups, so a rate that rises from 0 is noticed. @default 100 */
  maxWaitMs?: number;
  /** Shortest sleep between wake-ups; each wake-up emits every arrival already due. @default 1 */
  minWaitMs?: number;
  /** Receives each arrival, in order. Its exceptions are logged, never propagated. */
  onArrival: (arrival: Arrival) => void;
  /** @default nullLogger */
  logger?: Logger;
};

export type LoadGeneratorStatus = {
  running: boolean;
  paused: boolean;
  /** Seconds of running time since start(), excluding pauses. */
  elapsedS: number;
  /** Seconds of running time since the current profile was set. */
  profileElapsedS: number;
  /** The profile's rate now (requests/second); 0 when stopped or paused. */
  offeredRps: number;
  /** Arrivals emitted since start(). */
  sent: number;
};

/** Credit shortfall (in arrivals) still counted as reached: sums of float steps land a hair under 1. */
const CREDIT_EPSILON = 1e-9;

type ScanResult = { crossMs: number; creditAt?: undefined } | { crossMs?: undefined; creditAt: number };

/**
 * Arrivals are found by integrating the rate over time: an arrival happens when ∫rate dt since the
 * previous one reaches a threshold (1 for uniform, an Exp(1) draw for poisson, which makes a
 * non-homogeneous Poisson process). Time here is "active" ms: running time since start(), with
 * pauses cut out, so a paused profile does not advance.
 */
export class LoadGenerator {
  private readonly clock: Clock;
  private readonly onArrival: (arrival: Arrival) => void;
  private readonly logger: Logger;
  private readonly arrivals: ArrivalProcess;
  private readonly random: () => number;
  private readonly maxBurst: number;
  private readonly stepMs: number;
  private readonly maxWaitMs: number;
  private readonly minWaitMs: number;

  private currentProfile: LoadProfile;
  private running = false;
  private paused = false;
  /** Active ms accumulated before the current running stretch. */
  private activeBaseMs = 0;
  /** Clock ms at which the current running stretch (start or resume) began. */
  private stretchStartMs = 0;
  /** Active ms at which the current profile was set. */
  private profileOriginMs = 0;
  /** Active ms up to which the rate has been integrated. */
  private integratedMs = 0;
  /** ∫rate dt since the last arrival, up to integratedMs (in arrivals). */
  private credit = 0;
  /** Credit at which the next arrival happens. */
  private threshold = 1;
  private sent = 0;
  private timer: TimerHandle | undefined;
  /** Bumped by every control call, so an emission loop notices a call made from onArrival. */
  private version = 0;

  constructor(options: LoadGeneratorOptions) {
    this.clock = options.clock;
    this.currentProfile = options.profile;
    this.onArrival = options.onArrival;
    this.logger = options.logger ?? nullLogger;
    this.arrivals = options.arrivals ?? 'uniform';
    this.random = options.random ?? Math.random;
    this.maxBurst = Math.max(1, options.maxBurst ?? 1000);
    this.stepMs = Math.max(0.001, options.stepMs ?? 10);
    this.maxWaitMs = Math.max(1, options.maxWaitMs ?? 100);
    this.minWaitMs = Math.max(0, options.minWaitMs ?? 1);
  }

  get profile(): LoadProfile {
    return this.currentProfile;
  }

  /** Starts from zero (elapsed, sent, profile time). A no-op while running. */
  start(): void {
    if (this.running) return;
    this.version++;
    this.running = true;
    this.paused = false;
    this.activeBaseMs = 0;
    this.stretchStartMs = this.clock.nowMs();
    this.profileOriginMs = 0;
    this.integratedMs = 0;
    this.credit = 0;
    this.threshold = this.nextThreshold();
    this.sent = 0;
    this.logger.info('loadgen.start', { profile: describeProfile(this.currentProfile), arrivals: this.arrivals });
    this.arm(false);
  }

  /** Emits the arrivals already due, then stops. */
  stop(): void {
    if (!this.running) return;
    if (!this.paused) this.catchUp(this.activeNowMs(), Infinity);
    this.version++;
    this.activeBaseMs = this.activeNowMs();
    this.running = false;
    this.paused = false;
    this.disarm();
    this.logger.info('loadgen.stop', { sent: this.sent, elapsedS: this.activeBaseMs / 1000 });
  }

  /** Emits the arrivals already due, then freezes time: the profile does not advance while paused. */
  pause(): void {
    if (!this.running || this.paused) return;
    this.catchUp(this.activeNowMs(), Infinity);
    this.version++;
    this.activeBaseMs = this.activeNowMs();
    this.paused = true;
    this.disarm();
    this.logger.info('loadgen.pause', { sent: this.sent });
  }

  resume(): void {
    if (!this.running || !this.paused) return;
    this.version++;
    this.paused = false;
    this.stretchStartMs = this.clock.nowMs();
    this.logger.info('loadgen.resume', {});
    this.arm(false);
  }

  /**
   * Switches to a new profile that begins now (its time 0 is this moment). The progress toward the
   * next arrival carries over, so the next arrival comes when ∫rate since the last one reaches 1.
   */
  setProfile(profile: LoadProfile): void {
    const live = this.running && !this.paused;
    if (live) this.catchUp(this.activeNowMs(), Infinity);
    this.version++;
    this.currentProfile = profile;
    this.profileOriginMs = this.activeNowMs();
    this.logger.info('loadgen.profile', { profile: describeProfile(profile) });
    if (live) this.arm(false);
  }

  /** Sets a constant rate in requests/second (0 stops arrivals until it rises again). */
  setRateRps(rateRps: number): void {
    if (!Number.isFinite(rateRps) || rateRps < 0) throw new ProfileError('invalid_rate', `rate must be a number of requests/second ≥ 0, got ${rateRps}`);
    this.setProfile({ kind: 'constant', rateRps });
  }

  /** Sets a constant rate as the original's inter-request time (seconds between requests, > 0). */
  setInterRequestS(interRequestS: number): void {
    this.setRateRps(rateFromInterRequestS(interRequestS));
  }

  status(): LoadGeneratorStatus {
    const activeMs = this.activeNowMs();
    const profileElapsedS = Math.max(0, activeMs - this.profileOriginMs) / 1000;
    const live = this.running && !this.paused;
    return {
      running: this.running,
      paused: this.paused,
      elapsedS: activeMs / 1000,
      profileElapsedS,
      offeredRps: live ? rateAt(this.currentProfile, profileElapsedS) : 0,
      sent: this.sent,
    };
  }

  private activeNowMs(): number {
    if (!this.running || this.paused) return this.activeBaseMs;
    return this.activeBaseMs + Math.max(0, this.clock.nowMs() - this.stretchStartMs);
  }

  private toClockMs(activeMs: number): number {
    return this.stretchStartMs + (activeMs - this.activeBaseMs);
  }

  private nextThreshold(): number {
    if (this.arrivals === 'uniform') return 1;
    // Exp(1) by inversion; 1 - U is in (0, 1], so the log is finite.
    return -Math.log(1 - this.random());
  }

  /**
   * Integrates the rate from `fromMs` toward `toMs` (active ms) starting at `credit`; returns the
   * time the credit reaches the threshold, or the credit at `toMs` if it does not. Constant pieces of
   * the profile are integrated exactly; smooth ones by the midpoint rule in steps of stepMs.
   */
  private scan(fromMs: number, credit: number, toMs: number): ScanResult {
    const profile = this.currentProfile;
    const origin = this.profileOriginMs;
    let t = fromMs;
    let c = credit;
    while (t < toMs) {
      const piece = profilePieceAt(profile, (t - origin) / 1000);
      let endMs = origin + piece.endS * 1000;
      if (piece.smooth) endMs = Math.min(endMs, t + this.stepMs);
      endMs = Math.min(endMs, toMs);
      // Rounding at a piece boundary can give an empty piece: step over it by a microsecond.
      if (!(endMs > t)) endMs = Math.min(toMs, t + 0.001);
      const ratePerMs = rateAt(profile, ((t + endMs) / 2 - origin) / 1000) / 1000;
      if (ratePerMs > 0) {
        const need = this.threshold - c;
        if (need <= ratePerMs * (endMs - t) + CREDIT_EPSILON) return { crossMs: Math.min(endMs, t + Math.max(0, need) / ratePerMs) };
        c += ratePerMs * (endMs - t);
      }
      t = endMs;
    }
    return { creditAt: c };
  }

  /** Emits every arrival due by `nowMs` (at most `maxBurst`). */
  private catchUp(nowMs: number, maxBurst: number): 'done' | 'more' | 'aborted' {
    const version = this.version;
    let emitted = 0;
    for (;;) {
      const result = this.scan(this.integratedMs, this.credit, nowMs);
      if (result.crossMs === undefined) {
        this.credit = result.creditAt;
        this.integratedMs = Math.max(this.integratedMs, nowMs);
        return 'done';
      }
      // State first, then the callback: a control call from inside onArrival sees a consistent state.
      this.integratedMs = result.crossMs;
      this.credit = 0;
      this.threshold = this.nextThreshold();
      const arrival: Arrival = { seq: this.sent, intendedAtMs: this.toClockMs(result.crossMs) };
      this.sent++;
      try {
        this.onArrival(arrival);
      } catch (error) {
        this.logger.error('loadgen.arrival_failed', { seq: arrival.seq, error });
      }
      if (this.version !== version) return 'aborted';
      if (++emitted >= maxBurst) return 'more';
    }
  }

  private readonly wake = (): void => {
    this.timer = undefined;
    if (!this.running || this.paused) return;
    const outcome = this.catchUp(this.activeNowMs(), this.maxBurst);
    // 'aborted': a control call from onArrival has already re-armed (or stopped) the generator.
    if (outcome !== 'aborted') this.arm(outcome === 'more');
  };

  /** Sleeps until the next arrival is due, at most maxWaitMs (and at least minWaitMs). */
  private arm(immediately: boolean): void {
    this.disarm();
    if (!this.running || this.paused) return;
    let delayMs = 0;
    if (!immediately) {
      const nowMs = this.activeNowMs();
      const result = this.scan(this.integratedMs, this.credit, nowMs + this.maxWaitMs);
      delayMs = result.crossMs === undefined ? this.maxWaitMs : Math.max(this.minWaitMs, result.crossMs - nowMs);
    }
    this.timer = this.clock.setTimeout(this.wake, delayMs);
  }

  private disarm(): void {
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
