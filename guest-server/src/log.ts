// JSON-line logging to stderr for the guest server: one object a line with ts, level, event and
// fields, so that tests, journald and the sandbox can parse it. It must never throw or block work.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
}

/** A logger that writes lines at `minLevel` and above through `write` (stderr by default). */
export function createLogger(minLevel: LogLevel, write: (line: string) => void = (line) => process.stderr.write(line)): Logger {
  const threshold = LOG_LEVELS.indexOf(minLevel);
  const emit = (level: LogLevel, event: string, fields?: LogFields): void => {
    if (LOG_LEVELS.indexOf(level) < threshold) return;
    let line: string;
    try {
      line = JSON.stringify({ ts: new Date().toISOString(), level, event, ...fields });
    } catch {
      // A field that cannot be serialized (a cycle, a BigInt) must not take the server down.
      line = JSON.stringify({ ts: new Date().toISOString(), level, event, note: 'fields not serializable' });
    }
    write(`${line}\n`);
  };
  return {
    debug: (event, fields) => emit('debug', event, fields),
    info: (event, fields) => emit('info', event, fields),
    warn: (event, fields) => emit('warn', event, fields),
    error: (event, fields) => emit('error', event, fields),
  };
}

/** A logger that drops everything, for library use and tests that do not look at logs. */
export const silentLogger: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
