// Number and time formats the UI shows (memory, uptime, rates, latencies). Pure functions with no
// DOM or store access, so the same text appears in the list, the status bar and the tests.

/** '512 MiB', '2.0 GiB', '—' for null. */
export function formatMemoryKiB(memoryKiB: number | null | undefined): string {
  if (memoryKiB === null || memoryKiB === undefined || !Number.isFinite(memoryKiB)) return '—';
  const mib = memoryKiB / 1024;
  if (mib < 1024) return `${Math.round(mib)} MiB`;
  const gib = mib / 1024;
  return `${gib < 10 ? gib.toFixed(1) : Math.round(gib)} GiB`;
}

/** '42 s', '3 m 05 s', '2 h 07 m', '3 d 04 h'; '—' for null. */
export function formatUptimeS(uptimeS: number | null | undefined): string {
  if (uptimeS === null || uptimeS === undefined || !Number.isFinite(uptimeS)) return '—';
  const s = Math.floor(uptimeS);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} m ${String(s % 60).padStart(2, '0')} s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h ${String(m % 60).padStart(2, '0')} m`;
  return `${Math.floor(h / 24)} d ${String(h % 24).padStart(2, '0')} h`;
}

/** A rate in req/s with sensible precision: '0.25', '4.8', '120'. */
export function formatRps(rateRps: number | null | undefined): string {
  if (rateRps === null || rateRps === undefined || !Number.isFinite(rateRps)) return '—';
  if (rateRps === 0) return '0';
  if (rateRps < 1) return rateRps.toFixed(2);
  if (rateRps < 100) return rateRps.toFixed(1);
  return Math.round(rateRps).toString();
}

/** A latency in ms: '0.8 ms', '85 ms', '1.25 s'. */
export function formatMs(valueMs: number | null | undefined): string {
  if (valueMs === null || valueMs === undefined || !Number.isFinite(valueMs)) return '—';
  if (valueMs < 10) return `${valueMs.toFixed(1)} ms`;
  if (valueMs < 1000) return `${Math.round(valueMs)} ms`;
  return `${(valueMs / 1000).toFixed(2)} s`;
}

/** A percentage 0-100: '37 %'; '—' for null. */
export function formatPercent(valuePct: number | null | undefined): string {
  if (valuePct === null || valuePct === undefined || !Number.isFinite(valuePct)) return '—';
  return `${Math.round(valuePct)} %`;
}

/** Run-time seconds as 'm:ss' (chart axes and the event log's relative times). */
export function formatClockS(runS: number): string {
  const s = Math.max(0, Math.floor(runS));
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}:${String(s % 60).padStart(2, '0')}`;
  return `${Math.floor(m / 60)}:${String(m % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

/** 'HH:MM:SS' of an ISO timestamp in local time; the input itself when it does not parse. */
export function formatTimeOfDay(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return [date.getHours(), date.getMinutes(), date.getSeconds()].map((part) => String(part).padStart(2, '0')).join(':');
}

/** Seconds between requests shown for a rate: '0.5', '0.0125'; '' when the rate is 0 (never). */
export function formatSeconds(valueS: number): string {
  if (!Number.isFinite(valueS) || valueS <= 0) return '';
  return String(Number(valueS.toPrecision(4)));
}
