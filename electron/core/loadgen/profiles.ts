// Load profiles: how the offered rate (requests/second) changes with time, as plain data that the
// CLI, the IPC contract and the generator share. Pure functions only: no timers, no clock, no I/O.
// User input enters through `profileSchema`/`parseProfile`, whose errors name the failing path.
import { z } from 'zod';

/** One row of a rate trace: from `tS` (trace seconds) until the next row, the rate is `rateRps`. */
export type TracePoint = { tS: number; rateRps: number };

/** Why a profile or a rate was refused. */
export type ProfileErrorCode = 'profile_invalid' | 'invalid_rate' | 'invalid_inter_request';

export class ProfileError extends Error {
  override readonly name = 'ProfileError';
  constructor(
    readonly code: ProfileErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const rateRps = z.number().nonnegative();
const seconds = z.number().nonnegative();

const constantSchema = z.strictObject({
  kind: z.literal('constant'),
  rateRps,
});

const stepSchema = z
  .strictObject({
    kind: z.literal('step'),
    steps: z.array(z.strictObject({ atS: seconds, rateRps })).min(1),
  })
  .superRefine((value, ctx) => {
    const first = value.steps[0];
    if (first && first.atS !== 0) {
      ctx.addIssue({ code: 'custom', path: ['steps', 0, 'atS'], message: `the first step must be at 0 s, not ${first.atS}` });
    }
    for (let i = 1; i < value.steps.length; i++) {
      const prev = value.steps[i - 1];
      const cur = value.steps[i];
      if (prev && cur && cur.atS <= prev.atS) {
        ctx.addIssue({ code: 'custom', path: ['steps', i, 'atS'], message: `steps must be sorted: ${cur.atS} s is not after ${prev.atS} s` });
      }
    }
  });

const rampSchema = z.strictObject({
  kind: z.literal('ramp'),
  fromRps: rateRps,
  toRps: rateRps,
  /** Seconds from `fromRps` to `toRps`; the rate then holds at `toRps`. 0 jumps at once. */
  durationS: seconds,
});

const sineSchema = z.strictObject({
  kind: z.literal('sine'),
  meanRps: rateRps,
  amplitudeRps: rateRps,
  periodS: z.number().positive(),
});

const spikeSchema = z.strictObject({
  kind: z.literal('spike'),
  baseRps: rateRps,
  spikeRps: rateRps,
  atS: seconds,
  durationS: seconds,
});

const traceSchema = z
  .strictObject({
    kind: z.literal('trace'),
    points: z.array(z.strictObject({ tS: seconds, rateRps })).min(1),
    /** Trace seconds replayed per real second (60 plays a minute of trace each second). @default 1 */
    timeScale: z.number().positive().default(1),
    /** Multiplies every rate of the trace. @default 1 */
    rateScale: z.number().nonnegative().default(1),
    /** Start again from the beginning when the trace ends; otherwise the rate is 0 after it. @default false */
    loop: z.boolean().default(false),
    /** Where the points came from (a file name), for display only. */
    source: z.string().optional(),
  })
  .superRefine((value, ctx) => {
    // A plain loop rather than per-point refinements: traces have tens of thousands of rows.
    for (let i = 1; i < value.points.length; i++) {
      const prev = value.points[i - 1];
      const cur = value.points[i];
      if (prev && cur && cur.tS <= prev.tS) {
        ctx.addIssue({ code: 'custom', path: ['points', i, 'tS'], message: `times must increase: ${cur.tS} s is not after ${prev.tS} s` });
        return;
      }
    }
  });

/** The zod schema for a load profile; parse user input (CLI, IPC, files) with it. */
export const profileSchema = z.discriminatedUnion('kind', [constantSchema, stepSchema, rampSchema, sineSchema, spikeSchema, traceSchema]);

/** A validated load profile (defaults filled in). */
export type LoadProfile = z.output<typeof profileSchema>;
/** What a user may write: like LoadProfile, but trace scale fields may be left out. */
export type LoadProfileInput = z.input<typeof profileSchema>;
export type LoadProfileKind = LoadProfile['kind'];
export type TraceProfile = Extract<LoadProfile, { kind: 'trace' }>;

/** "steps[2].atS" from a zod issue path; "(profile)" for the root. */
function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(profile)' : out;
}

/** Formats a zod error as "path: message; path: message" (at most 5 issues). */
export function formatZodError(error: z.ZodError): string {
  const issues = error.issues.slice(0, 5).map((issue) => `${formatPath(issue.path)}: ${issue.message}`);
  const more = error.issues.length > 5 ? `; and ${error.issues.length - 5} more` : '';
  return issues.join('; ') + more;
}

/** Validates untrusted input as a profile; throws ProfileError('profile_invalid') naming the path. */
export function parseProfile(input: unknown): LoadProfile {
  const result = profileSchema.safeParse(input);
  if (!result.success) throw new ProfileError('profile_invalid', `invalid load profile: ${formatZodError(result.error)}`);
  return result.data;
}

/** Requests/second from the original program's inter-request time (seconds between requests). */
export function rateFromInterRequestS(interRequestS: number): number {
  if (!Number.isFinite(interRequestS) || interRequestS <= 0) {
    throw new ProfileError('invalid_inter_request', `inter-request time must be a number of seconds greater than 0, got ${interRequestS}`);
  }
  return 1 / interRequestS;
}

/** Seconds between requests for a rate in requests/second (the inverse of rateFromInterRequestS). */
export function interRequestSFromRate(rateRpsValue: number): number {
  if (!Number.isFinite(rateRpsValue) || rateRpsValue <= 0) {
    throw new ProfileError('invalid_rate', `rate must be a number of requests/second greater than 0 to have an inter-request time, got ${rateRpsValue}`);
  }
  return 1 / rateRpsValue;
}

/** Trace seconds covered by a trace: the last row lasts as long as the row before it (1 s if alone). */
export function traceLengthS(points: readonly TracePoint[]): number {
  const last = points[points.length - 1];
  if (!last) return 0;
  const prev = points[points.length - 2];
  return last.tS + (prev ? last.tS - prev.tS : 1);
}

/** Index of the last point with tS <= traceS, or -1 when traceS is before the first point. */
function traceIndexAt(points: readonly TracePoint[], traceS: number): number {
  let lo = 0;
  let hi = points.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const point = points[mid];
    if (point && point.tS <= traceS) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

/** Position inside the trace for real elapsed seconds, or undefined once a non-looping trace ended. */
function tracePosition(profile: TraceProfile, elapsedS: number): number | undefined {
  const traceS = elapsedS * profile.timeScale;
  const lengthS = traceLengthS(profile.points);
  if (traceS < lengthS) return traceS;
  if (!profile.loop || lengthS <= 0) return undefined;
  return traceS % lengthS;
}

/** The offered rate (requests/second, never negative) `elapsedS` seconds after the profile began. */
export function rateAt(profile: LoadProfile, elapsedS: number): number {
  const s = Math.max(0, elapsedS);
  switch (profile.kind) {
    case 'constant':
      return profile.rateRps;
    case 'step': {
      let rate = 0;
      for (const step of profile.steps) {
        if (step.atS > s) break;
        rate = step.rateRps;
      }
      return rate;
    }
    case 'ramp':
      if (profile.durationS <= 0 || s >= profile.durationS) return profile.toRps;
      return profile.fromRps + ((profile.toRps - profile.fromRps) * s) / profile.durationS;
    case 'sine':
      return Math.max(0, profile.meanRps + profile.amplitudeRps * Math.sin((2 * Math.PI * s) / profile.periodS));
    case 'spike':
      return s >= profile.atS && s < profile.atS + profile.durationS ? profile.spikeRps : profile.baseRps;
    case 'trace': {
      const traceS = tracePosition(profile, s);
      if (traceS === undefined) return 0;
      const point = profile.points[traceIndexAt(profile.points, traceS)];
      return point ? point.rateRps * profile.rateScale : 0;
    }
  }
}

/**
 * The piece of the profile that contains `elapsedS`: it lasts until `endS` (profile seconds, > elapsedS,
 * Infinity if it never ends). `smooth` says the rate varies inside it (ramp, sine); otherwise the rate
 * is constant until `endS`. The generator integrates constant pieces exactly and smooth ones in steps.
 */
export function profilePieceAt(profile: LoadProfile, elapsedS: number): { endS: number; smooth: boolean } {
  const s = Math.max(0, elapsedS);
  switch (profile.kind) {
    case 'constant':
      return { endS: Infinity, smooth: false };
    case 'step': {
      const next = profile.steps.find((step) => step.atS > s);
      return { endS: next ? next.atS : Infinity, smooth: false };
    }
    case 'ramp':
      return s < profile.durationS ? { endS: profile.durationS, smooth: true } : { endS: Infinity, smooth: false };
    case 'sine':
      return { endS: Infinity, smooth: true };
    case 'spike': {
      if (s < profile.atS) return { endS: profile.atS, smooth: false };
      if (s < profile.atS + profile.durationS) return { endS: profile.atS + profile.durationS, smooth: false };
      return { endS: Infinity, smooth: false };
    }
    case 'trace': {
      const traceS = tracePosition(profile, s);
      if (traceS === undefined) return { endS: Infinity, smooth: false };
      const next = profile.points[traceIndexAt(profile.points, traceS) + 1];
      const pieceEndTraceS = next ? next.tS : traceLengthS(profile.points);
      return { endS: s + (pieceEndTraceS - traceS) / profile.timeScale, smooth: false };
    }
  }
}

/** Real seconds until the profile has nothing more to say: a non-looping trace ends; others never do. */
export function profileDurationS(profile: LoadProfile): number {
  if (profile.kind === 'trace' && !profile.loop) return traceLengthS(profile.points) / profile.timeScale;
  return Infinity;
}

/** A one-line human description, for logs and the UI ("ramp 10→100 rps over 60 s"). */
export function describeProfile(profile: LoadProfile): string {
  switch (profile.kind) {
    case 'constant':
      return `constant ${profile.rateRps} rps`;
    case 'step':
      return `step ${profile.steps.map((step) => `${step.rateRps} rps@${step.atS}s`).join(', ')}`;
    case 'ramp':
      return `ramp ${profile.fromRps}→${profile.toRps} rps over ${profile.durationS} s`;
    case 'sine':
      return `sine ${profile.meanRps}±${profile.amplitudeRps} rps, period ${profile.periodS} s`;
    case 'spike':
      return `spike ${profile.baseRps} rps, ${profile.spikeRps} rps at ${profile.atS} s for ${profile.durationS} s`;
    case 'trace':
      return `trace ${profile.source ?? `${profile.points.length} points`} ×${profile.timeScale} time, ×${profile.rateScale} rate${profile.loop ? ', looping' : ''}`;
  }
}
