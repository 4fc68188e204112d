// Command-line options of the guest server, parsed with node:util parseArgs into one typed object
// with documented defaults. It only parses: no files are read and nothing is started here; a bad
// flag becomes an OptionsError naming the flag, which main turns into exit code 2.
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { DEFAULT_DISCOVERY_PATHS, parseHostPort, type DiscoveryPaths, type HostPort } from './discovery';
import { LOG_LEVELS, type LogLevel } from './log';
import { MAX_LINE_BYTES_DEFAULT, PROTOCOL_VERSION } from './protocol-limits';

export interface GuestOptions {
  /** Address the guest listens on for direct clients (nc, tests). @default 0.0.0.0:7000 */
  listen: HostPort;
  /** Manager's agent address; null means discover it (cmdline, OEM string, fw_cfg, gateway:7001). @default null */
  manager: HostPort | null;
  /** Serve only the own port and dial no manager (stand-alone use, tests). @default false */
  noManager: boolean;
  /**
   * Exit when standard input closes: the sandbox runs each guest in its own process group (so a
   * terminal's Ctrl-C reaches only the manager) and this ties the guest's life to its parent's.
   * @default false
   */
  exitWithStdin: boolean;
  /** UUID sent in `register`; null means the SMBIOS system UUID. @default null */
  uuid: string | null;
  /** Token sent in `register`; null means discover it (cmdline, OEM string, fw_cfg), else "". @default null */
  token: string | null;
  /** vCPUs reported in `register` and `hello`. @default os.availableParallelism() */
  vcpus: number;
  /** Worker threads doing collide searches. @default vcpus */
  workers: number;
  /** Cap on each worker's hashes per second (models a VM's CPU in the sandbox); 0 = unlimited. @default 0 */
  hashRatePerWorker: number;
  /** Interval of `load` heartbeats to the manager, in ms. @default 1000 */
  heartbeatMs: number;
  /** Longest accepted line, in bytes; a longer one gets line_too_long and closes that connection. @default 65536 */
  maxLineBytes: number;
  /** Client connections served at once; more are accepted, told `busy` and closed. @default 256 */
  maxConnections: number;
  /** A client connection with no input and nothing in flight for this long is closed, in ms; 0 = never. Not applied to the manager connection. @default 300000 */
  idleTimeoutMs: number;
  /** Collide requests in flight per connection; more get `busy`. @default 64 */
  maxInflight: number;
  /** On SIGTERM/SIGINT, how long in-flight work may finish before it is answered `shutting_down`, in ms. @default 10000 */
  drainTimeoutMs: number;
  /** How long to wait for `registered` after sending `register`, in ms. @default 10000 */
  registerTimeoutMs: number;
  /** First reconnect delay ceiling, in ms. @default 100 */
  backoffMinMs: number;
  /** Largest reconnect delay, in ms. @default 5000 */
  backoffMaxMs: number;
  /** Lowest level logged to stderr. @default "info" */
  logLevel: LogLevel;
  /** Discovery file locations. @default the real /proc and /sys paths */
  paths: DiscoveryPaths;
  /** The RTC's seconds since the epoch, watched to notice a restore from a saved image. @default "/sys/class/rtc/rtc0/since_epoch" */
  rtcFile: string;
}

export class OptionsError extends Error {
  readonly code = 'bad_flag';
}

export type ParsedCommand = { kind: 'run'; options: GuestOptions } | { kind: 'help'; text: string } | { kind: 'version'; text: string };

export const USAGE = `Usage: node guest-server.js [options]

The Cloud Management System guest server: serves collide work over newline-delimited JSON,
on its own port and on a connection it dials to the manager.

Options:
  --listen HOST:PORT          listen address for direct clients (default 0.0.0.0:7000; port 0 = any)
  --manager HOST:PORT         manager's agent address (default: discover it from cms.manager= on the
                              kernel command line, an SMBIOS OEM string, fw_cfg opt/cms/manager,
                              else the default gateway on port 7001)
  --no-manager                dial no manager; serve the own port only
  --exit-with-stdin           exit when standard input closes (the sandbox ties guests to its life)
  --uuid UUID                 UUID to register with (default: SMBIOS system UUID)
  --token TOKEN               registration token (default: cms.token= from the same sources, else "")
  --vcpus N                   vCPUs to report (default: os.availableParallelism())
  --workers N                 worker threads (default: vcpus)
  --hash-rate N               cap on each worker's hashes per second, 0 = unlimited (default 0)
  --heartbeat-ms MS           load heartbeat interval (default 1000)
  --max-line-bytes N          longest accepted line (default 65536)
  --max-connections N         client connections at once (default 256)
  --idle-timeout-ms MS        close idle client connections, 0 = never (default 300000)
  --max-inflight N            collide requests in flight per connection (default 64)
  --drain-timeout-ms MS       on SIGTERM, time for in-flight work to finish (default 10000)
  --register-timeout-ms MS    wait for 'registered' this long (default 10000)
  --backoff-min-ms MS         first reconnect delay ceiling (default 100)
  --backoff-max-ms MS         largest reconnect delay (default 5000)
  --log-level LEVEL           debug, info, warn or error (default info)
  --cmdline-file PATH         kernel command line (default /proc/cmdline)
  --route-file PATH           routing table (default /proc/net/route)
  --product-uuid-file PATH    SMBIOS system UUID (default /sys/class/dmi/id/product_uuid)
  --dmi-entries-dir PATH      raw SMBIOS entries (default /sys/firmware/dmi/entries)
  --fw-cfg-dir PATH           QEMU fw_cfg by name (default /sys/firmware/qemu_fw_cfg/by_name)
  --rtc-file PATH             RTC seconds, watched to notice a restore (default /sys/class/rtc/rtc0/since_epoch)
  -h, --help                  print this help
  --version                   print the protocol version

Logs are JSON lines on stderr; {"event":"listening","port":N} tells the bound port.
SIGTERM or SIGINT: stop accepting, finish in-flight work, exit 0.
`;

const FLAGS = {
  listen: { type: 'string' },
  manager: { type: 'string' },
  'no-manager': { type: 'boolean' },
  'exit-with-stdin': { type: 'boolean' },
  uuid: { type: 'string' },
  token: { type: 'string' },
  vcpus: { type: 'string' },
  workers: { type: 'string' },
  'hash-rate': { type: 'string' },
  'heartbeat-ms': { type: 'string' },
  'max-line-bytes': { type: 'string' },
  'max-connections': { type: 'string' },
  'idle-timeout-ms': { type: 'string' },
  'max-inflight': { type: 'string' },
  'drain-timeout-ms': { type: 'string' },
  'register-timeout-ms': { type: 'string' },
  'backoff-min-ms': { type: 'string' },
  'backoff-max-ms': { type: 'string' },
  'log-level': { type: 'string' },
  'cmdline-file': { type: 'string' },
  'route-file': { type: 'string' },
  'product-uuid-file': { type: 'string' },
  'dmi-entries-dir': { type: 'string' },
  'fw-cfg-dir': { type: 'string' },
  'rtc-file': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

type FlagValues = { [K in keyof typeof FLAGS]?: (typeof FLAGS)[K]['type'] extends 'boolean' ? boolean : string };

/** Parses argv (without node and the script). Throws OptionsError for anything it cannot accept. */
export function parseGuestArgs(argv: readonly string[], defaults: { vcpus?: number } = {}): ParsedCommand {
  let values: FlagValues;
  try {
    values = parseArgs({ args: [...argv], options: FLAGS, strict: true, allowPositionals: false }).values as FlagValues;
  } catch (error) {
    throw new OptionsError(explainParseError(error));
  }
  if (values.help) return { kind: 'help', text: USAGE };
  if (values.version) return { kind: 'version', text: PROTOCOL_VERSION };

  const int = (flag: keyof typeof FLAGS, fallback: number, min: number, max: number): number => {
    const text = values[flag];
    if (text === undefined) return fallback;
    if (typeof text !== 'string' || !/^\d+$/.test(text)) throw new OptionsError(`--${flag}: expected a whole number, got '${String(text)}'`);
    const value = Number(text);
    if (value < min || value > max) throw new OptionsError(`--${flag}: ${value} is out of range (${min}–${max})`);
    return value;
  };
  const hostPort = (flag: 'listen' | 'manager'): HostPort | null => {
    const text = values[flag];
    if (text === undefined) return null;
    const parsed = parseHostPort(text, `--${flag}`);
    if (!parsed.ok) throw new OptionsError(parsed.message);
    return parsed.value;
  };
  const text = (flag: keyof typeof FLAGS, maxChars: number): string | null => {
    const value = values[flag];
    if (value === undefined) return null;
    if (typeof value !== 'string' || value.length > maxChars) throw new OptionsError(`--${flag}: expected at most ${maxChars} characters`);
    return value;
  };

  const manager = hostPort('manager');
  const noManager = values['no-manager'] === true;
  if (manager && noManager) throw new OptionsError('--manager and --no-manager contradict each other: pass one');
  const logLevel = values['log-level'] ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) throw new OptionsError(`--log-level: expected one of ${LOG_LEVELS.join(', ')}, got '${logLevel}'`);
  const uuid = text('uuid', 64);
  if (uuid !== null && uuid.length === 0) throw new OptionsError('--uuid: must not be empty');

  const vcpus = int('vcpus', defaults.vcpus ?? availableParallelism(), 1, 1024);
  const backoffMinMs = int('backoff-min-ms', 100, 1, 600_000);
  const backoffMaxMs = int('backoff-max-ms', 5000, 1, 3_600_000);
  if (backoffMaxMs < backoffMinMs) throw new OptionsError(`--backoff-max-ms: ${backoffMaxMs} is below --backoff-min-ms ${backoffMinMs}`);

  const options: GuestOptions = {
    listen: hostPort('listen') ?? { host: '0.0.0.0', port: 7000 },
    manager,
    noManager,
    exitWithStdin: values['exit-with-stdin'] === true,
    uuid,
    token: text('token', 256),
    vcpus,
    workers: int('workers', vcpus, 1, 1024),
    hashRatePerWorker: int('hash-rate', 0, 0, 1_000_000_000),
    heartbeatMs: int('heartbeat-ms', 1000, 10, 3_600_000),
    maxLineBytes: int('max-line-bytes', MAX_LINE_BYTES_DEFAULT, 64, 64 * 1024 * 1024),
    maxConnections: int('max-connections', 256, 1, 100_000),
    idleTimeoutMs: int('idle-timeout-ms', 300_000, 0, 86_400_000),
    maxInflight: int('max-inflight', 64, 1, 100_000),
    drainTimeoutMs: int('drain-timeout-ms', 10_000, 0, 3_600_000),
    registerTimeoutMs: int('register-timeout-ms', 10_000, 1, 3_600_000),
    backoffMinMs,
    backoffMaxMs,
    logLevel: logLevel as LogLevel,
    paths: {
      cmdline: values['cmdline-file'] ?? DEFAULT_DISCOVERY_PATHS.cmdline,
      route: values['route-file'] ?? DEFAULT_DISCOVERY_PATHS.route,
      productUuid: values['product-uuid-file'] ?? DEFAULT_DISCOVERY_PATHS.productUuid,
      dmiEntriesDir: values['dmi-entries-dir'] ?? DEFAULT_DISCOVERY_PATHS.dmiEntriesDir,
      fwCfgDir: values['fw-cfg-dir'] ?? DEFAULT_DISCOVERY_PATHS.fwCfgDir,
    },
    rtcFile: values['rtc-file'] ?? '/sys/class/rtc/rtc0/since_epoch',
  };
  return { kind: 'run', options };
}

/** parseArgs messages are good but name no remedy; keep them and point at --help. */
function explainParseError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\. To specify a positional argument starting with a '-'.*$/s, '');
}
