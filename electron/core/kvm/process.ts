// Runs one external program (the image build script, qemu-img, the accelerator probe's QEMU) with a
// deadline and bounded output capture. It never uses a shell and never outlives its deadline.
import { spawn } from 'node:child_process';
import { KvmError } from './errors';

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface RunOptions {
  /** Kill the program (SIGKILL) after this long, ms. @default 120000 */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Called with each chunk of stderr as it arrives (progress lines). */
  onStderr?: (text: string) => void;
  /** Called with each chunk of stdout; return true to stop the program early (a marker was seen). */
  onStdout?: (text: string) => boolean | void;
}

/** Output beyond this many characters per stream is dropped from the capture (the tail is kept). */
const MAX_CAPTURE_CHARS = 256 * 1024;

function keepTail(text: string): string {
  return text.length > MAX_CAPTURE_CHARS ? text.slice(text.length - MAX_CAPTURE_CHARS) : text;
}

/** Runs `command args`; resolves with its exit status (never rejects for a non-zero exit). */
export function runProgram(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const startedMs = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 120_000);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout = keepTail(stdout + chunk);
      if (options.onStdout?.(chunk) === true) child.kill('SIGKILL');
    });
    child.stderr.on('data', (chunk: string) => {
      stderr = keepTail(stderr + chunk);
      options.onStderr?.(chunk);
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new KvmError('command_failed', `cannot run ${command}: ${error.message}`, { cause: error }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) {
        reject(new KvmError('timeout', `${command} ${args.join(' ')} did not finish within ${options.timeoutMs ?? 120_000} ms`));
        return;
      }
      resolve({ code, signal, stdout, stderr, ms: performance.now() - startedMs });
    });
  });
}

/** Runs a program and throws KvmError('command_failed') with its stderr when it exits non-zero. */
export async function runChecked(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const result = await runProgram(command, args, options);
  if (result.code !== 0) {
    const detail = result.stderr.trim().split('\n').slice(-5).join(' | ');
    throw new KvmError('command_failed', `${command} ${args.join(' ')} exited with ${result.code ?? result.signal}: ${detail}`);
  }
  return result;
}
