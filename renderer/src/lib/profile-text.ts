// Short human text for a load profile ("ramp 10→100 req/s over 60 s"), for the load panel.
// Pure; mirrors the app's own wording without importing app code into the page.
import type { AppState } from '../../../electron/contract/contract';
import { formatRps } from './format';

export type LoadProfileView = AppState['load']['profile'];

export function profileText(profile: LoadProfileView): string {
  switch (profile.kind) {
    case 'constant':
      return `constant ${formatRps(profile.rateRps)} req/s`;
    case 'step':
      return `step ${profile.steps.map((step) => `${formatRps(step.rateRps)}@${step.atS}s`).join(', ')}`;
    case 'ramp':
      return `ramp ${formatRps(profile.fromRps)}→${formatRps(profile.toRps)} req/s over ${profile.durationS} s`;
    case 'sine':
      return `sine ${formatRps(profile.meanRps)}±${formatRps(profile.amplitudeRps)} req/s, period ${profile.periodS} s`;
    case 'spike':
      return `spike ${formatRps(profile.baseRps)}→${formatRps(profile.spikeRps)} req/s at ${profile.atS} s for ${profile.durationS} s`;
    case 'trace':
      return `trace ${profile.source ?? `${profile.points.length} points`} ×${profile.timeScale} time, ×${profile.rateScale} rate`;
  }
}
