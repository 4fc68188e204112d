// The scaling panel's form: which knobs each autoscaling policy has (keys typed against the
// contract's policy config, so a renamed field fails to compile), their display units, and turning
// the typed texts into a policy checked with the contract's own schema before it is sent. Pure.
import { commands, describeIssues, type AppState } from '../../../electron/contract/contract';

export type PolicyConfig = AppState['scaling']['config'];
export type PolicyKind = PolicyConfig['kind'];
type TargetConfig = Extract<PolicyConfig, { kind: 'target' }>;
type ThresholdConfig = Extract<PolicyConfig, { kind: 'threshold' }>;
type NumericKey<T> = { [K in keyof T]-?: T[K] extends number ? K : never }[keyof T] & string;

export interface KnobSpec {
  key: NumericKey<TargetConfig> | NumericKey<ThresholdConfig>;
  label: string;
  /** Unit shown beside the field. */
  unit: string;
  /** Config value = shown value × scale (ms fields are shown in seconds). */
  scale: number;
  integer: boolean;
  help: string;
}

type CommonKey = NumericKey<TargetConfig> & NumericKey<ThresholdConfig>;
const knob = (key: KnobSpec['key'], label: string, unit: string, help: string, scale = 1, integer = false): KnobSpec => ({ key, label, unit, scale, integer, help });

/** Bounds and timing every policy shares. min/max and the warm pool come first: people change them most. */
export const commonKnobs: readonly KnobSpec[] = [
  knob('min' satisfies CommonKey, 'Min VMs', '', 'Fewest members counted toward capacity', 1, true),
  knob('max' satisfies CommonKey, 'Max VMs', '', 'Most members counted toward capacity', 1, true),
  knob('warmPoolSize' satisfies CommonKey, 'Warm pool', 'VMs', 'Paused members kept ready to resume in milliseconds', 1, true),
  knob('savedPoolSize' satisfies CommonKey, 'Saved pool', 'VMs', 'Warmed-up members saved to disk (no memory, no CPU), restored in seconds', 1, true),
  knob('periodMs' satisfies CommonKey, 'Evaluate every', 's', 'How often the autoscaler decides', 1000, false),
  knob('warmupMs' satisfies CommonKey, 'Warm-up', 's', "Grace after registration before a member's metrics count", 1000, false),
  knob('bootTimeoutMs' satisfies CommonKey, 'Boot timeout', 's', 'A member not registered by then is replaced', 1000, false),
];

export const targetKnobs: readonly KnobSpec[] = [
  knob('target' satisfies NumericKey<TargetConfig>, 'Target', '', 'Busy fraction 0-1 (utilization), requests per member (in flight) or SLO ms (p95)'),
  knob('tolerance' satisfies NumericKey<TargetConfig>, 'Tolerance', '', 'No change while |metric/target − 1| ≤ tolerance'),
  knob('scaleUpWindowMs' satisfies NumericKey<TargetConfig>, 'Up window', 's', 'Scale up to the lowest recommendation of this window', 1000),
  knob('scaleDownWindowMs' satisfies NumericKey<TargetConfig>, 'Down window', 's', 'Scale down to the highest recommendation of this window', 1000),
  knob('maxStepUp' satisfies NumericKey<TargetConfig>, 'Max step up', 'VMs', 'Most members added by one decision', 1, true),
  knob('maxStepDown' satisfies NumericKey<TargetConfig>, 'Max step down', 'VMs', 'Most members removed by one decision', 1, true),
];

export const thresholdKnobs: readonly KnobSpec[] = [
  knob('upPct' satisfies NumericKey<ThresholdConfig>, 'Scale up above', '% busy', 'Average busy percentage that adds a VM'),
  knob('intervalMs' satisfies NumericKey<ThresholdConfig>, 'Interval', 's', 'At most one decision per interval', 1000),
];

export const targetMetricOptions = [
  { value: 'utilization', label: 'Utilization' },
  { value: 'inflight', label: 'In flight per VM' },
  { value: 'p95', label: 'p95 latency' },
] as const satisfies ReadonlyArray<{ value: TargetConfig['metric']; label: string }>;

export function knobsFor(kind: PolicyKind): readonly KnobSpec[] {
  return [...commonKnobs, ...(kind === 'target' ? targetKnobs : thresholdKnobs)];
}

export interface PolicyForm {
  kind: PolicyKind;
  metric: TargetConfig['metric'];
  /** Texts by knob key, in display units. */
  values: Readonly<Record<string, string>>;
}

const shown = (value: number, scale: number): string => String(Number((value / scale).toPrecision(6)));

/** The form showing a config (every knob of both policies, so switching kind keeps sensible values). */
export function formFromConfig(config: PolicyConfig): PolicyForm {
  const values: Record<string, string> = {};
  const source = config as unknown as Record<string, unknown>;
  for (const spec of [...commonKnobs, ...targetKnobs, ...thresholdKnobs]) {
    const value = source[spec.key];
    if (typeof value === 'number') values[spec.key] = shown(value, spec.scale);
  }
  // Defaults for the other policy's knobs, so the form is complete after a kind switch.
  values.upPct ??= '90';
  values.intervalMs ??= '30';
  values.tolerance ??= '0.1';
  values.scaleUpWindowMs ??= '0';
  values.scaleDownWindowMs ??= '30';
  values.maxStepUp ??= '4';
  values.maxStepDown ??= '1';
  values.target ??= '0.6';
  return { kind: config.kind, metric: config.kind === 'target' ? config.metric : 'utilization', values };
}

/** The policy to send, validated by the contract's schema; errors name the field by its label. */
export function policyFromForm(form: PolicyForm): { ok: true; policy: Record<string, unknown> } | { ok: false; message: string } {
  const policy: Record<string, unknown> = { kind: form.kind };
  if (form.kind === 'target') policy.metric = form.metric;
  for (const spec of knobsFor(form.kind)) {
    const text = (form.values[spec.key] ?? '').trim();
    if (text === '') {
      if (spec.key === 'target') continue; // The schema fills the metric's default target.
      return { ok: false, message: `${spec.label}: enter a number` };
    }
    const value = Number(text) * spec.scale;
    if (!Number.isFinite(value)) return { ok: false, message: `${spec.label}: '${text}' is not a number` };
    policy[spec.key] = spec.scale !== 1 ? Math.round(value) : value;
  }
  const parsed = commands['scaling:set'].output.safeParse(policy);
  if (!parsed.success) {
    const labels = new Map(knobsFor(form.kind).map((spec) => [spec.key as string, spec.label]));
    const message = describeIssues(parsed.error).replace(/^(\w+):/, (match, key: string) => (labels.has(key) ? `${labels.get(key)}:` : match));
    return { ok: false, message };
  }
  return { ok: true, policy };
}
