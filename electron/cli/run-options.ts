// Turns `cms run` flags into a validated control-plane config: the profile shorthands (--rate,
// --inter-request, --steps, --trace …) and the policy knobs. Every error names the flag at fault.
import { readFileSync } from 'node:fs';
import { parseControlPlaneConfig, type ControlPlaneConfig } from '../core/service/config';
import { loadTraceFile } from '../core/loadgen/trace';
import type { LoadProfileInput } from '../core/loadgen/profiles';

export class UsageError extends Error {
  readonly code = 'usage';
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Raw flag values as commander hands them over (strings, or undefined when not given). */
export interface RunFlags {
  uri?: string[];
  config?: string;
  profile?: string;
  rate?: string;
  interRequest?: string;
  steps?: string;
  from?: string;
  to?: string;
  rampS?: string;
  mean?: string;
  amplitude?: string;
  periodS?: string;
  base?: string;
  spike?: string;
  spikeAt?: string;
  spikeS?: string;
  trace?: string;
  timeScale?: string;
  rateScale?: string;
  digits?: string;
  arrivals?: string;
  policy?: string;
  metric?: string;
  target?: string;
  tolerance?: string;
  min?: string;
  max?: string;
  warmPool?: string;
  savedPool?: string;
  upWindowS?: string;
  downWindowS?: string;
  maxStepUp?: string;
  maxStepDown?: string;
  periodMs?: string;
  upPct?: string;
  intervalS?: string;
  warmupS?: string;
  bootTimeoutS?: string;
  bootDelayMs?: string;
  hashRate?: string;
  deadlineMs?: string;
  agentHost?: string;
  agentPort?: string;
  heartbeatMs?: string;
  pool?: string;
  template?: string;
}

/** A number from a flag; `what` names the flag in the error. */
export function numberFlag(value: string | undefined, what: string, options: { integer?: boolean; min?: number; max?: number } = {}): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed)) throw new UsageError(`${what}: '${value}' is not a number`);
  if (options.integer && !Number.isInteger(parsed)) throw new UsageError(`${what}: '${value}' is not a whole number`);
  if (options.min !== undefined && parsed < options.min) throw new UsageError(`${what}: ${parsed} is below the minimum ${options.min}`);
  if (options.max !== undefined && parsed > options.max) throw new UsageError(`${what}: ${parsed} is above the maximum ${options.max}`);
  return parsed;
}

function seconds(value: string | undefined, what: string): number | undefined {
  const s = numberFlag(value, what, { min: 0 });
  return s === undefined ? undefined : Math.round(s * 1000);
}

/** "0:2,30:10,60:2" → steps at 0 s (2 rps), 30 s (10 rps), 60 s (2 rps). */
export function parseSteps(text: string): Array<{ atS: number; rateRps: number }> {
  return text.split(',').map((pair, index) => {
    const [at, rate, extra] = pair.split(':');
    if (at === undefined || rate === undefined || extra !== undefined) {
      throw new UsageError(`--steps: item ${index + 1} '${pair}' is not AT_SECONDS:RATE_RPS`);
    }
    return { atS: numberFlag(at, `--steps item ${index + 1} time`, { min: 0 }) as number, rateRps: numberFlag(rate, `--steps item ${index + 1} rate`, { min: 0 }) as number };
  });
}

async function profileFromFlags(flags: RunFlags): Promise<LoadProfileInput | undefined> {
  const rate = numberFlag(flags.rate, '--rate', { min: 0 });
  const interRequest = numberFlag(flags.interRequest, '--inter-request', { min: 0 });
  if (rate !== undefined && interRequest !== undefined) throw new UsageError('--rate and --inter-request both set the rate: give one');
  if (interRequest !== undefined && interRequest <= 0) throw new UsageError('--inter-request: must be more than 0 seconds');
  const constantRate = rate ?? (interRequest !== undefined ? 1 / interRequest : undefined);
  const kind = flags.profile ?? (flags.steps ? 'step' : flags.trace ? 'trace' : constantRate !== undefined ? 'constant' : undefined);
  const need = (value: number | undefined, flag: string): number => {
    if (value === undefined) throw new UsageError(`--profile ${kind} needs ${flag}`);
    return value;
  };
  switch (kind) {
    case undefined:
      return undefined;
    case 'constant':
      return { kind, rateRps: need(constantRate, '--rate or --inter-request') };
    case 'step':
      if (!flags.steps) throw new UsageError('--profile step needs --steps AT:RATE,AT:RATE…');
      return { kind, steps: parseSteps(flags.steps) };
    case 'ramp':
      return { kind, fromRps: need(numberFlag(flags.from, '--from', { min: 0 }), '--from'), toRps: need(numberFlag(flags.to, '--to', { min: 0 }), '--to'), durationS: need(numberFlag(flags.rampS, '--ramp-s', { min: 0 }), '--ramp-s') };
    case 'sine':
      return { kind, meanRps: need(numberFlag(flags.mean, '--mean', { min: 0 }), '--mean'), amplitudeRps: need(numberFlag(flags.amplitude, '--amplitude', { min: 0 }), '--amplitude'), periodS: need(numberFlag(flags.periodS, '--period-s', { min: 0 }), '--period-s') };
    case 'spike':
      return {
        kind,
        baseRps: need(numberFlag(flags.base, '--base', { min: 0 }), '--base'),
        spikeRps: need(numberFlag(flags.spike, '--spike', { min: 0 }), '--spike'),
        atS: need(numberFlag(flags.spikeAt, '--spike-at', { min: 0 }), '--spike-at'),
        durationS: need(numberFlag(flags.spikeS, '--spike-s', { min: 0 }), '--spike-s'),
      };
    case 'trace': {
      if (!flags.trace) throw new UsageError('--profile trace needs --trace FILE.csv');
      let points;
      try {
        points = await loadTraceFile(flags.trace);
      } catch (error) {
        // Trace errors already name the file, line and column; they are the user's input, so exit 2.
        throw new UsageError(`--trace: ${error instanceof Error ? error.message : String(error)}`);
      }
      return { kind, points, timeScale: numberFlag(flags.timeScale, '--time-scale', { min: 0 }) ?? 60, rateScale: numberFlag(flags.rateScale, '--rate-scale', { min: 0 }) ?? 1 };
    }
    default:
      throw new UsageError(`--profile: unknown profile '${kind}' (constant, step, ramp, sine, spike, trace)`);
  }
}

function policyFromFlags(flags: RunFlags, base: Record<string, unknown>): Record<string, unknown> {
  const policy: Record<string, unknown> = { ...base };
  const set = (key: string, value: unknown): void => {
    if (value !== undefined) policy[key] = value;
  };
  if (flags.policy !== undefined) {
    if (flags.policy !== 'threshold' && flags.policy !== 'target') throw new UsageError(`--policy: unknown policy '${flags.policy}' (threshold, target)`);
    if (policy.kind !== flags.policy) for (const key of Object.keys(policy)) if (!['min', 'max', 'warmPoolSize', 'savedPoolSize', 'bootTimeoutMs', 'warmupMs', 'periodMs'].includes(key)) delete policy[key];
    policy.kind = flags.policy;
  }
  set('min', numberFlag(flags.min, '--min', { integer: true, min: 0 }));
  set('max', numberFlag(flags.max, '--max', { integer: true, min: 1 }));
  set('warmPoolSize', numberFlag(flags.warmPool, '--warm-pool', { integer: true, min: 0 }));
  set('savedPoolSize', numberFlag(flags.savedPool, '--saved-pool', { integer: true, min: 0 }));
  set('periodMs', numberFlag(flags.periodMs, '--period-ms', { integer: true, min: 100 }));
  set('warmupMs', seconds(flags.warmupS, '--warmup-s'));
  set('bootTimeoutMs', seconds(flags.bootTimeoutS, '--boot-timeout-s'));
  if ((policy.kind ?? 'target') === 'threshold') {
    set('upPct', numberFlag(flags.upPct, '--up-pct', { min: 0, max: 100 }));
    set('intervalMs', seconds(flags.intervalS, '--interval-s'));
    for (const [flag, value] of Object.entries({ '--metric': flags.metric, '--target': flags.target, '--tolerance': flags.tolerance, '--up-window-s': flags.upWindowS, '--down-window-s': flags.downWindowS })) {
      if (value !== undefined) throw new UsageError(`${flag} applies to --policy target, not threshold`);
    }
  } else {
    if (flags.metric !== undefined && !['utilization', 'inflight', 'p95'].includes(flags.metric)) {
      throw new UsageError(`--metric: unknown metric '${flags.metric}' (utilization, inflight, p95)`);
    }
    set('metric', flags.metric);
    set('target', numberFlag(flags.target, '--target', { min: 0 }));
    set('tolerance', numberFlag(flags.tolerance, '--tolerance', { min: 0, max: 0.99 }));
    set('scaleUpWindowMs', seconds(flags.upWindowS, '--up-window-s'));
    set('scaleDownWindowMs', seconds(flags.downWindowS, '--down-window-s'));
    set('maxStepUp', numberFlag(flags.maxStepUp, '--max-step-up', { integer: true, min: 1 }));
    set('maxStepDown', numberFlag(flags.maxStepDown, '--max-step-down', { integer: true, min: 1 }));
    for (const [flag, value] of Object.entries({ '--up-pct': flags.upPct, '--interval-s': flags.intervalS })) {
      if (value !== undefined) throw new UsageError(`${flag} applies to --policy threshold, not target`);
    }
  }
  return policy;
}

/** Reads an optional JSON config file, then lays the flags over it. */
export async function configFromFlags(flags: RunFlags): Promise<ControlPlaneConfig> {
  let base: Record<string, Record<string, unknown>> = {};
  if (flags.config) {
    try {
      base = JSON.parse(readFileSync(flags.config, 'utf8')) as Record<string, Record<string, unknown>>;
    } catch (error) {
      throw new UsageError(`--config ${flags.config}: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (typeof base !== 'object' || base === null || Array.isArray(base)) throw new UsageError(`--config ${flags.config}: not a JSON object`);
  }
  const profile = await profileFromFlags(flags);
  const input = {
    ...base,
    pool: { ...base.pool, ...(flags.pool ? { name: flags.pool } : {}), ...(flags.template ? { templateName: flags.template } : {}) },
    policy: policyFromFlags(flags, base.policy ?? {}),
    load: {
      ...base.load,
      ...(profile ? { profile } : {}),
      ...(flags.digits !== undefined ? { digits: numberFlag(flags.digits, '--digits', { integer: true, min: 1, max: 8 }) } : {}),
      ...(flags.arrivals !== undefined ? { arrivals: flags.arrivals } : {}),
    },
    balancer: { ...base.balancer, ...(flags.deadlineMs !== undefined ? { deadlineMs: numberFlag(flags.deadlineMs, '--deadline-ms', { integer: true, min: 1 }) } : {}) },
    agent: {
      ...base.agent,
      ...(flags.agentHost !== undefined ? { host: flags.agentHost } : {}),
      ...(flags.agentPort !== undefined ? { port: numberFlag(flags.agentPort, '--agent-port', { integer: true, min: 0, max: 65535 }) } : {}),
      ...(flags.heartbeatMs !== undefined ? { heartbeatTimeoutMs: numberFlag(flags.heartbeatMs, '--heartbeat-ms', { integer: true, min: 1 }) } : {}),
    },
    sandbox: {
      ...base.sandbox,
      ...(flags.bootDelayMs !== undefined ? { bootDelayMs: numberFlag(flags.bootDelayMs, '--boot-delay-ms', { integer: true, min: 0 }) } : {}),
      ...(flags.hashRate !== undefined ? { hashRatePerVcpu: numberFlag(flags.hashRate, '--hash-rate', { integer: true, min: 1 }) } : {}),
    },
  };
  try {
    return parseControlPlaneConfig(input, 'the run configuration');
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}
