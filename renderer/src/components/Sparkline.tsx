// A tiny inline SVG line of the last 60 s of a VM's CPU % (and the guest's busy %), for the list.
// SVG attributes only (no inline styles), memoized on the history arrays so unchanged rows skip it.
import { memo } from 'react';
import { HISTORY_WINDOW_MS, type DomainHistory } from '../store/domains-slice';

/** One SVG unit per second of the window. */
const WIDTH = HISTORY_WINDOW_MS / 1000;
const HEIGHT = 20;

/** SVG path data for values 0-100 placed by time (the newest point at the right edge), gaps at nulls. */
export function sparkPath(tMs: readonly number[], values: readonly (number | null)[]): string {
  const lastMs = tMs[tMs.length - 1] ?? 0;
  let path = '';
  let drawing = false;
  values.forEach((value, i) => {
    if (value === null) {
      drawing = false;
      return;
    }
    const x = WIDTH - (lastMs - (tMs[i] ?? lastMs)) / 1000;
    const y = HEIGHT - 1 - (Math.min(100, Math.max(0, value)) / 100) * (HEIGHT - 2);
    path += `${drawing ? 'L' : 'M'}${x.toFixed(1)} ${y.toFixed(1)}`;
    drawing = true;
  });
  return path;
}

export const Sparkline = memo(function Sparkline(props: { history: DomainHistory | undefined }) {
  const history = props.history;
  const cpu = history ? sparkPath(history.tMs, history.cpuPct) : '';
  const busy = history ? sparkPath(history.tMs, history.busyPct) : '';
  return (
    <svg className="sparkline" viewBox={`0 0 ${WIDTH} ${HEIGHT}`} preserveAspectRatio="none" aria-hidden="true">
      {cpu && <path className="spark-cpu" d={cpu} vectorEffect="non-scaling-stroke" />}
      {busy && <path className="spark-busy" d={busy} vectorEffect="non-scaling-stroke" />}
    </svg>
  );
});
