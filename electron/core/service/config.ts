// The control plane's configuration as one zod schema: pool, load, balancer, agent port and sandbox.
// CLI flags, saved settings and IPC payloads all end up here, so every error names its path.
import { z } from 'zod';
import { policyConfigSchema } from '../autoscaler/policies';
import { profileSchema } from '../loadgen/profiles';
import { MAX_DIGITS, MIN_DIGITS } from '../../../guest-server/src/protocol';

export const poolConfigSchema = z.strictObject({
  /** Members are named `<name>-<n>` and tagged with it. @default 'cms' */
  name: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,40}$/, 'letters, digits, _ . - (max 41 chars)').default('cms'),
  /** The template domain's name on every host. @default 'cms-template' */
  templateName: z.string().min(1).default('cms-template'),
  /** @default 'spread' */
  placement: z.enum(['spread', 'least-loaded']).default('spread'),
  /** Time a draining member may finish its requests, ms. @default 5000 */
  drainTimeoutMs: z.number().int().min(0).default(5000),
  /** ACPI shutdown grace before force off, ms. @default 10000 */
  shutdownTimeoutMs: z.number().int().min(0).default(10_000),
});

export const loadConfigSchema = z.strictObject({
  profile: profileSchema.default({ kind: 'constant', rateRps: 2 }),
  /** Hex digits of the SHA-256 prefix each request searches for (the original used 6). @default 3 */
  digits: z.number().int().min(MIN_DIGITS).max(MAX_DIGITS).default(3),
  /** Evenly spaced arrivals like the original's fixed inter-request time, or Poisson. @default 'uniform' */
  arrivals: z.enum(['uniform', 'poisson']).default('uniform'),
  /** Whether load runs from the start. @default true */
  running: z.boolean().default(true),
});

export const balancerConfigSchema = z.strictObject({
  /** Per-request deadline from its intended send time, ms. @default 10000 */
  deadlineMs: z.number().int().positive().default(10_000),
  /** Per-attempt timeout, ms; 0 means "what is left of the deadline". @default 0 */
  attemptTimeoutMs: z.number().int().min(0).default(0),
  /** @default 2 */
  maxRetries: z.number().int().min(0).max(10).default(2),
  /** @default 0.2 */
  retryBudgetRatio: z.number().min(0).max(1).default(0.2),
});

export const agentConfigSchema = z.strictObject({
  /** Where guests dial in. Loopback by default: sandbox guests and user-mode networking reach it. @default '127.0.0.1' */
  host: z.string().default('127.0.0.1'),
  /** 0 picks a free port; real guests need a fixed one (it is written into their XML). @default 0 */
  port: z.number().int().min(0).max(65535).default(0),
  /** @default 2000 */
  heartbeatTimeoutMs: z.number().int().positive().default(2000),
});

export const sandboxConfigSchema = z.strictObject({
  /** Simulated boot time of a sandbox VM before its guest process starts, ms. @default 2000 */
  bootDelayMs: z.number().int().min(0).default(2000),
  /** Hashes per second each simulated vCPU may compute (models a VM's CPU on a small host). @default 20000 */
  hashRatePerVcpu: z.number().int().positive().default(20_000),
});

export const controlPlaneConfigSchema = z.strictObject({
  pool: poolConfigSchema.default(poolConfigSchema.parse({})),
  policy: policyConfigSchema.default(policyConfigSchema.parse(undefined)),
  load: loadConfigSchema.default(loadConfigSchema.parse({})),
  balancer: balancerConfigSchema.default(balancerConfigSchema.parse({})),
  agent: agentConfigSchema.default(agentConfigSchema.parse({})),
  sandbox: sandboxConfigSchema.default(sandboxConfigSchema.parse({})),
  /** Control-loop period for metrics samples, ms. @default 1000 */
  sampleMs: z.number().int().min(100).default(1000),
});

export type ControlPlaneConfig = z.output<typeof controlPlaneConfigSchema>;
export type ControlPlaneConfigInput = z.input<typeof controlPlaneConfigSchema>;

export class ConfigError extends Error {
  readonly code = 'config_invalid';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Parses a config, naming every failing path in the error. */
export function parseControlPlaneConfig(input: unknown, source = 'config'): ControlPlaneConfig {
  const result = controlPlaneConfigSchema.safeParse(input ?? {});
  if (result.success) return result.data;
  const detail = result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
  throw new ConfigError(`${source} is invalid: ${detail}`);
}
