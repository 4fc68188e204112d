// Structured logging: the Logger interface every core module accepts, a JSON-lines file logger
// (one {ts, level, event, ...fields} object a line) and in-memory/null loggers for tests.
// Logging must never throw into its caller: write failures are reported once to stderr and dropped.
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { systemClock, type Clock } from '../clock';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;
/** One log line as written: `ts` is ISO 8601 wall time; fields may not override ts/level/event. */
export type LogEntry = { ts: string; level: LogLevel; event: string } & LogFields;

/** What modules take to log: `event` is a stable dotted name ("pool.scale"), details go in fields. */
export interface Logger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
}

const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

export function levelEnabled(level: LogLevel, minLevel: LogLevel): boolean {
  return LEVEL_RANK[level] >= LEVEL_RANK[minLevel];
}

/** Errors become {name, message, code}; bigints become strings; JSON.stringify would drop or throw. */
function jsonReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const code = (value as Error & { code?: unknown }).code;
    return { name: value.name, message: value.message, ...(code === undefined ? {} : { code }) };
  }
  if (typeof value === 'bigint') return value.toString();
  return value;
}

/** Builds the entry with ts/level/event first and protected from fields of the same name. */
function makeEntry(wallMs: number, level: LogLevel, event: string, fields: LogFields | undefined): LogEntry {
  const entry: LogEntry = { ts: new Date(wallMs).toISOString(), level, event };
  if (fields) {
    for (const [key, value] of Object.entries(fields)) {
      if (key !== 'ts' && key !== 'level' && key !== 'event') entry[key] = value;
    }
  }
  return entry;
}

/** Serializes an entry to one line; circular or otherwise unserializable fields are replaced. */
export function formatLogLine(entry: LogEntry): string {
  try {
    return JSON.stringify(entry, jsonReplacer);
  } catch (error) {
    return JSON.stringify({ ts: entry.ts, level: entry.level, event: entry.event, logError: `fields not serializable: ${error instanceof Error ? error.message : String(error)}` });
  }
}

/** Base class: level filtering and entry building; subclasses decide where entries go. */
abstract class BaseLogger implements Logger {
  debug(event: string, fields?: LogFields): void {
    this.log('debug', event, fields);
  }
  info(event: string, fields?: LogFields): void {
    this.log('info', event, fields);
  }
  warn(event: string, fields?: LogFields): void {
    this.log('warn', event, fields);
  }
  error(event: string, fields?: LogFields): void {
    this.log('error', event, fields);
  }
  abstract log(level: LogLevel, event: string, fields?: LogFields): void;
}

export type JsonLineLoggerOptions = {
  /** Log file, appended to; relative paths resolve against the working directory. @default 'cms.log' */
  path?: string;
  /** Write no file at all (sink only), e.g. for the web-mode demo or read-only installs. @default false */
  noFile?: boolean;
  /** Lowest level written to the file. Per-request lines are debug. @default 'info' */
  minLevel?: LogLevel;
  /** Receives each entry at or above `sinkMinLevel` (the UI event log). Its errors are swallowed. */
  sink?: (entry: LogEntry) => void;
  /** Lowest level passed to `sink`. @default 'info' */
  sinkMinLevel?: LogLevel;
  /** Source of wall time for `ts`. @default systemClock */
  clock?: Pick<Clock, 'wallMs'>;
  /** Where the one-time write-failure report goes. @default process.stderr */
  errorStream?: Pick<NodeJS.WritableStream, 'write'>;
};

/** Appends JSON lines to a file (and a sink). Never throws; call close() to flush before exit. */
export class JsonLineLogger extends BaseLogger {
  readonly path: string;
  private minLevel: LogLevel;
  private readonly sinkMinLevel: LogLevel;
  private readonly sink: ((entry: LogEntry) => void) | undefined;
  private readonly clock: Pick<Clock, 'wallMs'>;
  private readonly errorStream: Pick<NodeJS.WritableStream, 'write'>;
  private stream: WriteStream | undefined;
  private failed = false;
  private closed = false;

  constructor(options: JsonLineLoggerOptions = {}) {
    super();
    this.path = resolve(options.path ?? 'cms.log');
    this.minLevel = options.minLevel ?? 'info';
    this.sinkMinLevel = options.sinkMinLevel ?? 'info';
    this.sink = options.sink;
    this.clock = options.clock ?? systemClock;
    this.errorStream = options.errorStream ?? process.stderr;
    if (!options.noFile) this.open();
  }

  private open(): void {
    try {
      mkdirSync(dirname(this.path), { recursive: true });
      const stream = createWriteStream(this.path, { flags: 'a', encoding: 'utf8' });
      stream.on('error', (error) => this.reportFailure(error));
      this.stream = stream;
    } catch (error) {
      this.reportFailure(error);
    }
  }

  /** Tells stderr once that the log file is not being written, then stops trying. */
  private reportFailure(error: unknown): void {
    const stream = this.stream;
    this.stream = undefined;
    stream?.destroy();
    if (this.failed) return;
    this.failed = true;
    const entry = makeEntry(this.clock.wallMs(), 'error', 'log.write_failed', { path: this.path, error });
    try {
      this.errorStream.write(`${formatLogLine(entry)}\n`);
    } catch {
      // Nowhere left to report to.
    }
  }

  /** Changes the file's minimum level at run time (e.g. `--verbose`). */
  setMinLevel(level: LogLevel): void {
    this.minLevel = level;
  }

  /** True when `level` would reach the file or the sink: skip building costly fields otherwise. */
  enabled(level: LogLevel): boolean {
    return levelEnabled(level, this.minLevel) || (this.sink !== undefined && levelEnabled(level, this.sinkMinLevel));
  }

  log(level: LogLevel, event: string, fields?: LogFields): void {
    const toFile = this.stream !== undefined && !this.closed && levelEnabled(level, this.minLevel);
    const toSink = this.sink !== undefined && levelEnabled(level, this.sinkMinLevel);
    if (!toFile && !toSink) return;
    const entry = makeEntry(this.clock.wallMs(), level, event, fields);
    if (toFile && this.stream) {
      try {
        this.stream.write(`${formatLogLine(entry)}\n`);
      } catch (error) {
        this.reportFailure(error);
      }
    }
    if (toSink && this.sink) {
      try {
        this.sink(entry);
      } catch {
        // A broken UI sink must not break the code that logs.
      }
    }
  }

  /** Flushes and closes the file; later entries still reach the sink. Resolves even on errors. */
  close(): Promise<void> {
    this.closed = true;
    const stream = this.stream;
    this.stream = undefined;
    if (!stream) return Promise.resolve();
    return new Promise((resolveClose) => {
      stream.once('error', () => resolveClose());
      stream.end(() => resolveClose());
    });
  }
}

/** A logger that drops everything. */
export const nullLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

export type MemoryLogger = Logger & {
  readonly entries: LogEntry[];
  /** Entries with this event name, in order. */
  find(event: string): LogEntry[];
  clear(): void;
};

/** Collects entries in memory (all levels unless `minLevel` says otherwise), for tests. */
export function memoryLogger(options: { minLevel?: LogLevel; clock?: Pick<Clock, 'wallMs'> } = {}): MemoryLogger {
  const minLevel = options.minLevel ?? 'debug';
  const clock = options.clock ?? systemClock;
  const entries: LogEntry[] = [];
  const log = (level: LogLevel, event: string, fields?: LogFields): void => {
    if (levelEnabled(level, minLevel)) entries.push(makeEntry(clock.wallMs(), level, event, fields));
  };
  return {
    entries,
    debug: (event, fields) => log('debug', event, fields),
    info: (event, fields) => log('info', event, fields),
    warn: (event, fields) => log('warn', event, fields),
    error: (event, fields) => log('error', event, fields),
    find: (event) => entries.filter((entry) => entry.event === event),
    clear: () => {
      entries.length = 0;
    },
  };
}

/** A logger that adds `fields` (e.g. {component: 'balancer'}) to every entry it passes on. */
export function withFields(logger: Logger, fields: LogFields): Logger {
  return {
    debug: (event, more) => logger.debug(event, { ...fields, ...more }),
    info: (event, more) => logger.info(event, { ...fields, ...more }),
    warn: (event, more) => logger.warn(event, { ...fields, ...more }),
    error: (event, more) => logger.error(event, { ...fields, ...more }),
  };
}
