// The headless CLI as a user runs it: the built dist/cli/cms.js as a child process on the sandbox.
// Checks the report's shape and numbers, exit codes for bad flags, and that SIGTERM cleans up.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processAlive } from '../support/control-plane';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cms = join(root, 'dist', 'cli', 'cms.js');
let workDir = '';

beforeAll(() => {
  const built = spawnSync(process.execPath, [join(root, 'build', 'build.mjs')], { encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`build failed: ${built.stderr}`);
  workDir = mkdtempSync(join(tmpdir(), 'cms-cli-'));
});
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

function runCms(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [cms, ...args], { cwd: workDir, encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Guest-server processes whose command line names this run's agent port. */
function guestPidsFor(port: number): number[] {
  const result = spawnSync('pgrep', ['-f', `guest-server.js .*--manager 127.0.0.1:${port}`], { encoding: 'utf8' });
  return result.stdout.split('\n').filter(Boolean).map(Number);
}

describe('cms run', () => {
  it('runs a step experiment and writes a complete report', () => {
    const report = join(workDir, 'report.json');
    const result = runCms(['run', '--duration', '8', '--steps', '0:2,3:8', '--boot-delay-ms', '200', '--period-ms', '500', '--warmup-s', '1', '--report', report, '--log', join(workDir, 'cms.log')]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/sandbox — VMs are simulated/);
    expect(result.stdout).toMatch(/t=\d+s · offered \d/);
    const parsed = JSON.parse(readFileSync(report, 'utf8')) as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual(expect.arrayContaining(['config', 'series', 'outcomes', 'decisions', 'elasticity', 'vmSeconds']));
    const outcomes = parsed.outcomes as Record<string, number>;
    expect(outcomes.sent).toBe((outcomes.ok ?? 0) + (outcomes.failed ?? 0) + (outcomes.expired ?? 0) + (outcomes.inflight ?? 0));
    expect(outcomes.ok).toBeGreaterThan(10);
    expect((parsed.series as unknown[]).length).toBeGreaterThanOrEqual(6);
    const elasticity = parsed.elasticity as Record<string, unknown>;
    expect(Object.keys(elasticity)).toEqual(expect.arrayContaining(['accuracyUnderPct', 'accuracyOverPct', 'timeshareUnderPct', 'timeshareOverPct', 'jitterPerMin']));
    expect(parsed.vmSeconds as number).toBeGreaterThan(5);
    const decisions = parsed.decisions as Array<{ reason: string; inputs: unknown }>;
    expect(decisions.length).toBeGreaterThan(0);
    expect(decisions[0]?.reason).toMatch(/utilization/);
    const log = readFileSync(join(workDir, 'cms.log'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { event: string });
    expect(log.some((entry) => entry.event === 'member_accepted')).toBe(true);
    expect(log.at(-1)?.event).toBe('shutdown_finished');
  }, 60_000);

  it('rejects bad flags with exit code 2 and a message naming the flag', () => {
    const cases: Array<[string[], RegExp]> = [
      [['run', '--rate', 'fast'], /--rate: 'fast' is not a number/],
      [['run', '--digits', '12'], /--digits: 12 is above the maximum 8/],
      [['run', '--profile', 'ramp', '--from', '1'], /--profile ramp needs --to/],
      [['run', '--steps', '0:1,x'], /--steps: item 2/],
      [['run', '--policy', 'threshold', '--target', '0.5'], /--target applies to --policy target/],
      [['run', '--min', '5', '--max', '2'], /policy\.max: max \(2\) must be ≥ min \(5\)/],
      [['run', '--trace', join(workDir, 'missing.csv')], /missing\.csv/],
      [['run', '--bogus'], /unknown option '--bogus'/],
    ];
    for (const [args, message] of cases) {
      const result = runCms(args);
      expect(result.status, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(message);
    }
  });

  it('reports a bad trace file by line and column', () => {
    const trace = join(workDir, 'bad.csv');
    spawnSync('sh', ['-c', `printf 't_seconds,rate\\n0,1\\n60,abc\\n' > ${trace}`]);
    const result = runCms(['run', '--trace', trace]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/bad\.csv:3:4: rate 'abc' is not a number/);
  });

  it('SIGTERM stops the load and shuts the pool down: no guest process left', async () => {
    const child = spawn(process.execPath, [cms, 'run', '--rate', '3', '--min', '2', '--boot-delay-ms', '200', '--agent-port', '0', '--log', join(workDir, 'term.log')], { cwd: workDir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 20_000;
    while (!/pool 2\/2/.test(stdout) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(stdout).toMatch(/pool 2\/2/);
    const log = readFileSync(join(workDir, 'term.log'), 'utf8');
    const port = Number(/"agentPort":(\d+)/.exec(log)?.[1]);
    const pids = guestPidsFor(port);
    expect(pids.length).toBe(2);
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
    expect(stdout).toMatch(/SIGTERM received: stopping the load and shutting the pool down/);
    for (const pid of pids) expect(processAlive(pid)).toBe(false);
    expect(existsSync(join(workDir, 'term.log'))).toBe(true);
  }, 60_000);
});
