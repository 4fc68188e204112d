// Runs the real `cms serve` (dist/cli/cms.js) on the sandbox as a child process for the e2e tests
// and the README screenshot: builds the CLI and the renderer when needed, reads the printed URL, and
// always stops the child (SIGTERM, which shuts the pool down; SIGKILL after a deadline).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureRendererBuilt, ROOT } from './renderer-build';

export const CMS_CLI = join(ROOT, 'dist', 'cli', 'cms.js');

export interface CmsServe {
  /** `http://127.0.0.1:PORT/?token=T` as printed. */
  url: string;
  origin: string;
  token: string;
  /** Everything the child printed so far (stdout and stderr). */
  output(): string;
  /** SIGTERM (pool shutdown), then SIGKILL after stopTimeoutMs. */
  stop(): Promise<void>;
}

/** Builds dist/cli/cms.js when it is missing or has no `serve` command. */
export function ensureCliBuilt(): void {
  const supportsServe = (): boolean => existsSync(CMS_CLI) && spawnSync(process.execPath, [CMS_CLI, 'serve', '--help'], { encoding: 'utf8' }).stdout.includes('--port');
  if (supportsServe()) return;
  const result = spawnSync(process.execPath, [join(ROOT, 'build', 'build.mjs')], { cwd: ROOT, encoding: 'utf8' });
  if (result.status !== 0 || !supportsServe()) throw new Error(`could not build a cms CLI with \`serve\`: ${result.stderr || result.stdout}`);
}

export interface CmsServeOptions {
  /** Extra flags after `serve --port 0` (load, policy, sandbox timings). */
  args?: string[];
  /** How long to wait for the URL line, ms. @default 20000 */
  startTimeoutMs?: number;
  /** How long SIGTERM may take before SIGKILL, ms. @default 15000 */
  stopTimeoutMs?: number;
}

export async function startCmsServe(options: CmsServeOptions = {}): Promise<CmsServe> {
  ensureCliBuilt();
  // cms serve finds <checkout>/renderer/dist on its own; build it first so it is current.
  ensureRendererBuilt();
  const workDir = mkdtempSync(join(tmpdir(), 'cms-e2e-'));
  const child: ChildProcess = spawn(process.execPath, [CMS_CLI, 'serve', '--port', '0', '--log', join(workDir, 'cms.log'), ...(options.args ?? [])], {
    cwd: workDir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), options.stopTimeoutMs ?? 15_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(workDir, { recursive: true, force: true });
  };

  const deadline = Date.now() + (options.startTimeoutMs ?? 20_000);
  let match: RegExpMatchArray | null = null;
  while (!match) {
    match = output.match(/web UI at (http:\/\/[^\s]+\/\?token=([^\s]+))/);
    if (match) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`cms serve did not print its URL (exit ${child.exitCode}):\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const url = match[1] ?? '';
  return { url, origin: new URL(url).origin, token: match[2] ?? '', output: () => output, stop };
}
