// Elasticity metrics of the SPEC Research Group, for reports and benchmarks: how closely the
// supplied VM count followed the demanded one. Pure arithmetic over sampled series; it does not
// sample anything itself (sampleStepFunction() turns timestamped changes into a series).
//
// Definitions (demand d_t and supply s_t in VMs, sampled at equal steps Δt, T = n·Δt):
//   accuracy   θU = 100/T · Σ max(d_t − s_t, 0) / d_t · Δt   (%)   under-provisioning
//              θO = 100/T · Σ max(s_t − d_t, 0) / d_t · Δt   (%)   over-provisioning
//   timeshare  τU = 100/T · Σ [s_t < d_t] · Δt                (%)
//              τO = 100/T · Σ [s_t > d_t] · Δt                (%)
//   jitter     J  = (E_S − E_D) / T, E_S / E_D = number of supply / demand adaptations
// Sources: N. Herbst, R. Krebs, G. Oikonomou, G. Kousiouris, A. Evangelinou, A. Iosup,
// S. Kounev, "Ready for Rain? A View from SPEC Research on the Future of Cloud Metrics",
// SPEC RG tech. report SPEC-RG-2016-01 (arXiv:1604.03470), section on elasticity; and
// N. Herbst, S. Kounev, A. Weber, H. Groenda, "BUNGEE: An Elasticity Benchmark for
// Self-Adaptive IaaS Cloud Environments", SEAMS 2015 (jitter). Ilyushkin et al. (ICPE 2017,
// "An Experimental Performance Evaluation of Autoscaling Policies for Complex Workflows")
// apply the same metrics and guard d_t = 0 by dividing by max(d_t, ε); see below.

import { AutoscalerError } from './errors';

export interface ElasticitySeries {
  /** VMs the load needed at each sample (see demandFromLoad()). */
  demand: readonly number[];
  /** VMs supplied at each sample (members counted toward capacity). */
  supply: readonly number[];
  /** Δt: time between samples, ms. */
  stepMs: number;
}

export interface ElasticityMetrics {
  /** T = samples × stepMs. */
  durationMs: number;
  /** θU: mean relative shortfall of supply against demand, % of demand. */
  accuracyUnderPct: number;
  /** θO: mean relative surplus of supply over demand, % of demand. */
  accuracyOverPct: number;
  /** τU: share of time under-provisioned (s < d), %. */
  timeshareUnderPct: number;
  /** τO: share of time over-provisioned (s > d), %. */
  timeshareOverPct: number;
  /** E_S: samples at which supply changed from the previous sample. */
  supplyAdaptations: number;
  /** E_D: samples at which demand changed from the previous sample. */
  demandAdaptations: number;
  /** J = (E_S − E_D) / T in adaptations per MINUTE: > 0 the supply oscillates more than the
   *  demand (thrashing), < 0 it follows too few of the demand's changes (sluggish or unstable). */
  jitterPerMin: number;
}

/**
 * Demand in VMs: how many members the offered load needs, ceil(offered / (capacity × target)).
 * This is how a report derives d_t: from the offered rate (not the served one, which supply
 * caps) and the per-member capacity measured by the guest benchmark. targetUtilization < 1
 * asks for headroom (e.g. 0.6 compares against a pool run at 60 % busy). No load needs 0 VMs.
 */
export function demandFromLoad(offeredRps: number, perMemberCapacityRps: number, targetUtilization = 1): number {
  if (!(perMemberCapacityRps > 0) || !Number.isFinite(perMemberCapacityRps)) {
    throw new AutoscalerError('AUTOSCALER_BAD_ARGUMENT', `perMemberCapacityRps must be a positive number, got ${perMemberCapacityRps}`);
  }
  if (!(targetUtilization > 0 && targetUtilization <= 1)) {
    throw new AutoscalerError('AUTOSCALER_BAD_ARGUMENT', `targetUtilization must be in (0, 1], got ${targetUtilization}`);
  }
  if (!(offeredRps > 0)) return 0;
  // The epsilon keeps float noise (1.1 / 0.1 = 11.000000000000002) from asking for one VM more.
  return Math.ceil(offeredRps / (perMemberCapacityRps * targetUtilization) - 1e-9);
}

function checkSeries(series: ElasticitySeries): void {
  if (series.demand.length !== series.supply.length) {
    throw new AutoscalerError('ELASTICITY_BAD_SERIES', `demand has ${series.demand.length} samples but supply has ${series.supply.length}`);
  }
  if (!(series.stepMs > 0) || !Number.isFinite(series.stepMs)) {
    throw new AutoscalerError('ELASTICITY_BAD_SERIES', `stepMs must be a positive number, got ${series.stepMs}`);
  }
  const bad = (values: readonly number[]): number => values.findIndex((v) => !Number.isFinite(v) || v < 0);
  const badDemand = bad(series.demand);
  if (badDemand >= 0) throw new AutoscalerError('ELASTICITY_BAD_SERIES', `demand[${badDemand}] must be a finite number ≥ 0, got ${series.demand[badDemand]}`);
  const badSupply = bad(series.supply);
  if (badSupply >= 0) throw new AutoscalerError('ELASTICITY_BAD_SERIES', `supply[${badSupply}] must be a finite number ≥ 0, got ${series.supply[badSupply]}`);
}

function countChanges(values: readonly number[]): number {
  let changes = 0;
  for (let i = 1; i < values.length; i += 1) if (values[i] !== values[i - 1]) changes += 1;
  return changes;
}

/**
 * Computes θU, θO, τU, τO and jitter. Each sample stands for one step [t, t + Δt), so
 * 100/T · Σ x_t · Δt is simply 100 × the mean of x_t.
 *
 * Zero demand: θ divides by max(d_t, 1) (Ilyushkin et al.'s max(d_t, ε) with ε = one VM, the
 * resource unit here), so s VMs running while no VM is needed counts as s × 100 % for that step
 * instead of dividing by zero, and under-provisioning is impossible at d_t = 0.
 * Adaptations are counted as change events between consecutive samples, whatever their size.
 * An empty series has T = 0 and every metric 0.
 */
export function elasticityMetrics(series: ElasticitySeries): ElasticityMetrics {
  checkSeries(series);
  const samples = series.demand.length;
  const durationMs = samples * series.stepMs;
  const supplyAdaptations = countChanges(series.supply);
  const demandAdaptations = countChanges(series.demand);
  if (samples === 0) {
    return { durationMs, accuracyUnderPct: 0, accuracyOverPct: 0, timeshareUnderPct: 0, timeshareOverPct: 0, supplyAdaptations, demandAdaptations, jitterPerMin: 0 };
  }
  let under = 0;
  let over = 0;
  let underSteps = 0;
  let overSteps = 0;
  for (let i = 0; i < samples; i += 1) {
    const d = series.demand[i] ?? 0;
    const s = series.supply[i] ?? 0;
    const base = Math.max(d, 1);
    under += Math.max(d - s, 0) / base;
    over += Math.max(s - d, 0) / base;
    if (s < d) underSteps += 1;
    if (s > d) overSteps += 1;
  }
  return {
    durationMs,
    accuracyUnderPct: (100 * under) / samples,
    accuracyOverPct: (100 * over) / samples,
    timeshareUnderPct: (100 * underSteps) / samples,
    timeshareOverPct: (100 * overSteps) / samples,
    supplyAdaptations,
    demandAdaptations,
    jitterPerMin: (supplyAdaptations - demandAdaptations) / (durationMs / 60_000),
  };
}

export interface StepPoint {
  /** When the value took effect, ms (any one time scale). */
  atMs: number;
  value: number;
}

/**
 * Samples a step function (each value holds until the next point) at startMs, startMs + stepMs,
 * … while < endMs; before the first point the value is `initial`. Turns irregular events
 * (decisions, member counts, rate changes) into the equal-step series the metrics need.
 */
export function sampleStepFunction(points: readonly StepPoint[], startMs: number, endMs: number, stepMs: number, initial = 0): number[] {
  if (!(stepMs > 0) || !Number.isFinite(stepMs)) {
    throw new AutoscalerError('ELASTICITY_BAD_SERIES', `stepMs must be a positive number, got ${stepMs}`);
  }
  const sorted = [...points].sort((a, b) => a.atMs - b.atMs);
  const out: number[] = [];
  let next = 0;
  let value = initial;
  for (let i = 0; startMs + i * stepMs < endMs; i += 1) {
    const t = startMs + i * stepMs;
    while (next < sorted.length && (sorted[next]?.atMs ?? Infinity) <= t) {
      value = sorted[next]?.value ?? value;
      next += 1;
    }
    out.push(value);
  }
  return out;
}
