// `cms serve` and `cms start` end to end: the built CLI as a child process on the sandbox. It prints
// the URL, answers HTTP and the WebSocket with the token, and exits cleanly on SIGTERM or the UI's
// Quit leaving no guest process; `cms start` without Electron says why and serves instead.
import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { appStateSchema, wsServerMessageSchema, type AppState, type WsServerMessage } from '../../electron/contract/contract';
import { processAlive } from '../support/control-plane';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cms = join(root, 'dist', 'cli', 'cms.js');
let workDir = '';
const children: Array<ChildProcessByStdio<null, Readable, Readable>> = [];

beforeAll(() => {
  const built = spawnSync(process.execPath, [join(root, 'build', 'build.mjs')], { encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`build failed: ${built.stderr}`);
  workDir = mkdtempSync(join(tmpdir(), 'cms-serve-'));
  // Short drain and ACPI grace: sandbox guests stop at once, the test need not wait out the defaults.
  writeFileSync(join(workDir, 'fast.json'), JSON.stringify({ pool: { drainTimeoutMs: 200, shutdownTimeoutMs: 1000 } }));
});
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

interface Served {
  child: ChildProcessByStdio<null, Readable, Readable>;
  url: URL;
  output: () => string;
  exit: Promise<number | null>;
}

async function launch(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Served> {
  const child = spawn(process.execPath, [cms, ...args, '--config', join(workDir, 'fast.json'), '--log', join(workDir, `${args[0]}-${children.length}.log`)], { cwd: workDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 15_000;
  let match: RegExpExecArray | null = null;
  while (!(match = /^cms: web UI at (http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]+)$/m.exec(output)) && Date.now() < deadline && child.exitCode === null) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  if (!match?.[1]) throw new Error(`no URL line; output:\n${output}`);
  return { child, url: new URL(match[1]), output: () => output, exit };
}

/** A WebSocket client on the served page's socket, keeping every message. */
async function socket(url: URL): Promise<{ ws: WebSocket; messages: WsServerMessage[]; closed: Promise<number>; invoke(channel: string, payload: unknown): Promise<WsServerMessage> }> {
  const ws = new WebSocket(`ws://${url.host}/ws?token=${url.searchParams.get('token')}`, { origin: `http://${url.host}` });
  const messages: WsServerMessage[] = [];
  ws.on('message', (data: Buffer) => messages.push(wsServerMessageSchema.parse(JSON.parse(data.toString()))));
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  let nextId = 1;
  return {
    ws,
    messages,
    closed,
    async invoke(channel, payload) {
      const id = nextId++;
      ws.send(JSON.stringify({ kind: 'invoke', id, channel, payload }));
      return waitFor(() => messages.find((m) => m.kind === 'result' && m.id === id), `${channel} answer`);
    },
  };
}

async function waitFor<T>(probe: () => T | undefined | null | false, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function stateOf(message: WsServerMessage): AppState {
  if (message.kind !== 'result' || !message.result.ok) throw new Error(`not a good result: ${JSON.stringify(message)}`);
  return appStateSchema.parse(message.result.value);
}

/** Guest-server processes dialing this app's agent port. */
function guestPids(agentPort: number): number[] {
  const result = spawnSync('pgrep', ['-f', `guest-server.js .*--manager 127.0.0.1:${agentPort}`], { encoding: 'utf8' });
  return result.stdout.split('\n').filter(Boolean).map(Number);
}

async function poolUp(client: Awaited<ReturnType<typeof socket>>, healthy: number): Promise<AppState> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const state = stateOf(await client.invoke('state:get', {}));
    if (state.pool.healthy >= healthy) return state;
    if (Date.now() > deadline) throw new Error(`pool never reached ${healthy} healthy: ${JSON.stringify(state.pool)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('cms serve', () => {
  it('prints the URL, serves with the token, and SIGTERM leaves no guest running', async () => {
    const served = await launch(['serve', '--min', '2', '--boot-delay-ms', '100', '--rate', '2']);
    const token = served.url.searchParams.get('token') ?? '';
    const page = await fetch(served.url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect((await fetch(`http://${served.url.host}/`)).status).toBe(401);
    expect((await fetch(`http://${served.url.host}/?token=${token.slice(1)}x`)).status).toBe(403);

    const client = await socket(served.url);
    const state = await poolUp(client, 2);
    const agentPort = state.agentAddress?.port ?? 0;
    const pids = guestPids(agentPort);
    expect(pids).toHaveLength(2);

    served.child.kill('SIGTERM');
    expect(await served.exit).toBe(0);
    expect(await client.closed).toBe(1001);
    expect(served.output()).toMatch(/SIGTERM received: stopping the load and shutting the pool down/);
    for (const pid of pids) expect(processAlive(pid)).toBe(false);
  }, 40_000);

  it("ends on the UI's Quit after reporting quit progress to the page", async () => {
    const served = await launch(['serve', '--min', '1', '--boot-delay-ms', '100', '--quiet']);
    const client = await socket(served.url);
    const state = await poolUp(client, 1);
    const pids = guestPids(state.agentAddress?.port ?? 0);
    expect(pids).toHaveLength(1);
    const answer = await client.invoke('app:quit', {});
    expect(answer).toMatchObject({ kind: 'result', result: { ok: true, value: null } });
    expect(await served.exit).toBe(0);
    const finished = client.messages.find((m) => m.kind === 'event' && m.event === 'quit:progress' && (m.payload as { finished: boolean }).finished);
    expect(finished).toBeDefined();
    for (const pid of pids) expect(processAlive(pid)).toBe(false);
    // --quiet keeps the URL line (scripts read it) and nothing chatty.
    expect(served.output()).not.toMatch(/sandbox — VMs are simulated/);
  }, 40_000);
});

describe('cms start', () => {
  it('serves the web UI and says why when no desktop window can open', async () => {
    const env = { ...process.env };
    delete env.DISPLAY;
    delete env.WAYLAND_DISPLAY;
    const served = await launch(['start', '--min', '0', '--rate', '0', '--boot-delay-ms', '100'], env);
    expect(served.output()).toMatch(/cms: not opening a desktop window: (Electron binary not installed \(offline set-up\)|no display|running as root)/);
    expect((await fetch(served.url)).status).toBe(200);
    served.child.kill('SIGINT');
    expect(await served.exit).toBe(0);
  }, 30_000);
});
