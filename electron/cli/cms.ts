// Headless entry point `cms`: `run` (scripted experiment), `serve` (the web UI), `start` (the desktop
// window, or `serve` where there is none). Plain Node: it must never import Electron, so it runs on
// hosts without a display.
import { resolve } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import type { LogLevel } from '../core/metrics/log';
import { registerImageCommands } from './image';
import { configFromFlags, numberFlag, UsageError, type RunFlags } from './run-options';
import { runSession } from './run';
import { serveSession } from './serve';
import { startCommand } from './start';

const LOG_LEVELS = ['debug', 'info', 'warn', 'error'];

function addRunOptions(command: Command): Command {
  return command
    .option('--uri <uri...>', 'libvirt URI(s) of the host(s) (default: the built-in sandbox)')
    .option('--config <file>', 'JSON file with a control-plane config; flags override it')
    .option('--duration <seconds>', 'stop after this many seconds (0: run until Ctrl-C or `exit`)', '0')
    .option('--report <file>', 'write a JSON report (config, series, outcomes, decisions, elasticity, VM-seconds)')
    .option('--log <file>', 'JSON-lines log file', 'cms.log')
    .addOption(new Option('--log-level <level>', 'lowest level written to the log').choices(LOG_LEVELS).default('info'))
    .option('--quiet', 'no status line each second')
    .addOption(new Option('--profile <kind>', 'load profile').choices(['constant', 'step', 'ramp', 'sine', 'spike', 'trace']))
    .option('--rate <rps>', 'constant rate, requests/second')
    .option('--inter-request <seconds>', "constant rate as the original's inter-request time")
    .option('--steps <list>', 'step profile: AT_S:RATE,AT_S:RATE… (e.g. 0:2,30:10,90:2)')
    .option('--from <rps>', 'ramp start rate')
    .option('--to <rps>', 'ramp end rate')
    .option('--ramp-s <seconds>', 'ramp duration')
    .option('--mean <rps>', 'sine mean rate')
    .option('--amplitude <rps>', 'sine amplitude')
    .option('--period-s <seconds>', 'sine period')
    .option('--base <rps>', 'spike base rate')
    .option('--spike <rps>', 'spike rate')
    .option('--spike-at <seconds>', 'spike start')
    .option('--spike-s <seconds>', 'spike duration')
    .option('--trace <file>', 'trace replay: CSV t_seconds,rate')
    .option('--time-scale <factor>', 'trace seconds per real second (default 60)')
    .option('--rate-scale <factor>', 'trace rate multiplier (default 1)')
    .option('--digits <n>', 'difficulty: hex digits of the SHA-256 prefix (1-8, default 3)')
    .addOption(new Option('--arrivals <process>', 'arrival process').choices(['uniform', 'poisson']))
    .addOption(new Option('--policy <policy>', 'autoscaling policy').choices(['threshold', 'target']))
    .option('--metric <metric>', 'target policy metric: utilization, inflight or p95')
    .option('--target <value>', 'target value (busy fraction, requests per member, or p95 SLO ms)')
    .option('--tolerance <fraction>', 'target policy tolerance (default 0.1)')
    .option('--min <n>', 'fewest members')
    .option('--max <n>', 'most members')
    .option('--warm-pool <n>', 'paused members kept ready to resume')
    .option('--saved-pool <n>', 'warmed-up members kept saved to disk, restored on scale-up')
    .option('--up-window-s <seconds>', 'scale-up stabilization window')
    .option('--down-window-s <seconds>', 'scale-down stabilization window')
    .option('--max-step-up <n>', 'most members added per decision')
    .option('--max-step-down <n>', 'most members removed per decision')
    .option('--period-ms <ms>', 'autoscaler evaluation period')
    .option('--up-pct <percent>', 'threshold policy: scale up above this busy %')
    .option('--interval-s <seconds>', 'threshold policy: one decision per interval')
    .option('--warmup-s <seconds>', "grace before a new member's metrics count")
    .option('--boot-timeout-s <seconds>', 'replace a member that has not registered by then')
    .option('--boot-delay-ms <ms>', 'sandbox: simulated boot time')
    .option('--hash-rate <n>', 'sandbox: hashes/s per simulated vCPU')
    .option('--deadline-ms <ms>', 'per-request deadline')
    .option('--agent-host <address>', 'where guests dial in (default 127.0.0.1)')
    .option('--agent-port <port>', 'agent port (default: any free port)')
    .option('--heartbeat-ms <ms>', 'eject a guest silent for this long')
    .option('--pool <name>', 'pool name (default cms)')
    .option('--template <name>', 'template domain name (default cms-template)');
}

interface RunCommandOptions extends RunFlags {
  duration: string;
  report?: string;
  log: string;
  logLevel: string;
  quiet?: boolean;
}

async function runCommand(options: RunCommandOptions, consoleCommands: boolean): Promise<number> {
  const config = await configFromFlags(options);
  const durationS = numberFlag(options.duration, '--duration', { min: 0 }) ?? 0;
  return runSession({
    config,
    uris: options.uri ?? [],
    durationS,
    reportPath: options.report,
    logPath: options.log,
    logLevel: options.logLevel as LogLevel,
    console: consoleCommands,
    quiet: options.quiet === true,
  });
}

interface ServeCommandOptions extends RunCommandOptions {
  host: string;
  port: string;
}

function addServeOptions(command: Command): Command {
  return addRunOptions(command)
    .option('--host <address>', 'address the web UI listens on (anything but loopback exposes it to the network)', '127.0.0.1')
    .option('--port <port>', 'TCP port of the web UI (0: any free port)', '0');
}

async function serveCommand(options: ServeCommandOptions, fallbackReason?: string): Promise<number> {
  const config = await configFromFlags(options);
  return serveSession({
    config,
    uris: options.uri ?? [],
    host: options.host,
    port: numberFlag(options.port, '--port', { integer: true, min: 0, max: 65535 }) ?? 0,
    logPath: options.log,
    logLevel: options.logLevel as LogLevel,
    durationS: numberFlag(options.duration, '--duration', { min: 0 }) ?? 0,
    reportPath: options.report,
    quiet: options.quiet === true,
    fallbackReason,
  });
}

/** Options the user typed (not commander defaults): only then does the desktop app take its set-up from flags. */
function typedOptions(command: Command): string[] {
  return Object.keys(command.opts()).filter((key) => command.getOptionValueSource(key) === 'cli');
}

/**
 * The desktop app's launch ({uris, config, logPath}, passed in CMS_LAUNCH_JSON) when the user typed
 * config flags; null lets the desktop app use its saved settings. Web-only flags do not count.
 */
async function desktopLaunchJson(options: ServeCommandOptions, typed: string[]): Promise<string | null> {
  const web = new Set(['host', 'port', 'quiet', 'duration', 'report']);
  if (!typed.some((key) => !web.has(key))) return null;
  const config = await configFromFlags(options);
  return JSON.stringify({ uris: options.uri ?? [], config, logPath: resolve(options.log) });
}

export function buildProgram(setExitCode: (code: number) => void): Command {
  const program = new Command('cms')
    .description('Cloud Management System: an elastic pool of libvirt VMs serving a compute service')
    .exitOverride()
    .showHelpAfterError('(run cms --help for usage)');

  addRunOptions(program.command('run').description('run a scripted experiment on the control plane')).action(async (options: RunCommandOptions) => {
    setExitCode(await runCommand(options, true));
  });
  addServeOptions(program.command('serve').description('run the app with its web UI (prints the URL with a one-time token)')).action(async (options: ServeCommandOptions) => {
    setExitCode(await serveCommand(options));
  });
  addServeOptions(
    program
      .command('start')
      .description('open the desktop window, or serve the web UI where none can open (no Electron binary, no display)'),
  ).action(async (options: ServeCommandOptions, command: Command) => {
    setExitCode(
      await startCommand({
        serve: (reason) => serveCommand(options, reason),
        launchJson: await desktopLaunchJson(options, typedOptions(command)),
      }),
    );
  });
  registerImageCommands(program);
  return program;
}

async function main(argv: string[]): Promise<void> {
  let exitCode = 0;
  const program = buildProgram((code) => (exitCode = code));
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; every other parse error has already been printed by commander.
      process.exitCode = error.exitCode === 0 ? 0 : 2;
      return;
    }
    if (error instanceof UsageError) {
      console.error(`cms: ${error.message}`);
      process.exitCode = 2;
      return;
    }
    console.error(`cms: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
    return;
  }
  process.exitCode = exitCode;
}

await main(process.argv);
