// Guest server flags: documented defaults, every value flag read through, and bad flags rejected
// with an OptionsError that names the flag (main turns it into exit code 2).
import { describe, expect, it } from 'vitest';
import { OptionsError, parseGuestArgs, USAGE, type GuestOptions } from '../../guest-server/src/options';

function run(argv: string[]): GuestOptions {
  const parsed = parseGuestArgs(argv, { vcpus: 3 });
  if (parsed.kind !== 'run') throw new Error(`expected run, got ${parsed.kind}`);
  return parsed.options;
}

function rejection(argv: string[]): string {
  try {
    parseGuestArgs(argv, { vcpus: 3 });
  } catch (error) {
    expect(error).toBeInstanceOf(OptionsError);
    expect((error as OptionsError).code).toBe('bad_flag');
    return (error as Error).message;
  }
  throw new Error(`expected ${argv.join(' ')} to be rejected`);
}

describe('parseGuestArgs', () => {
  it('has safe defaults', () => {
    expect(run([])).toMatchObject({
      listen: { host: '0.0.0.0', port: 7000 },
      manager: null,
      noManager: false,
      exitWithStdin: false,
      uuid: null,
      token: null,
      vcpus: 3,
      workers: 3,
      hashRatePerWorker: 0,
      heartbeatMs: 1000,
      maxLineBytes: 65536,
      maxConnections: 256,
      idleTimeoutMs: 300_000,
      maxInflight: 64,
      drainTimeoutMs: 10_000,
      backoffMinMs: 100,
      backoffMaxMs: 5000,
      logLevel: 'info',
      paths: { cmdline: '/proc/cmdline', route: '/proc/net/route', productUuid: '/sys/class/dmi/id/product_uuid' },
    });
  });

  it('reads every flag', () => {
    const options = run([
      '--listen', '127.0.0.1:0', '--manager', '[::1]:7001', '--uuid', 'U', '--token', '', '--vcpus', '4', '--workers', '2',
      '--hash-rate', '50000', '--heartbeat-ms', '200', '--max-line-bytes', '1024', '--max-connections', '5', '--idle-timeout-ms', '0',
      '--max-inflight', '7', '--drain-timeout-ms', '300', '--register-timeout-ms', '400', '--backoff-min-ms', '10', '--backoff-max-ms', '20',
      '--log-level', 'debug', '--cmdline-file', '/c', '--route-file', '/r', '--product-uuid-file', '/p', '--dmi-entries-dir', '/d', '--fw-cfg-dir', '/f',
      '--rtc-file', '/t',
      '--exit-with-stdin',
    ]);
    expect(options).toEqual({
      listen: { host: '127.0.0.1', port: 0 },
      manager: { host: '::1', port: 7001 },
      noManager: false,
      exitWithStdin: true,
      uuid: 'U',
      token: '',
      vcpus: 4,
      workers: 2,
      hashRatePerWorker: 50_000,
      heartbeatMs: 200,
      maxLineBytes: 1024,
      maxConnections: 5,
      idleTimeoutMs: 0,
      maxInflight: 7,
      drainTimeoutMs: 300,
      registerTimeoutMs: 400,
      backoffMinMs: 10,
      backoffMaxMs: 20,
      logLevel: 'debug',
      paths: { cmdline: '/c', route: '/r', productUuid: '/p', dmiEntriesDir: '/d', fwCfgDir: '/f' },
      rtcFile: '/t',
    } satisfies GuestOptions);
  });

  it('workers follow --vcpus unless given', () => {
    expect(run(['--vcpus', '6']).workers).toBe(6);
    expect(run(['--no-manager']).noManager).toBe(true);
  });

  it('rejects bad values naming the flag', () => {
    expect(rejection(['--workers', 'two'])).toContain('--workers');
    expect(rejection(['--workers', '0'])).toContain('--workers');
    expect(rejection(['--hash-rate', '-5'])).toContain('--hash-rate');
    expect(rejection(['--heartbeat-ms', '1.5'])).toContain('--heartbeat-ms');
    expect(rejection(['--listen', 'localhost'])).toContain('--listen');
    expect(rejection(['--manager', 'h:99999'])).toContain('--manager');
    expect(rejection(['--log-level', 'loud'])).toContain('--log-level');
    expect(rejection(['--uuid', ''])).toContain('--uuid');
    expect(rejection(['--backoff-min-ms', '50', '--backoff-max-ms', '10'])).toContain('--backoff-max-ms');
    expect(rejection(['--manager', 'h:1', '--no-manager'])).toContain('--no-manager');
  });

  it('rejects unknown flags, missing values and positionals', () => {
    expect(rejection(['--frobnicate'])).toContain('--frobnicate');
    expect(rejection(['--workers'])).toContain('--workers');
    expect(rejection(['extra'])).toContain('extra');
  });

  it('answers --help with the usage text, which lists every flag', () => {
    expect(parseGuestArgs(['--help'])).toEqual({ kind: 'help', text: USAGE });
    expect(parseGuestArgs(['-h']).kind).toBe('help');
    for (const flag of ['--listen', '--manager', '--hash-rate', '--max-inflight', '--drain-timeout-ms', '--fw-cfg-dir']) expect(USAGE).toContain(flag);
  });
});
