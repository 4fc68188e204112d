// Trace files: strict CSV parsing with file:line:column errors, the shared NASA trace (read from
// ../shared beside the repository, as in CI) and the trimmed copy the app bundles.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BUNDLED_TRACE_RELATIVE_PATH,
  loadTraceFile,
  parseTraceCsv,
  traceProfile,
  TraceParseError,
  TraceReadError,
} from '../../electron/core/loadgen/trace';
import { profileSchema, rateAt } from '../../electron/core/loadgen/profiles';

const repoRoot = resolve(fileURLToPath(import.meta.url), '..', '..', '..');
const nasaPath = join(repoRoot, '..', 'shared', 'traces', 'nasa_jul95_1min.csv');

function parseError(text: string, source = 'nasa.csv'): TraceParseError {
  try {
    parseTraceCsv(text, source);
  } catch (error) {
    if (error instanceof TraceParseError) return error;
    throw error;
  }
  throw new Error('expected parseTraceCsv to throw');
}

describe('parseTraceCsv', () => {
  it('reads rows with or without the header, skipping comments and blank lines', () => {
    const expected = [
      { tS: 0, rateRps: 0.7 },
      { tS: 60, rateRps: 1.5 },
      { tS: 120, rateRps: 0 },
    ];
    expect(parseTraceCsv('t_seconds,rate\n0,0.7000\n60,1.5\n120,0\n', 'a.csv')).toEqual(expected);
    expect(parseTraceCsv('# a comment\n\n0,0.7\r\n  60 , 1.5 # trailing comment\n\n120,0', 'b.csv')).toEqual(expected);
    expect(parseTraceCsv('\uFEFFt_seconds,rate\n0,0.7\n60,1.5\n120,0\n', 'c.csv')).toEqual(expected);
    expect(parseTraceCsv('0,1e1\n1.5,.5\n', 'd.csv')).toEqual([
      { tS: 0, rateRps: 10 },
      { tS: 1.5, rateRps: 0.5 },
    ]);
  });

  it('names source, line and column of a value that is not a number', () => {
    const lines = ['t_seconds,rate', ...Array.from({ length: 15 }, (_, i) => `${i * 60},1.0`), '960,abc'];
    const error = parseError(lines.join('\n'));
    expect(error.code).toBe('trace_parse');
    expect(error.message).toBe("nasa.csv:17:5: rate 'abc' is not a number");
    expect([error.line, error.column]).toEqual([17, 5]);
    expect(parseError('0,1\n0x10,2').message).toBe("nasa.csv:2:1: t_seconds '0x10' is not a number");
    expect(parseError('0,1\n60,').message).toBe("nasa.csv:2:4: rate '' is not a number");
    expect(parseError('0,1\n60,Infinity').message).toContain('nasa.csv:2:4:');
  });

  it('refuses negative rates and times, and times that do not increase', () => {
    expect(parseError('0,1\n60,-2').message).toBe('nasa.csv:2:4: rate -2 is negative');
    expect(parseError('-1,1').message).toBe('nasa.csv:1:1: t_seconds -1 is negative');
    expect(parseError('0,1\n60,1\n60,2').message).toBe("nasa.csv:3:1: t_seconds 60 is not after the previous row's 60");
    expect(parseError('0,1\n60,1\n30,2').message).toContain('nasa.csv:3:1:');
  });

  it('refuses a wrong column count', () => {
    expect(parseError('0,1\n60,1,7').message).toBe('nasa.csv:2:6: expected 2 columns (t_seconds,rate), found 3');
    expect(parseError('0,1\n60').message).toBe('nasa.csv:2:3: expected 2 columns (t_seconds,rate), found 1');
  });

  it('accepts only the exact header', () => {
    expect(parseError('time,rate\n0,1').message).toBe("nasa.csv:1:1: expected the header 't_seconds,rate' or a data row, found 'time,rate'");
    expect(parseError('0,1\nt_seconds,rate').message).toBe("nasa.csv:2:1: t_seconds 't_seconds' is not a number");
  });

  it('refuses a file without data rows', () => {
    expect(parseError('').message).toBe('nasa.csv:1:1: the trace has no data rows');
    expect(parseError('# only\n\nt_seconds,rate\n\n').message).toBe('nasa.csv:3:1: the trace has no data rows');
  });
});

describe('loadTraceFile', () => {
  it('loads the shared NASA July 1995 trace (39,692 rows a minute apart)', async () => {
    const points = await loadTraceFile(nasaPath);
    expect(points).toHaveLength(39_692);
    expect(points[0]).toEqual({ tS: 0, rateRps: 0.7 });
    expect(points[1]).toEqual({ tS: 60, rateRps: 1.0167 });
    expect(points.at(-1)).toEqual({ tS: 2_381_460, rateRps: 1.5333 });
    // It is usable as a profile: a minute of trace a second, ×10 rate.
    const profile = profileSchema.parse(traceProfile(points, { timeScale: 60, rateScale: 10 }, 'nasa'));
    expect(rateAt(profile, 0.5)).toBeCloseTo(7, 10);
    expect(rateAt(profile, 1.5)).toBeCloseTo(10.167, 10);
  });

  it('bundles the first 3 days as the default trace, identical to the shared file', async () => {
    const bundled = await loadTraceFile(join(repoRoot, BUNDLED_TRACE_RELATIVE_PATH));
    expect(bundled).toHaveLength(4320);
    expect(bundled.at(-1)?.tS).toBe(3 * 86_400 - 60);
    const full = await loadTraceFile(nasaPath);
    expect(bundled).toEqual(full.slice(0, 4320));
  });

  it('reports unreadable and oversized files as trace_read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cms-trace-'));
    try {
      await expect(loadTraceFile(join(dir, 'missing.csv'))).rejects.toMatchObject({ code: 'trace_read' });
      const big = join(dir, 'big.csv');
      writeFileSync(big, '0,1\n60,2\n');
      await expect(loadTraceFile(big, { maxBytes: 4 })).rejects.toBeInstanceOf(TraceReadError);
      const bad = join(dir, 'bad.csv');
      writeFileSync(bad, '0,1\n60,x\n');
      await expect(loadTraceFile(bad, { sourceName: 'bad.csv' })).rejects.toThrow("bad.csv:2:4: rate 'x' is not a number");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
