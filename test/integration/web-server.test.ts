// The web mode's server against the real app on the sandbox (startApp, no mocks of the service):
// token and Origin checks on HTTP and the WebSocket, static files and the placeholder, the contract
// over the socket (state:get, state:update pushes), and malformed messages that must not stop it.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { appStateSchema, wsServerMessageSchema, type WsServerMessage } from '../../electron/contract/contract';
import { parseControlPlaneConfig } from '../../electron/core/service/config';
import { startApp, type RunningApp } from '../../electron/core/service/app';
import { startWebServer, type WebServer } from '../../electron/core/web/server';
import { ensureGuestBuilt } from '../support/guest-process';

let workDir = '';
let rendererDir = '';
let app: RunningApp;
let web: WebServer;

beforeAll(async () => {
  ensureGuestBuilt();
  workDir = mkdtempSync(join(tmpdir(), 'cms-web-'));
  rendererDir = join(workDir, 'renderer-dist');
  mkdirSync(join(rendererDir, 'assets'), { recursive: true });
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>CMS test page</title><script type="module" src="/assets/app.js"></script>');
  writeFileSync(join(rendererDir, 'assets', 'app.js'), 'console.log("ui");');
  const config = parseControlPlaneConfig({ policy: { min: 0, max: 2 }, load: { running: false }, sandbox: { bootDelayMs: 100 }, sampleMs: 200 });
  app = await startApp({ uris: [], config, logPath: join(workDir, 'cms.log'), pollIntervalMs: 250 });
  web = await startWebServer({ service: app.service, rendererDir, log: app.log });
});

afterAll(async () => {
  await web?.close();
  await app?.shutdown();
  rmSync(workDir, { recursive: true, force: true });
});

interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(path: string, headers: Record<string, string> = {}, method = 'GET', port = web.port): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Opens a socket; resolves with it once open, or with the HTTP status the upgrade was refused with. */
function connect(path: string, origin?: string): Promise<{ ws: WebSocket } | { refused: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${web.port}${path}`, origin ? { origin } : {});
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_req, res) => {
      resolve({ refused: res.statusCode ?? 0 });
      ws.terminate();
    });
    ws.once('error', (error) => reject(error));
  });
}

/** A connected client that collects every server message and can wait for one. */
async function client(): Promise<{ ws: WebSocket; messages: WsServerMessage[]; next(match: (m: WsServerMessage) => boolean, timeoutMs?: number): Promise<WsServerMessage> }> {
  const opened = await connect(`/ws?token=${web.token}`, `http://127.0.0.1:${web.port}`);
  if (!('ws' in opened)) throw new Error(`refused with ${opened.refused}`);
  const messages: WsServerMessage[] = [];
  const waiters: Array<{ match: (m: WsServerMessage) => boolean; resolve: (m: WsServerMessage) => void }> = [];
  opened.ws.on('message', (data: Buffer) => {
    const message = wsServerMessageSchema.parse(JSON.parse(data.toString()));
    messages.push(message);
    for (const waiter of [...waiters]) {
      if (waiter.match(message)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(message);
      }
    }
  });
  return {
    ws: opened.ws,
    messages,
    next(match, timeoutMs = 5000) {
      const seen = messages.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no matching message in time')), timeoutMs);
        waiters.push({ match, resolve: (m) => (clearTimeout(timer), resolve(m)) });
      });
    },
  };
}

const resultFor = (id: number) => (m: WsServerMessage): boolean => m.kind === 'result' && m.id === id;

describe('web server: HTTP', () => {
  it('prints a loopback URL carrying the token', () => {
    expect(web.url).toBe(`http://127.0.0.1:${web.port}/?token=${web.token}`);
    expect(web.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('refuses a missing token with 401 and a wrong one with 403', async () => {
    expect((await get('/')).status).toBe(401);
    expect((await get('/assets/app.js')).status).toBe(401);
    expect((await get('/?token=not-the-token')).status).toBe(403);
    expect((await get('/assets/app.js', { cookie: `cms_token_${web.port}=wrong` })).status).toBe(403);
  });

  it('serves the page with a strict CSP and a same-site cookie that lets its assets load', async () => {
    const page = await get(`/?token=${web.token}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('CMS test page');
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).toContain(`connect-src 'self' ws://127.0.0.1:${web.port}`);
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    const cookie = String(page.headers['set-cookie']);
    expect(cookie).toContain(`cms_token_${web.port}=${web.token}`);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    const asset = await get('/assets/app.js', { cookie: `cms_token_${web.port}=${web.token}` });
    expect(asset.status).toBe(200);
    expect(asset.headers['content-type']).toMatch(/^text\/javascript/);
    expect(asset.body).toBe('console.log("ui");');
  });

  it('never serves outside the renderer folder, nor other methods, nor foreign Host names', async () => {
    const auth = { cookie: `cms_token_${web.port}=${web.token}` };
    writeFileSync(join(workDir, 'secret.txt'), 'secret');
    for (const path of ['/../secret.txt', '/..%2fsecret.txt', '/assets/%2e%2e/%2e%2e/secret.txt', '/%00', '/assets\\..\\..\\secret.txt']) {
      const answer = await get(path, auth);
      expect([400, 404], path).toContain(answer.status);
      expect(answer.body).not.toContain('secret');
    }
    expect((await get(`/?token=${web.token}`, {}, 'POST')).status).toBe(405);
    expect((await get(`/?token=${web.token}`, { host: `evil.example:${web.port}` })).status).toBe(403);
    expect((await get(`/?token=${web.token}`, { host: `localhost:${web.port}` })).status).toBe(200);
  });

  it('serves a placeholder that says the UI is not built when renderer/dist is missing', async () => {
    const bare = await startWebServer({ service: app.service, rendererDir: join(workDir, 'nothing-here') });
    try {
      const page = await get(`/?token=${bare.token}`, {}, 'GET', bare.port);
      expect(page.status).toBe(200);
      expect(page.body).toMatch(/UI is not built/);
      expect(page.headers['content-security-policy']).toContain("default-src 'none'");
      expect((await get(`/?token=${web.token}`, {}, 'GET', bare.port)).status).toBe(403);
    } finally {
      await bare.close();
    }
  });
});

describe('web server: WebSocket', () => {
  it('refuses an upgrade without the token, with a wrong one, or from a foreign Origin', async () => {
    expect(await connect('/ws')).toEqual({ refused: 401 });
    expect(await connect('/ws?token=wrong')).toEqual({ refused: 403 });
    expect(await connect(`/ws?token=${web.token}`, 'http://evil.example')).toEqual({ refused: 403 });
    expect(await connect(`/ws?token=${web.token}`, `http://127.0.0.1:${web.port + 1}`)).toEqual({ refused: 403 });
    expect(await connect(`/elsewhere?token=${web.token}`)).toEqual({ refused: 404 });
    expect(web.socketCount()).toBe(0);
  });

  it('carries state:get and pushes state:update events', async () => {
    const c = await client();
    c.ws.send(JSON.stringify({ kind: 'invoke', id: 1, channel: 'state:get', payload: {} }));
    const answer = await c.next(resultFor(1));
    if (answer.kind !== 'result' || !answer.result.ok) throw new Error(`state:get failed: ${JSON.stringify(answer)}`);
    const state = appStateSchema.parse(answer.result.value);
    expect(state.hosts).toHaveLength(1);
    expect(state.hosts[0]?.sandbox).toBe(true);
    expect(state.domains.some((domain) => domain.role === 'template')).toBe(true);
    const push = await c.next((m) => m.kind === 'event' && m.event === 'state:update');
    if (push.kind !== 'event') throw new Error('not an event');
    expect(appStateSchema.safeParse(push.payload).success).toBe(true);
    await c.next((m) => m.kind === 'event' && m.event === 'metrics:sample');
    c.ws.close();
  });

  it('answers malformed messages with errors and keeps serving', async () => {
    const c = await client();
    const errorOf = (m: WsServerMessage): { code: string; message: string } => {
      if (m.kind !== 'result' || m.result.ok) throw new Error(`expected an error result, got ${JSON.stringify(m)}`);
      return m.result.error;
    };
    c.ws.send('this is not json');
    expect(errorOf(await c.next(resultFor(0)))).toMatchObject({ code: 'bad_request', message: expect.stringMatching(/not JSON/) });
    c.messages.length = 0;
    c.ws.send(JSON.stringify({ kind: 'invoke', id: 7, channel: 'pool:scale' }));
    expect(errorOf(await c.next(resultFor(7))).code).toBe('bad_request');
    c.ws.send(JSON.stringify({ kind: 'invoke', id: 8, channel: 'no:such', payload: {} }));
    expect(errorOf(await c.next(resultFor(8))).code).toBe('unknown_channel');
    c.ws.send(JSON.stringify({ kind: 'invoke', id: 9, channel: 'pool:scale', payload: { count: -1 } }));
    expect(errorOf(await c.next(resultFor(9)))).toMatchObject({ code: 'bad_request', message: expect.stringMatching(/count/) });
    c.ws.send(JSON.stringify({ kind: 'gossip', id: 10 }));
    expect(errorOf(await c.next(resultFor(10)))).toMatchObject({ code: 'bad_request', message: expect.stringMatching(/kind/) });
    c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect(errorOf(await c.next((m) => m.kind === 'result' && m.id === 0 && !m.result.ok && /binary/.test(m.result.error.message))).code).toBe('bad_request');
    c.ws.send(JSON.stringify({ kind: 'invoke', id: 11, channel: 'pool:scale', payload: { count: 1 } }));
    const scaled = await c.next(resultFor(11));
    expect(scaled.kind === 'result' && scaled.result.ok && scaled.result.value).toEqual({ desired: 1 });
    c.ws.send(JSON.stringify({ kind: 'invoke', id: 12, channel: 'pool:scale', payload: { count: 0 } }));
    await c.next(resultFor(12));
    c.ws.close();
  });

  it('enforces the socket and message-size limits without falling over', async () => {
    const small = await startWebServer({ service: app.service, rendererDir, maxSockets: 1, maxMessageBytes: 1024 });
    try {
      const origin = `http://127.0.0.1:${small.port}`;
      const first = new WebSocket(`ws://127.0.0.1:${small.port}/ws?token=${small.token}`, { origin });
      await new Promise((resolve) => first.once('open', resolve));
      const second = new WebSocket(`ws://127.0.0.1:${small.port}/ws?token=${small.token}`, { origin });
      second.on('error', () => {}); // terminating a refused socket reports an error we expect
      const status = await new Promise<number>((resolve) => second.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
      second.terminate();
      expect(status).toBe(503);
      const closed = new Promise<number>((resolve) => first.once('close', (code) => resolve(code)));
      first.send(JSON.stringify({ kind: 'invoke', id: 1, channel: 'state:get', payload: { pad: 'x'.repeat(4096) } }));
      expect(await closed).toBe(1009);
      // A fresh socket works again.
      const third = new WebSocket(`ws://127.0.0.1:${small.port}/ws?token=${small.token}`, { origin });
      await new Promise((resolve) => third.once('open', resolve));
      // Pushes (state, events) may arrive first; wait for the answer to this request.
      const answer = new Promise<string>((resolve) => {
        const onMessage = (data: Buffer): void => {
          const text = data.toString();
          if ((JSON.parse(text) as { kind?: string }).kind !== 'result') return;
          third.off('message', onMessage);
          resolve(text);
        };
        third.on('message', onMessage);
      });
      third.send(JSON.stringify({ kind: 'invoke', id: 2, channel: 'events:export', payload: {} }));
      expect(JSON.parse(await answer)).toMatchObject({ kind: 'result', id: 2, result: { ok: true } });
      third.close();
    } finally {
      await small.close();
    }
  });
});
