// The live charts from metrics:sample pushes (the last ~10 minutes): offered vs served req/s,
// latency p50/p95/p99, pool size (desired, booting, healthy) and utilization.
import type uPlot from 'uplot';
import { formatClockS, formatMs, formatRps } from '../lib/format';
import type { SeriesColumns } from '../store/metrics-slice';
import type { AppStore } from '../store/store';
import { UPlotChart } from './UPlotChart';

const selectSeries = (s: AppStore): SeriesColumns => s.series;
// uPlot takes mutable arrays in its types but only reads them; the store's columns are never mutated.
const cols = (...columns: ReadonlyArray<readonly (number | null)[]>): uPlot.AlignedData => columns as unknown as uPlot.AlignedData;

const whole = (value: number): string => (Number.isInteger(value) ? String(value) : '');

export function Charts() {
  return (
    <div className="charts" data-testid="charts">
      <UPlotChart
        title="Requests"
        testId="chart-requests"
        series={[
          { label: 'offered', color: '#8a94a6', width: 1.5, dash: [5, 3] },
          { label: 'served', color: '#1f6feb', width: 2, fill: 'rgba(31,111,235,0.08)' },
        ]}
        select={selectSeries}
        toData={(s) => cols(s.tS, s.offeredRps, s.servedRps)}
        formatX={formatClockS}
        formatY={(v) => `${formatRps(v)}/s`}
      />
      <UPlotChart
        title="Latency"
        testId="chart-latency"
        series={[
          { label: 'p50', color: '#2da44e' },
          { label: 'p95', color: '#d29922' },
          { label: 'p99', color: '#cf222e' },
        ]}
        select={selectSeries}
        toData={(s) => cols(s.tS, s.p50Ms, s.p95Ms, s.p99Ms)}
        formatX={formatClockS}
        formatY={formatMs}
        minYTop={10}
      />
      <UPlotChart
        title="Pool size"
        testId="chart-pool"
        series={[
          { label: 'desired', color: '#6e40c9', width: 2, dash: [6, 3] },
          { label: 'booting', color: '#d29922' },
          { label: 'healthy', color: '#2da44e', width: 2, fill: 'rgba(45,164,78,0.10)' },
        ]}
        select={selectSeries}
        toData={(s) => cols(s.tS, s.poolDesired, s.poolBooting, s.poolHealthy)}
        formatX={formatClockS}
        formatY={whole}
        minYTop={2}
      />
      <UPlotChart
        title="Utilization"
        testId="chart-utilization"
        series={[{ label: 'busy', color: '#0969da', width: 2, fill: 'rgba(9,105,218,0.10)' }]}
        select={selectSeries}
        toData={(s) => cols(s.tS, s.utilizationPct)}
        formatX={formatClockS}
        formatY={(v) => `${Math.round(v)} %`}
        fixedYTop={100}
      />
    </div>
  );
}
