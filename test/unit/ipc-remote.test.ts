// The main-process side of the desktop carrier when the control plane runs in its own process:
// RemoteService ↔ serveOverPort across a real MessageChannel (structured clone, like Electron's
// utilityProcess port), with the real app on the sandbox. Also the launch JSON the process starts with.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appStateSchema, type PushEventName } from '../../electron/contract/contract';
import { LAUNCH_ENV, parseLaunch, type BackendMessage } from '../../electron/core/ipc/backend-protocol';
import { RemoteService, serveOverPort } from '../../electron/core/ipc/remote-service';
import { parseControlPlaneConfig } from '../../electron/core/service/config';
import { startApp, type RunningApp } from '../../electron/core/service/app';
import { ensureGuestBuilt } from '../support/guest-process';

let workDir = '';
let app: RunningApp;
let mainPort: MessagePort;
let backendPort: MessagePort;
let remote: RemoteService;
const lifecycle: BackendMessage[] = [];
const malformed: string[] = [];
let endpoint: { dispose(): void };

beforeAll(async () => {
  ensureGuestBuilt();
  workDir = mkdtempSync(join(tmpdir(), 'cms-remote-'));
  app = await startApp({ uris: [], config: parseControlPlaneConfig({ policy: { min: 0, max: 2 }, load: { running: false }, sampleMs: 200 }), logPath: join(workDir, 'cms.log'), pollIntervalMs: 250 });
  const channel = new MessageChannel();
  mainPort = channel.port1;
  backendPort = channel.port2;
  const served = serveOverPort(app.service, (message) => backendPort.postMessage(message));
  backendPort.on('message', (value: unknown) => served.receive(value));
  endpoint = served;
  remote = new RemoteService({ post: (message) => mainPort.postMessage(message), onLifecycle: (message) => lifecycle.push(message), onMalformed: (issue) => malformed.push(issue) });
  mainPort.on('message', (value: unknown) => remote.receive(value));
});

afterAll(async () => {
  endpoint?.dispose();
  mainPort?.close();
  await app?.shutdown();
  rmSync(workDir, { recursive: true, force: true });
});

describe('RemoteService over a message port', () => {
  it('answers commands with the real service, codes included', async () => {
    const state = await remote.handle('state:get', {});
    if (!state.ok) throw new Error(state.error.message);
    expect(appStateSchema.parse(state.value).hosts[0]?.sandbox).toBe(true);
    expect(await remote.handle('pool:scale', { count: 'x' })).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    expect(await remote.handle('nope', {})).toMatchObject({ ok: false, error: { code: 'unknown_channel' } });
    const many = await Promise.all([1, 2, 3].map(() => remote.handle('events:export', {})));
    expect(many.every((result) => result.ok && typeof result.value === 'string')).toBe(true);
  });

  it('forwards push events to subscribers', async () => {
    const seen: PushEventName[] = [];
    const got = new Promise<unknown>((resolve) => {
      const off = remote.subscribe((event, payload) => {
        seen.push(event);
        if (event === 'state:update') {
          off();
          resolve(payload);
        }
      });
    });
    expect(appStateSchema.safeParse(await got).success).toBe(true);
    expect(seen).toContain('state:update');
  });

  it('passes lifecycle frames on and reports malformed ones', () => {
    remote.receive({ kind: 'ready', sandbox: true });
    remote.receive({ kind: 'stopped' });
    remote.receive({ kind: 'result', id: 'x' });
    remote.receive('garbage');
    expect(lifecycle).toEqual([{ kind: 'ready', sandbox: true }, { kind: 'stopped' }]);
    expect(malformed).toHaveLength(2);
  });

  it('answers unavailable once the other process is gone, for pending and later calls', async () => {
    const lonely = new RemoteService({ post: () => {} });
    const pending = lonely.handle('state:get', {});
    lonely.disconnect('the control plane process exited (code 1)');
    expect(await pending).toEqual({ ok: false, error: { code: 'unavailable', message: 'the control plane process exited (code 1)' } });
    expect(await lonely.handle('state:get', {})).toMatchObject({ ok: false, error: { code: 'unavailable' } });
    const throwing = new RemoteService({
      post: () => {
        throw new Error('port closed');
      },
    });
    expect(await throwing.handle('state:get', {})).toMatchObject({ ok: false, error: { code: 'unavailable', message: expect.stringMatching(/port closed/) } });
  });
});

describe('launch JSON', () => {
  it('parses a launch and fills the config defaults', () => {
    const launch = parseLaunch(JSON.stringify({ uris: ['test:///default'], config: { policy: { max: 4 } }, logPath: '/tmp/cms.log' }));
    expect(launch.uris).toEqual(['test:///default']);
    expect(launch.config.policy.max).toBe(4);
    expect(launch.config.pool.name).toBe('cms');
  });

  it('names the variable and the failing field', () => {
    expect(() => parseLaunch(undefined)).toThrow(`${LAUNCH_ENV} is not set`);
    expect(() => parseLaunch('{')).toThrow(/is not JSON/);
    expect(() => parseLaunch(JSON.stringify({ uris: [''], config: {}, logPath: 'x' }))).toThrow(/uris\.0/);
    expect(() => parseLaunch(JSON.stringify({ uris: [], config: { policy: { min: 5, max: 2 } }, logPath: 'x' }))).toThrow(/policy\.max/);
  });
});
