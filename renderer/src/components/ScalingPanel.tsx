// The scaling panel: the autoscaling policy (target tracking or the original's threshold rule) with
// its knobs, min/max, warm and saved pools; "scale to N"; autoscaling on/off; the last decision's reason.
// The form is checked with the contract's policy schema before it is sent.
import { useEffect, useState, type FormEvent } from 'react';
import { runCommand } from '../api/bind';
import { useApi, useApp, useStoreApi } from '../context';
import { formFromConfig, knobsFor, policyFromForm, targetMetricOptions, type PolicyForm, type PolicyKind } from '../lib/policy-form';

export function ScalingPanel() {
  const api = useApi();
  const store = useStoreApi();
  const scaling = useApp((s) => s.scaling);
  const pool = useApp((s) => s.pool);
  const config = scaling?.config ?? null;
  const [form, setForm] = useState<PolicyForm | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [scaleTo, setScaleTo] = useState('');

  // The config object keeps its identity between pushes: the form resets only when the policy changed.
  useEffect(() => {
    if (config) setForm(formFromConfig(config));
  }, [config]);

  const apply = (event: FormEvent): void => {
    event.preventDefault();
    if (!form) return;
    const result = policyFromForm(form);
    if (!result.ok) {
      setError(result.message);
      return;
    }
    setError(null);
    void runCommand(api, store, 'scaling:set', { policy: result.policy }, 'Setting the policy');
  };

  const onScale = (event: FormEvent): void => {
    event.preventDefault();
    const count = Number(scaleTo);
    if (!Number.isInteger(count) || count < 0) {
      setError('scale to: enter a whole number of VMs, 0 or more');
      return;
    }
    setError(null);
    void runCommand(api, store, 'pool:scale', { count }, `Scaling to ${count}`);
  };

  const paused = scaling?.paused ?? false;
  const toggleAutoscaling = (): void => {
    void runCommand(api, store, paused ? 'scaling:resume' : 'scaling:pause', {}, paused ? 'Resuming autoscaling' : 'Pausing autoscaling');
  };

  return (
    <section className="panel scaling-panel" aria-label="Scaling" data-testid="scaling-panel">
      <div className="panel-title-row">
        <h2>Scaling</h2>
        <label className="switch" title="Autoscaling on or off (scale to N still works when off)">
          <input type="checkbox" role="switch" data-testid="autoscaling-toggle" checked={scaling !== null && !paused} disabled={scaling === null} onChange={toggleAutoscaling} />
          <span>Autoscaling {scaling === null ? '' : paused ? 'off' : 'on'}</span>
        </label>
      </div>
      {pool && (
        <p className="panel-note" data-testid="pool-summary">
          Pool <strong>{pool.name}</strong>: desired {pool.desired} ({pool.min}–{pool.max}) · healthy {pool.healthy} · booting {pool.booting}
          {pool.warmPoolSize > 0 ? ` · warm ${pool.warm}/${pool.warmPoolSize}` : ''}
          {pool.savedPoolSize > 0 ? ` · saved ${pool.saved}/${pool.savedPoolSize}` : ''}
        </p>
      )}
      {scaling?.lastReason && (
        <p className="panel-note reason" data-testid="last-reason" title={scaling.lastReason}>
          Last decision: {scaling.lastReason}
        </p>
      )}
      <form className="inline-form" onSubmit={onScale}>
        <label className="field">
          <span className="field-label">Scale to</span>
          <input type="number" min={0} step={1} data-testid="scale-to" value={scaleTo} placeholder={pool ? String(pool.desired) : ''} onChange={(event) => setScaleTo(event.target.value)} />
          <span className="field-unit">VMs</span>
        </label>
        <button type="submit" data-testid="scale-to-apply" disabled={pool === null || scaleTo === ''}>
          Scale
        </button>
      </form>
      {form && (
        <form onSubmit={apply} className="form-grid">
          <label className="field">
            <span className="field-label">Policy</span>
            <select data-testid="policy-kind" value={form.kind} onChange={(event) => setForm({ ...form, kind: event.target.value as PolicyKind })}>
              <option value="target">Target tracking</option>
              <option value="threshold">Threshold (original)</option>
            </select>
          </label>
          {form.kind === 'target' && (
            <label className="field">
              <span className="field-label">Metric</span>
              <select data-testid="policy-metric" value={form.metric} onChange={(event) => setForm({ ...form, metric: event.target.value as PolicyForm['metric'], values: { ...form.values, target: '' } })}>
                {targetMetricOptions.map((option) => (
                  <option key={option.value} value={option.value}>
                    {option.label}
                  </option>
                ))}
              </select>
            </label>
          )}
          {knobsFor(form.kind).map((spec) => (
            <label className="field" key={spec.key} title={spec.help}>
              <span className="field-label">{spec.label}</span>
              <input
                type="text"
                inputMode="decimal"
                data-testid={`policy-${spec.key}`}
                value={form.values[spec.key] ?? ''}
                placeholder={spec.key === 'target' ? 'default' : ''}
                onChange={(event) => setForm({ ...form, values: { ...form.values, [spec.key]: event.target.value } })}
              />
              {spec.unit && <span className="field-unit">{spec.unit}</span>}
            </label>
          ))}
          <div className="form-actions">
            {error && (
              <span className="form-error" role="alert" data-testid="scaling-error">
                {error}
              </span>
            )}
            <button type="button" onClick={() => config && setForm(formFromConfig(config))}>
              Reset
            </button>
            <button type="submit" className="primary" data-testid="policy-apply">
              Apply policy
            </button>
          </div>
        </form>
      )}
    </section>
  );
}
