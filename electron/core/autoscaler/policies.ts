// Policy configs for the autoscaler as zod schemas: the one place their shape, limits and
// defaults live, exported so the CLI, IPC and config files validate with the same rules.
// Parsing only: the decisions themselves live in threshold.ts and target-tracking.ts.
import { z } from 'zod';
import { AutoscalerError } from './errors';

/** Fields every policy carries. Units are in the names; defaults are the app's. */
const commonFields = {
  /** Fewest members counted toward capacity (healthy + booting). @default 1 */
  min: z.number().int().min(0).max(10_000).default(1),
  /** Most members counted toward capacity. @default 8 */
  max: z.number().int().min(1).max(10_000).default(8),
  /** How long a started member may take to register before the pool gives up on it and
   *  replaces it. Enforced by the pool; kept here so one config describes the scaling. @default 60000 */
  bootTimeoutMs: z.number().int().positive().default(60_000),
  /** Grace after registration before a member's metrics count. @default 5000 */
  warmupMs: z.number().int().min(0).default(5_000),
  /** Paused members kept ready to resume in milliseconds (the pool maintains them). @default 0 */
  warmPoolSize: z.number().int().min(0).max(1_000).default(0),
  /** Warmed-up members saved to disk (no memory, no CPU), restored in seconds (the pool maintains them). @default 0 */
  savedPoolSize: z.number().int().min(0).max(1_000).default(0),
  /** How often the control loop calls evaluate(). Kubernetes' HPA uses 15000; heartbeats
   *  here arrive every second, so the app reacts faster. @default 2000 */
  periodMs: z.number().int().min(100).max(600_000).default(2_000),
};

/** The original program's rule: average busy > upPct → +1; fits on one fewer at upPct → −1. */
export const thresholdPolicySchema = z.strictObject({
  kind: z.literal('threshold'),
  ...commonFields,
  /** Scale up above this average busy percentage. @default 90 */
  upPct: z.number().gt(0).max(100).default(90),
  /** At most one decision per interval (the original averaged over 30 s). @default 30000 */
  intervalMs: z.number().int().min(0).default(30_000),
});

export const targetMetrics = ['utilization', 'inflight', 'p95'] as const;
export type TargetMetric = (typeof targetMetrics)[number];

/** The default target for each metric when the config leaves `target` out. */
export const defaultTargets: Readonly<Record<TargetMetric, number>> = {
  /** Busy fraction 0-1. */
  utilization: 0.6,
  /** Requests in flight per warmed member. */
  inflight: 4,
  /** p95 latency SLO in ms. */
  p95: 500,
};

/** Target tracking like Kubernetes' HPA: desired = ceil(current × metric / target). */
export const targetPolicySchema = z.strictObject({
  kind: z.literal('target'),
  ...commonFields,
  /** What to track. @default 'utilization' */
  metric: z.enum(targetMetrics).default('utilization'),
  /** Busy fraction 0-1 (utilization), requests per member (inflight) or SLO ms (p95).
   *  @default 0.6 | 4 | 500 by metric */
  target: z.number().positive().optional(),
  /** No change while |metric/target − 1| ≤ tolerance (HPA's default). @default 0.1 */
  tolerance: z.number().min(0).lt(1).default(0.1),
  /** Scale up to the LOWEST recommendation of this window (HPA default 0: at once). @default 0 */
  scaleUpWindowMs: z.number().int().min(0).default(0),
  /** Scale down to the HIGHEST recommendation of this window. HPA's default is 300000 (5 min);
   *  the app's pool boots in seconds, so it uses 30000. @default 30000 */
  scaleDownWindowMs: z.number().int().min(0).default(30_000),
  /** Most members added by one decision (HPA's default policy allows 4 pods per 15 s). @default 4 */
  maxStepUp: z.number().int().min(1).default(4),
  /** Most members removed by one decision. @default 1 */
  maxStepDown: z.number().int().min(1).default(1),
});

const policyUnion = z
  .discriminatedUnion('kind', [thresholdPolicySchema, targetPolicySchema])
  .superRefine((config, ctx) => {
    if (config.min > config.max) {
      ctx.addIssue({ code: 'custom', path: ['max'], message: `max (${config.max}) must be ≥ min (${config.min})` });
    }
    if (config.kind === 'target' && config.target !== undefined && config.metric === 'utilization' && config.target > 1) {
      ctx.addIssue({ code: 'custom', path: ['target'], message: `a utilization target is a busy fraction in (0, 1], got ${config.target}` });
    }
  })
  .transform((config) =>
    config.kind === 'target' ? { ...config, target: config.target ?? defaultTargets[config.metric] } : config,
  );

/**
 * Any policy config. A missing config, or one without `kind`, means the default policy
 * (target tracking on utilization), so `{}` and `{ max: 4 }` are valid configs.
 */
export const policyConfigSchema = z.preprocess((value) => {
  if (value === undefined) return { kind: 'target' };
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && !('kind' in value)) {
    return { ...value, kind: 'target' };
  }
  return value;
}, policyUnion);

export type PolicyConfigInput = z.input<typeof policyUnion> | Omit<z.input<typeof targetPolicySchema>, 'kind'>;
export type PolicyConfig = z.output<typeof policyUnion>;
export type ThresholdPolicyConfig = Extract<PolicyConfig, { kind: 'threshold' }>;
export type TargetPolicyConfig = Extract<PolicyConfig, { kind: 'target' }>;
export type PolicyKind = PolicyConfig['kind'];

/** Formats zod issues as `path: message` pairs, so the error names the failing field. */
function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}

/** Parses and fills defaults; throws AutoscalerError('AUTOSCALER_CONFIG_INVALID') naming the path. */
export function parsePolicyConfig(input: unknown): PolicyConfig {
  const result = policyConfigSchema.safeParse(input);
  if (!result.success) {
    throw new AutoscalerError('AUTOSCALER_CONFIG_INVALID', `invalid autoscaler config: ${describeIssues(result.error)}`);
  }
  return result.data;
}

/** The app's default policy: target tracking on utilization 0.6, min 1, max 8. */
export function defaultPolicyConfig(): PolicyConfig {
  return parsePolicyConfig({});
}

/** A short label for logs and decisions: 'threshold', 'target:utilization', … */
export type PolicyLabel = 'threshold' | `target:${TargetMetric}`;

export function policyLabel(config: PolicyConfig): PolicyLabel {
  return config.kind === 'threshold' ? 'threshold' : `target:${config.metric}`;
}
