// What the tray shows, decided from the app state alone: the tooltip (`4/5 VMs · 120 req/s · p95 80 ms`),
// which icon, and the counts offered by "Scale to…". Plain Node; the Electron glue only renders it.
import type { AppState } from '../../contract/contract';

export type TrayState = Pick<AppState, 'pool' | 'latest' | 'load' | 'hosts' | 'quitting'>;

/** Icon variants, one PNG each under build/icons/tray-<name>.png. */
export const trayIconNames = ['ok', 'scaling', 'degraded', 'idle', 'quitting'] as const;
export type TrayIconName = (typeof trayIconNames)[number];

function formatRate(rps: number): string {
  if (rps >= 10) return String(Math.round(rps));
  return String(Math.round(rps * 10) / 10);
}

/** `healthy/desired VMs · served req/s · p95`; while quitting, the shutdown instead. */
export function trayTooltip(state: TrayState, quitLabel?: string): string {
  if (state.quitting) return quitLabel ?? 'Shutting the pool down…';
  const served = state.latest?.servedRps ?? 0;
  const p95 = state.latest?.p95Ms ?? null;
  const parts = [
    `${state.pool.healthy}/${state.pool.desired} VMs`,
    `${formatRate(served)} req/s`,
    `p95 ${p95 === null ? '–' : `${Math.round(p95)} ms`}`,
  ];
  if (state.load.paused || !state.load.running) parts.push('load paused');
  return parts.join(' · ');
}

/**
 * quitting > degraded (a host not connected, or members wanted and none healthy or booting)
 * > scaling (booting, or healthy ≠ desired) > idle (no load) > ok.
 */
export function trayIconName(state: TrayState): TrayIconName {
  if (state.quitting) return 'quitting';
  const hostDown = state.hosts.some((host) => host.status !== 'connected');
  if (hostDown || (state.pool.desired > 0 && state.pool.healthy === 0 && state.pool.booting === 0)) return 'degraded';
  if (state.pool.booting > 0 || state.pool.healthy !== state.pool.desired) return 'scaling';
  if (state.load.paused || !state.load.running || state.load.offeredRps === 0) return 'idle';
  return 'ok';
}

export interface ScaleChoice {
  count: number;
  /** The pool's current desired size. */
  current: boolean;
}

/**
 * Sizes for the "Scale to…" submenu: 1..max, thinned to at most `limit` entries when max is large
 * (always keeping 1, max and the current size), ascending.
 */
export function scaleChoices(pool: Pick<AppState['pool'], 'max' | 'desired'>, limit = 16): ScaleChoice[] {
  const max = Math.max(1, Math.floor(pool.max));
  const counts = new Set<number>();
  if (max <= limit) {
    for (let n = 1; n <= max; n++) counts.add(n);
  } else {
    const step = Math.ceil(max / (limit - 1));
    for (let n = 1; n < max; n += step) counts.add(n);
    counts.add(max);
  }
  if (pool.desired >= 1 && pool.desired <= max) counts.add(pool.desired);
  return [...counts].sort((a, b) => a - b).map((count) => ({ count, current: count === pool.desired }));
}
