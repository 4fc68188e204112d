// Plain-text tables and number formats for the benchmark reports. Formatting only: it measures
// nothing and prints nothing (callers join the lines and print them once).

export type Align = 'left' | 'right';

export interface Column {
  title: string;
  /** @default 'right' (numbers), except the first column which defaults to 'left' */
  align?: Align;
}

/** Lays out rows under a header with a rule, each column as wide as its widest cell. */
export function table(columns: readonly Column[], rows: ReadonlyArray<readonly string[]>): string[] {
  const widths = columns.map((column, i) => Math.max(column.title.length, ...rows.map((row) => (row[i] ?? '').length)));
  const cell = (text: string, i: number): string => {
    const align = columns[i]?.align ?? (i === 0 ? 'left' : 'right');
    const width = widths[i] ?? 0;
    return align === 'left' ? text.padEnd(width) : text.padStart(width);
  };
  const line = (cells: readonly string[]): string => cells.map((text, i) => cell(text, i)).join('  ').trimEnd();
  const header = line(columns.map((column) => column.title));
  return [header, '-'.repeat(header.length), ...rows.map((row) => line(row))];
}

/** A fixed-point number, or '–' for null / NaN. */
export function fixed(value: number | null | undefined, digits = 1): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits);
}

/** A signed percentage such as '+0.12 %'. */
export function signedPct(value: number, digits = 2): string {
  return `${value >= 0 ? '+' : ''}${value.toFixed(digits)} %`;
}

/** Requests per second with a thousands separator: '12,345'. */
export function rps(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}
