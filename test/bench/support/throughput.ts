// Throughput of the control plane's request path against a direct client, on the SAME guest
// processes: closed loops with equal windows (alternating, several rounds) and open-loop steps
// through the app's LoadGenerator. It measures; judging and printing are the caller's.
import { systemClock } from '../../../electron/core/clock';
import { Balancer, type BalancerRequest } from '../../../electron/core/balancer/balancer';
import { withCleanup } from './cleanup';
import { DirectClient, type DoneCallback } from './direct-client';
import { closedLoop, openLoopStep, type OpenLoopResult, type WindowResult } from './drivers';
import { startGuestFleet } from './guest-fleet';

export interface ThroughputOptions {
  /** Guest processes (one worker each). */
  guests: number;
  /** Requests outstanding per guest in the closed loops (the guest refuses more than 64 per connection). */
  windowPerGuest: number;
  /** Hex digits per request (1: the protocol and the path dominate, not hashing). */
  digits: number;
  /** Alternating closed-loop rounds (baseline, control plane, baseline, …). */
  rounds: number;
  warmupMs: number;
  windowMs: number;
  /**
   * Open-loop steps: the first offers this fraction of the best baseline, each next one `openGrowth`
   * times more, until a step is not sustained or the rate passes `openMaxFraction` of the baseline.
   */
  openStartFraction: number;
  openGrowth: number;
  openMaxFraction: number;
  /** An open-loop step counts as sustained when served ≥ this share of offered, with no failures. */
  sustainedShare: number;
}

export interface ThroughputResult {
  baseline: WindowResult[];
  plane: WindowResult[];
  open: OpenLoopResult[];
  /**
   * Best closed-loop round of each path, requests/s. On a shared machine noise only ever slows a
   * round down, so the best round is the closest to what the path can do.
   */
  baselineRps: number;
  planeRps: number;
  /** planeRps / baselineRps. */
  bestRatio: number;
  /** Median over rounds of plane/baseline (each round's pair ran back to back). */
  medianRatio: number;
  /** Highest sustained open-loop offered rate, requests/s (0 if none). */
  sustainedRps: number;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

export async function measureThroughput(options: ThroughputOptions): Promise<ThroughputResult> {
  const fleet = await startGuestFleet({ count: options.guests, workers: 1 });
  const clients: DirectClient[] = [];
  const stop = async (): Promise<void> => {
    for (const client of clients) client.close();
    await fleet.stop();
  };
  return withCleanup(stop, async () => {
    for (const member of fleet.members) clients.push(await DirectClient.connect(member.directPort));
    // The same classes and settings the ControlPlane wires: agents as members, app defaults.
    const balancer = new Balancer({ clock: systemClock, members: () => fleet.members.map((member) => member.agent).filter((agent) => agent.healthy) });
    // The same request the ControlPlane makes for arrival `seq` (see ControlPlane.onArrival).
    const request = (seq: number, intendedAtMs: number): BalancerRequest => ({ seq, word: `word${seq}`, digits: options.digits, intendedAtMs });

    // Baseline: least-outstanding over one connection per guest, like the balancer's choice.
    const direct = (seq: number, done: DoneCallback): void => {
      let best = clients[0];
      for (const client of clients) if (best === undefined || client.outstanding < best.outstanding) best = client;
      if (!best) return done(false);
      best.collide(`word${seq}`, options.digits, done);
    };
    const viaPlane = (seq: number, done: DoneCallback): void => {
      void balancer.submit(request(seq, systemClock.nowMs())).then((outcome) => done(outcome.outcome === 'ok'));
    };

    const window = options.guests * options.windowPerGuest;
    const loop = { window, warmupMs: options.warmupMs, durationMs: options.windowMs };
    const baseline: WindowResult[] = [];
    const plane: WindowResult[] = [];
    for (let round = 0; round < options.rounds; round++) {
      baseline.push(await closedLoop({ ...loop, issue: direct }));
      plane.push(await closedLoop({ ...loop, issue: viaPlane }));
    }
    const baselineRps = Math.max(...baseline.map((r) => r.servedRps));
    const planeRps = Math.max(...plane.map((r) => r.servedRps));
    const ratios = baseline.map((b, i) => (plane[i]?.servedRps ?? 0) / Math.max(1, b.servedRps));

    const open: OpenLoopResult[] = [];
    let sustainedRps = 0;
    for (let rateRps = options.openStartFraction * baselineRps; rateRps <= options.openMaxFraction * baselineRps; rateRps *= options.openGrowth) {
      const step = await openLoopStep({
        rateRps: Math.round(rateRps),
        warmupMs: options.warmupMs,
        durationMs: options.windowMs,
        submit: (seq, intendedAtMs) =>
          balancer.submit(request(seq, intendedAtMs)).then((outcome) => (outcome.outcome === 'ok' ? null : outcome.outcome === 'failed' ? outcome.reason : outcome.outcome)),
      });
      open.push(step);
      const sustained = step.failed === 0 && step.servedRps >= options.sustainedShare * step.offeredRps;
      if (!sustained) break;
      sustainedRps = step.offeredRps;
    }
    return { baseline, plane, open, baselineRps, planeRps, bestRatio: planeRps / Math.max(1, baselineRps), medianRatio: median(ratios), sustainedRps };
  });
}
