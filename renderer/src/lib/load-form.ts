// The load panel's linked fields: inter-request time (seconds between requests, the original
// program's knob) and rate (req/s) are two views of one number, so editing either rewrites the other.
// Pure: the panel keeps the texts in component state and sends only a parsed, valid value.
import { formatSeconds } from './format';

export interface RateDraft {
  /** What the user typed or what follows from the other field. */
  interRequestText: string;
  rateText: string;
  /** Which field the user edited last: that one is sent on Apply. */
  source: 'interRequest' | 'rate';
}

/** The draft that shows an applied rate. */
export function draftFromRateRps(rateRps: number): RateDraft {
  return { rateText: String(Number(rateRps.toPrecision(6))), interRequestText: formatSeconds(rateRps > 0 ? 1 / rateRps : 0), source: 'rate' };
}

function parsePositive(text: string): number | null {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  const value = Number(trimmed);
  return Number.isFinite(value) && value > 0 ? value : null;
}

/** The user typed an inter-request time: the rate follows when the text is a positive number. */
export function editInterRequest(draft: RateDraft, text: string): RateDraft {
  const seconds = parsePositive(text);
  return { interRequestText: text, rateText: seconds === null ? draft.rateText : String(Number((1 / seconds).toPrecision(6))), source: 'interRequest' };
}

/** The user typed a rate: the inter-request time follows (blank for 0 req/s: no requests at all). */
export function editRate(draft: RateDraft, text: string): RateDraft {
  const trimmed = text.trim();
  const rate = trimmed === '' ? null : Number(trimmed);
  if (rate === null || !Number.isFinite(rate) || rate < 0) return { ...draft, rateText: text, source: 'rate' };
  return { rateText: text, interRequestText: rate === 0 ? '' : formatSeconds(1 / rate), source: 'rate' };
}

export type RateCommand = { interRequestS: number } | { rateRps: number };

/** The `load:set` payload for the draft, or an error naming the field. */
export function rateCommand(draft: RateDraft): { ok: true; payload: RateCommand } | { ok: false; message: string } {
  if (draft.source === 'interRequest') {
    const seconds = parsePositive(draft.interRequestText);
    if (seconds === null) return { ok: false, message: 'inter-request time: enter a number of seconds greater than 0' };
    return { ok: true, payload: { interRequestS: seconds } };
  }
  const trimmed = draft.rateText.trim();
  const rate = Number(trimmed);
  if (trimmed === '' || !Number.isFinite(rate) || rate < 0) return { ok: false, message: 'rate: enter a number of requests per second, 0 or more' };
  return { ok: true, payload: { rateRps: rate } };
}

/** Parses `AT_S:RATE,AT_S:RATE…` (the CLI's --steps) into step points; throws naming the bad item. */
export function parseSteps(text: string): Array<{ atS: number; rateRps: number }> {
  const items = text.split(',').map((item) => item.trim()).filter((item) => item !== '');
  if (items.length === 0) throw new Error('steps: enter AT_S:RATE pairs such as 0:2,30:10');
  return items.map((item, index) => {
    const [at, rate, extra] = item.split(':');
    const atS = Number(at);
    const rateRps = Number(rate);
    if (extra !== undefined || at === undefined || rate === undefined || !Number.isFinite(atS) || !Number.isFinite(rateRps) || atS < 0 || rateRps < 0) {
      throw new Error(`steps[${index}]: '${item}' is not AT_S:RATE with two numbers ≥ 0`);
    }
    return { atS, rateRps };
  });
}
