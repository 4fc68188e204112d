// The desktop IPC router with an ipcMain-shaped object and the real app on the sandbox: every
// contract channel routed, bad payloads and foreign senders refused with codes, unknown channels
// refused, and no handler ever throws (the page must never see Electron's generic error).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appStateSchema, commandNames, type Result } from '../../electron/contract/contract';
import { APP_ORIGIN } from '../../electron/core/desktop/navigation';
import { registerIpcRouter, type IpcMainLike, type IpcRouter } from '../../electron/core/ipc/router';
import { createSenderCheck, urlOrigin, type FrameLike, type InvokeEventLike } from '../../electron/core/ipc/sender';
import { parseControlPlaneConfig } from '../../electron/core/service/config';
import { startApp, type RunningApp } from '../../electron/core/service/app';
import { ensureGuestBuilt } from '../support/guest-process';

type Listener = (event: InvokeEventLike, ...args: unknown[]) => Promise<unknown> | unknown;

/** ipcMain as the router sees it: a map of handlers, like Electron's (one per channel, duplicates refused). */
class FakeIpcMain implements IpcMainLike {
  readonly handlers = new Map<string, Listener>();
  handle(channel: string, listener: Listener): void {
    if (this.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    this.handlers.set(channel, listener);
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }
  /** What ipcRenderer.invoke would get back. */
  async invoke(event: InvokeEventLike, channel: string, ...args: unknown[]): Promise<Result<unknown>> {
    const handler = this.handlers.get(channel);
    if (!handler) throw new Error(`No handler registered for '${channel}'`);
    return (await handler(event, ...args)) as Result<unknown>;
  }
}

const WINDOW_ID = 7;
const mainFrame = (url: string): FrameLike => ({ url, parent: null });
const trusted: InvokeEventLike = { sender: { id: WINDOW_ID }, senderFrame: mainFrame(`${APP_ORIGIN}/index.html`) };

let workDir = '';
let app: RunningApp;
let ipc: FakeIpcMain;
let router: IpcRouter;
const refusals: string[] = [];

beforeAll(async () => {
  ensureGuestBuilt();
  workDir = mkdtempSync(join(tmpdir(), 'cms-ipc-'));
  const config = parseControlPlaneConfig({ policy: { min: 0, max: 3 }, load: { running: false }, sandbox: { bootDelayMs: 100 } });
  app = await startApp({ uris: [], config, logPath: join(workDir, 'cms.log'), pollIntervalMs: 250 });
  ipc = new FakeIpcMain();
  router = registerIpcRouter({
    ipcMain: ipc,
    service: app.service,
    checkSender: createSenderCheck({ origin: APP_ORIGIN, webContentsIds: () => [WINDOW_ID] }),
    onRefused: (channel, reason) => refusals.push(`${channel}: ${reason}`),
  });
});

afterAll(async () => {
  router?.dispose();
  await app?.shutdown();
  rmSync(workDir, { recursive: true, force: true });
});

function errorOf(result: Result<unknown>): { code: string; message: string } {
  if (result.ok) throw new Error(`expected an error, got ${JSON.stringify(result.value)}`);
  return result.error;
}

describe('IPC router', () => {
  it('registers exactly one handler per contract command', () => {
    expect([...ipc.handlers.keys()].sort()).toEqual([...commandNames].sort());
    expect(router.channels).toEqual(commandNames);
  });

  it('answers state:get from the trusted window with the whole state', async () => {
    const result = await ipc.invoke(trusted, 'state:get', {});
    if (!result.ok) throw new Error(result.error.message);
    const state = appStateSchema.parse(result.value);
    expect(state.hosts[0]?.sandbox).toBe(true);
    expect(state.domains.length).toBeGreaterThan(0);
  });

  it('routes every channel to its own command: a bad payload is refused naming that channel', async () => {
    for (const channel of commandNames) {
      const error = errorOf(await ipc.invoke(trusted, channel, { bogus: 1 }));
      expect(error.code, channel).toBe('bad_request');
      expect(error.message.startsWith(`${channel}:`), error.message).toBe(true);
    }
  });

  it('refuses bad payloads with bad_request naming the field, and extra arguments', async () => {
    expect(errorOf(await ipc.invoke(trusted, 'pool:scale', { count: 'three' }))).toMatchObject({ code: 'bad_request', message: expect.stringMatching(/count/) });
    expect(errorOf(await ipc.invoke(trusted, 'load:digits', { digits: 99 }))).toMatchObject({ code: 'bad_request', message: expect.stringMatching(/digits/) });
    expect(errorOf(await ipc.invoke(trusted, 'domain:action', { action: 'explode', targets: [] })).code).toBe('bad_request');
    expect(errorOf(await ipc.invoke(trusted, 'state:get', {}, 'extra')).code).toBe('bad_request');
  });

  it('carries a real command through to the pool', async () => {
    const scaled = await ipc.invoke(trusted, 'pool:scale', { count: 1 });
    expect(scaled).toEqual({ ok: true, value: { desired: 1 } });
    expect(app.plane.pool.desired).toBe(1);
  });

  it('refuses foreign senders with forbidden, before the command runs', async () => {
    const foreign: Array<[string, InvokeEventLike]> = [
      ['another origin', { sender: { id: WINDOW_ID }, senderFrame: mainFrame('https://evil.example/') }],
      ['a file page', { sender: { id: WINDOW_ID }, senderFrame: mainFrame('file:///tmp/index.html') }],
      ['a look-alike host', { sender: { id: WINDOW_ID }, senderFrame: mainFrame('app://cms.evil/index.html') }],
      ['a subframe of our page', { sender: { id: WINDOW_ID }, senderFrame: { url: `${APP_ORIGIN}/index.html`, parent: mainFrame(`${APP_ORIGIN}/index.html`) } }],
      ['another webContents', { sender: { id: WINDOW_ID + 1 }, senderFrame: mainFrame(`${APP_ORIGIN}/index.html`) }],
      ['a destroyed frame', { sender: { id: WINDOW_ID }, senderFrame: null }],
    ];
    refusals.length = 0;
    const before = app.plane.pool.desired;
    for (const [what, event] of foreign) {
      const error = errorOf(await ipc.invoke(event, 'pool:scale', { count: 3 }));
      expect(error.code, what).toBe('forbidden');
    }
    expect(refusals).toHaveLength(foreign.length);
    expect(app.plane.pool.desired).toBe(before);
    expect(before).not.toBe(3);
  });

  it('refuses unknown channels, and a throwing service becomes an internal error, never a throw', async () => {
    expect(errorOf(await router.dispatch(trusted, 'shell:exec', ['rm -rf /'])).code).toBe('unknown_channel');
    expect(errorOf(await router.dispatch(trusted, 42, [])).code).toBe('unknown_channel');
    const throwing = new FakeIpcMain();
    const broken = registerIpcRouter({
      ipcMain: throwing,
      service: {
        handle: () => {
          throw new Error('boom');
        },
      },
      checkSender: () => null,
    });
    expect(errorOf(await throwing.invoke(trusted, 'state:get', {}))).toMatchObject({ code: 'internal', message: expect.stringMatching(/boom/) });
    broken.dispose();
    expect(throwing.handlers.size).toBe(0);
  });
});

describe('sender origin', () => {
  it('computes scheme://host for custom schemes, where WHATWG URL says "null"', () => {
    expect(new URL('app://cms/index.html').origin).toBe('null');
    expect(urlOrigin('app://cms/index.html#x')).toBe('app://cms');
    expect(urlOrigin('APP://CMS/')).toBe('app://cms');
    expect(urlOrigin('file:///etc/passwd')).toBeNull();
    expect(urlOrigin('not a url')).toBeNull();
  });
});
