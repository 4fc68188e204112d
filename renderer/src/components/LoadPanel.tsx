// The load panel: the offered load as the original's inter-request time or as req/s (linked: editing
// one rewrites the other), the difficulty, the profile (constant, step, ramp, sine, spike, or a
// trace file) and start/pause. Drafts stay in the component until Apply; the app validates again.
import { useEffect, useState, type FormEvent } from 'react';
import { runCommand } from '../api/bind';
import { useApi, useApp, useStoreApi } from '../context';
import { formatRps } from '../lib/format';
import { draftFromRateRps, editInterRequest, editRate, parseSteps, rateCommand, type RateDraft } from '../lib/load-form';
import { profileText, type LoadProfileView } from '../lib/profile-text';

type Kind = LoadProfileView['kind'];
const kinds: ReadonlyArray<{ kind: Kind; label: string }> = [
  { kind: 'constant', label: 'Constant' },
  { kind: 'step', label: 'Step' },
  { kind: 'ramp', label: 'Ramp' },
  { kind: 'sine', label: 'Sine' },
  { kind: 'spike', label: 'Spike' },
  { kind: 'trace', label: 'Trace file' },
];

type Fields = Record<string, string>;

function fieldsFromProfile(profile: LoadProfileView): Fields {
  switch (profile.kind) {
    case 'constant':
      return {};
    case 'step':
      return { steps: profile.steps.map((step) => `${step.atS}:${step.rateRps}`).join(',') };
    case 'ramp':
      return { fromRps: String(profile.fromRps), toRps: String(profile.toRps), durationS: String(profile.durationS) };
    case 'sine':
      return { meanRps: String(profile.meanRps), amplitudeRps: String(profile.amplitudeRps), periodS: String(profile.periodS) };
    case 'spike':
      return { baseRps: String(profile.baseRps), spikeRps: String(profile.spikeRps), atS: String(profile.atS), durationS: String(profile.durationS) };
    case 'trace':
      return { timeScale: String(profile.timeScale), rateScale: String(profile.rateScale) };
  }
}

const defaults: Fields = {
  steps: '0:2,30:10,90:2',
  fromRps: '1',
  toRps: '20',
  durationS: '60',
  meanRps: '8',
  amplitudeRps: '6',
  periodS: '120',
  baseRps: '2',
  spikeRps: '20',
  atS: '10',
  timeScale: '60',
  rateScale: '1',
};

function num(fields: Fields, key: string, label: string): number {
  const text = (fields[key] ?? '').trim();
  const value = Number(text);
  if (text === '' || !Number.isFinite(value)) throw new Error(`${label}: enter a number`);
  return value;
}

function profileFromFields(kind: Exclude<Kind, 'constant' | 'trace'>, fields: Fields): Record<string, unknown> {
  switch (kind) {
    case 'step':
      return { kind, steps: parseSteps(fields.steps ?? '') };
    case 'ramp':
      return { kind, fromRps: num(fields, 'fromRps', 'From'), toRps: num(fields, 'toRps', 'To'), durationS: num(fields, 'durationS', 'Duration') };
    case 'sine':
      return { kind, meanRps: num(fields, 'meanRps', 'Mean'), amplitudeRps: num(fields, 'amplitudeRps', 'Amplitude'), periodS: num(fields, 'periodS', 'Period') };
    case 'spike':
      return { kind, baseRps: num(fields, 'baseRps', 'Base'), spikeRps: num(fields, 'spikeRps', 'Spike'), atS: num(fields, 'atS', 'At'), durationS: num(fields, 'durationS', 'Duration') };
  }
}

function Field(props: { label: string; unit?: string; name: string; fields: Fields; onChange: (name: string, value: string) => void; testId?: string }) {
  return (
    <label className="field">
      <span className="field-label">{props.label}</span>
      <input type="text" inputMode="decimal" data-testid={props.testId} value={props.fields[props.name] ?? ''} onChange={(event) => props.onChange(props.name, event.target.value)} />
      {props.unit && <span className="field-unit">{props.unit}</span>}
    </label>
  );
}

export function LoadPanel() {
  const api = useApi();
  const store = useStoreApi();
  const load = useApp((s) => s.load);
  const profile = load?.profile ?? null;
  const [kind, setKind] = useState<Kind>('constant');
  const [rate, setRate] = useState<RateDraft>(() => draftFromRateRps(1));
  const [fields, setFields] = useState<Fields>(defaults);
  const [traceFile, setTraceFile] = useState<File | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [applying, setApplying] = useState(false);

  // The form follows the applied profile (from this page or any other); the profile object keeps its
  // identity between pushes, so this runs only when it really changed.
  useEffect(() => {
    if (!profile) return;
    setKind(profile.kind);
    if (profile.kind === 'constant') setRate(draftFromRateRps(profile.rateRps));
    setFields((prev) => ({ ...prev, ...fieldsFromProfile(profile) }));
  }, [profile]);

  const onField = (name: string, value: string): void => setFields((prev) => ({ ...prev, [name]: value }));

  const apply = async (event?: FormEvent): Promise<void> => {
    event?.preventDefault();
    setError(null);
    setApplying(true);
    try {
      if (kind === 'constant') {
        const command = rateCommand(rate);
        if (!command.ok) return setError(command.message);
        await runCommand(api, store, 'load:set', command.payload, 'Setting the load');
      } else if (kind === 'trace') {
        if (!traceFile) return setError('trace: choose a CSV file (seconds,rate per line)');
        const text = await traceFile.text();
        await runCommand(
          api,
          store,
          'load:trace',
          { name: traceFile.name, text, timeScale: num(fields, 'timeScale', 'Time scale'), rateScale: num(fields, 'rateScale', 'Rate scale') },
          `Loading ${traceFile.name}`,
        );
      } else {
        await runCommand(api, store, 'load:set', { profile: profileFromFields(kind, fields) }, 'Setting the load profile');
      }
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
    } finally {
      setApplying(false);
    }
  };

  const running = load !== null && load.running && !load.paused;
  const toggle = (): void => {
    void runCommand(api, store, running ? 'load:pause' : 'load:resume', {}, running ? 'Pausing the load' : 'Starting the load');
  };

  return (
    <section className="panel load-panel" aria-label="Load" data-testid="load-panel">
      <div className="panel-title-row">
        <h2>Load</h2>
        <button type="button" className={running ? '' : 'primary'} data-testid="load-toggle" onClick={toggle} disabled={load === null}>
          {running ? 'Pause' : 'Start'}
        </button>
      </div>
      <p className="panel-note" data-testid="load-status">
        {load ? (
          <>
            {running ? 'Offering' : load.paused ? 'Paused at' : 'Stopped at'} <strong>{formatRps(load.offeredRps)} req/s</strong> · {profileText(load.profile)}
          </>
        ) : (
          'Waiting for the app…'
        )}
      </p>
      <form onSubmit={(event) => void apply(event)} className="form-grid">
        <label className="field">
          <span className="field-label">Profile</span>
          <select data-testid="load-profile" value={kind} onChange={(event) => setKind(event.target.value as Kind)}>
            {kinds.map((spec) => (
              <option key={spec.kind} value={spec.kind}>
                {spec.label}
              </option>
            ))}
          </select>
        </label>
        {kind === 'constant' && (
          <>
            <label className="field">
              <span className="field-label">Inter-request</span>
              <input type="text" inputMode="decimal" data-testid="load-inter-request" value={rate.interRequestText} onChange={(event) => setRate(editInterRequest(rate, event.target.value))} />
              <span className="field-unit">s</span>
            </label>
            <label className="field">
              <span className="field-label">Rate</span>
              <input type="text" inputMode="decimal" data-testid="load-rate" value={rate.rateText} onChange={(event) => setRate(editRate(rate, event.target.value))} />
              <span className="field-unit">req/s</span>
            </label>
          </>
        )}
        {kind === 'step' && <Field label="Steps" unit="s:req/s" name="steps" fields={fields} onChange={onField} testId="load-steps" />}
        {kind === 'ramp' && (
          <>
            <Field label="From" unit="req/s" name="fromRps" fields={fields} onChange={onField} />
            <Field label="To" unit="req/s" name="toRps" fields={fields} onChange={onField} />
            <Field label="Duration" unit="s" name="durationS" fields={fields} onChange={onField} />
          </>
        )}
        {kind === 'sine' && (
          <>
            <Field label="Mean" unit="req/s" name="meanRps" fields={fields} onChange={onField} />
            <Field label="Amplitude" unit="req/s" name="amplitudeRps" fields={fields} onChange={onField} />
            <Field label="Period" unit="s" name="periodS" fields={fields} onChange={onField} />
          </>
        )}
        {kind === 'spike' && (
          <>
            <Field label="Base" unit="req/s" name="baseRps" fields={fields} onChange={onField} />
            <Field label="Spike" unit="req/s" name="spikeRps" fields={fields} onChange={onField} />
            <Field label="At" unit="s" name="atS" fields={fields} onChange={onField} />
            <Field label="Duration" unit="s" name="durationS" fields={fields} onChange={onField} />
          </>
        )}
        {kind === 'trace' && (
          <>
            <label className="field">
              <span className="field-label">CSV file</span>
              <input type="file" accept=".csv,text/csv,text/plain" data-testid="load-trace-file" onChange={(event) => setTraceFile(event.target.files?.[0] ?? null)} />
            </label>
            <Field label="Time scale" unit="×" name="timeScale" fields={fields} onChange={onField} />
            <Field label="Rate scale" unit="×" name="rateScale" fields={fields} onChange={onField} />
          </>
        )}
        <div className="form-actions">
          {error && (
            <span className="form-error" role="alert" data-testid="load-error">
              {error}
            </span>
          )}
          <button type="submit" className="primary" data-testid="load-apply" disabled={applying || load === null}>
            Apply
          </button>
        </div>
      </form>
      <label className="field">
        <span className="field-label">Difficulty</span>
        <select
          data-testid="load-digits"
          value={load?.digits ?? 3}
          disabled={load === null}
          onChange={(event) => void runCommand(api, store, 'load:digits', { digits: Number(event.target.value) }, 'Setting the difficulty')}
        >
          {[1, 2, 3, 4, 5, 6, 7, 8].map((digits) => (
            <option key={digits} value={digits}>
              {digits} digits · ~{(16 ** digits).toLocaleString('en-US')} hashes
            </option>
          ))}
        </select>
      </label>
    </section>
  );
}
