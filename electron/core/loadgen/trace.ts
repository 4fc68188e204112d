// Rate trace files: CSV `t_seconds,rate` (header optional, # comments, blank lines) into TracePoints.
// Parsing is strict and every refusal names the file, line and column; this module does not replay
// anything (profiles.ts does) and reads no file except the one it is asked to load.
import { readFile, stat } from 'node:fs/promises';
import type { TraceProfile, TracePoint } from './profiles';

/** The only header a trace file may have (it may also have none). */
export const TRACE_HEADER = 't_seconds,rate';

/** The trace bundled with the app (first 3 days of NASA-HTTP July 1995), relative to the app root. */
export const BUNDLED_TRACE_RELATIVE_PATH = 'build/traces/nasa_jul95_3days.csv';

/** A trace file's content is wrong; `line` and `column` are 1-based. */
export class TraceParseError extends Error {
  override readonly name = 'TraceParseError';
  readonly code = 'trace_parse';
  constructor(
    readonly source: string,
    readonly line: number,
    readonly column: number,
    readonly reason: string,
  ) {
    super(`${source}:${line}:${column}: ${reason}`);
  }
}

/** A trace file could not be read at all (missing, unreadable, too large). */
export class TraceReadError extends Error {
  override readonly name = 'TraceReadError';
  readonly code = 'trace_read';
  constructor(
    readonly source: string,
    message: string,
  ) {
    super(`${source}: ${message}`);
  }
}

// Plain decimal numbers only: Number() would accept '', '0x10', 'Infinity' and ' '.
const NUMBER_RE = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

type Field = { text: string; column: number };

/** Splits a line on commas, trimming each field and remembering the column where its text starts. */
function splitFields(line: string): Field[] {
  const fields: Field[] = [];
  let start = 0;
  for (;;) {
    const comma = line.indexOf(',', start);
    const raw = comma === -1 ? line.slice(start) : line.slice(start, comma);
    const lead = raw.length - raw.trimStart().length;
    fields.push({ text: raw.trim(), column: start + lead + 1 });
    if (comma === -1) return fields;
    start = comma + 1;
  }
}

/**
 * Parses trace CSV text. `sourceName` appears in errors ("nasa.csv:17:8: rate 'abc' is not a number").
 * Throws TraceParseError for: a non-number, a negative time or rate, a time not after the previous
 * row's, a row without exactly 2 columns, a header other than `t_seconds,rate`, or no data rows.
 */
export function parseTraceCsv(text: string, sourceName: string): TracePoint[] {
  const points: TracePoint[] = [];
  const lines = text.split('\n');
  let sawContent = false;
  let lastLine = 1;
  for (let index = 0; index < lines.length; index++) {
    const lineNo = index + 1;
    let line = lines[index] ?? '';
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (index === 0 && line.startsWith('\uFEFF')) line = ` ${line.slice(1)}`; // keep columns true after a BOM
    const hash = line.indexOf('#');
    if (hash !== -1) line = line.slice(0, hash);
    if (line.trim() === '') continue;
    lastLine = lineNo;
    const fail = (column: number, reason: string): TraceParseError => new TraceParseError(sourceName, lineNo, column, reason);
    const fields = splitFields(line);
    const [timeField, rateField] = fields;

    if (!sawContent) {
      sawContent = true;
      // The first content line is the header when its first field is not a number.
      if (timeField && !NUMBER_RE.test(timeField.text)) {
        const normalized = fields.map((field) => field.text).join(',');
        if (normalized !== TRACE_HEADER) throw fail(timeField.column, `expected the header '${TRACE_HEADER}' or a data row, found '${line.trim()}'`);
        continue;
      }
    }

    if (fields.length !== 2 || !timeField || !rateField) {
      const extra = fields[2];
      throw fail(extra ? extra.column : line.length + 1, `expected 2 columns (${TRACE_HEADER}), found ${fields.length}`);
    }
    if (!NUMBER_RE.test(timeField.text)) throw fail(timeField.column, `t_seconds '${timeField.text}' is not a number`);
    if (!NUMBER_RE.test(rateField.text)) throw fail(rateField.column, `rate '${rateField.text}' is not a number`);
    const tS = Number(timeField.text);
    const rate = Number(rateField.text);
    if (!Number.isFinite(tS)) throw fail(timeField.column, `t_seconds '${timeField.text}' is too large`);
    if (!Number.isFinite(rate)) throw fail(rateField.column, `rate '${rateField.text}' is too large`);
    if (tS < 0) throw fail(timeField.column, `t_seconds ${timeField.text} is negative`);
    if (rate < 0) throw fail(rateField.column, `rate ${rateField.text} is negative`);
    const prev = points[points.length - 1];
    if (prev && tS <= prev.tS) throw fail(timeField.column, `t_seconds ${timeField.text} is not after the previous row's ${prev.tS}`);
    points.push({ tS, rateRps: rate });
  }
  if (points.length === 0) throw new TraceParseError(sourceName, lastLine, 1, 'the trace has no data rows');
  return points;
}

export type LoadTraceOptions = {
  /** Largest file accepted, in bytes: protects the app from a wrong file choice. @default 64 MiB */
  maxBytes?: number;
  /** Name used in errors. @default the path as given */
  sourceName?: string;
};

/** Reads and parses a trace file; throws TraceReadError (I/O, size) or TraceParseError (content). */
export async function loadTraceFile(path: string, options: LoadTraceOptions = {}): Promise<TracePoint[]> {
  const maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
  const sourceName = options.sourceName ?? path;
  let text: string;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new TraceReadError(sourceName, 'not a regular file');
    if (info.size > maxBytes) throw new TraceReadError(sourceName, `file is ${info.size} bytes, more than the limit of ${maxBytes}`);
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof TraceReadError) throw error;
    throw new TraceReadError(sourceName, `cannot read trace file: ${error instanceof Error ? error.message : String(error)}`);
  }
  return parseTraceCsv(text, sourceName);
}

export type TraceReplayOptions = {
  /** Trace seconds per real second. @default 1 */
  timeScale?: number;
  /** Multiplier for every rate. @default 1 */
  rateScale?: number;
  /** Replay again from the start at the end. @default false */
  loop?: boolean;
};

/** Builds a trace profile from parsed points (the caller validates the scales, e.g. with profileSchema). */
export function traceProfile(points: TracePoint[], options: TraceReplayOptions = {}, source?: string): TraceProfile {
  return {
    kind: 'trace',
    points,
    timeScale: options.timeScale ?? 1,
    rateScale: options.rateScale ?? 1,
    loop: options.loop ?? false,
    ...(source === undefined ? {} : { source }),
  };
}
