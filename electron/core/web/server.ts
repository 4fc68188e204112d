// The web mode's server: serves the built renderer and carries the IPC contract over one WebSocket
// per page (`/?token=T`, `/ws?token=T`). Loopback by default; every request needs the per-start token,
// the WebSocket also a same-site Origin. It must never crash on client input and never log the token.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { WsServerMessage } from '../../contract/contract';
import { answerClientText, type ServiceLike } from '../ipc/messages';
import { nullLogger, type Logger } from '../metrics/log';
import { contentSecurityPolicy, SECURITY_HEADERS } from './csp';
import { contentTypeFor, defaultRendererDir, placeholderHtml, resolveStaticPath } from './static';
import { newToken, tokensEqual } from './token';

export interface WebServerOptions {
  service: ServiceLike;
  /** Address to bind. Anything but loopback exposes the app to the network (the token still guards it). @default '127.0.0.1' */
  host?: string;
  /** TCP port; 0 picks a free one (read it back from `port`). @default 0 */
  port?: number;
  /** The built renderer. @default '<checkout>/renderer/dist' */
  rendererDir?: string;
  /** The access token (tests pin it). @default a fresh random 32-byte token per start */
  token?: string;
  /** Largest WebSocket message accepted, bytes; a larger one closes that socket (code 1009). `load:trace` carries up to 16 MiB of CSV. @default 20971520 (20 MiB) */
  maxMessageBytes?: number;
  /** Most WebSockets open at once; further upgrades get HTTP 503. @default 16 */
  maxSockets?: number;
  /** Commands one socket may have in flight; more are answered with code 'unavailable'. @default 64 */
  maxInflightPerSocket?: number;
  /** Bytes queued on a socket above which state and sample pushes to it are skipped (a later state replaces them). @default 4194304 (4 MiB) */
  maxBufferedBytes?: number;
  /** Time open sockets get to close at shutdown before they are cut, ms. @default 500 */
  closeGraceMs?: number;
  log?: Logger;
}

export interface WebServer {
  /** The page to open, token included: `http://127.0.0.1:PORT/?token=T`. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly token: string;
  socketCount(): number;
  /** Closes every socket (code 1001) and the listener. Idempotent. */
  close(): Promise<void>;
}

type AuthOutcome = 'ok' | 'missing' | 'wrong';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);
/** Pushes that carry the whole picture each time: safe to skip for a slow socket. */
const REPLACEABLE_EVENTS = new Set(['state:update', 'metrics:sample']);

function hostForUrl(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const index = part.indexOf('=');
    if (index > 0) cookies.set(part.slice(0, index).trim(), part.slice(index + 1).trim());
  }
  return cookies;
}

export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const log = options.log ?? nullLogger;
  const service = options.service;
  const bindHost = options.host ?? '127.0.0.1';
  const rendererDir = options.rendererDir ?? defaultRendererDir();
  const token = options.token ?? newToken();
  const maxSockets = options.maxSockets ?? 16;
  const maxInflight = options.maxInflightPerSocket ?? 64;
  const maxBufferedBytes = options.maxBufferedBytes ?? 4 * 1024 * 1024;
  const closeGraceMs = options.closeGraceMs ?? 500;
  const sockets = new Set<WebSocket>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxMessageBytes ?? 20 * 1024 * 1024, perMessageDeflate: false });
  let port = 0;
  /** host:port values a browser may use to reach us; null when bound to a non-loopback address (any Host). */
  let allowedHosts: Set<string> | null = null;
  let cookieName = 'cms_token';

  function hostAllowed(hostHeader: string | undefined): boolean {
    if (allowedHosts === null) return true;
    // Refusing unknown Host names defeats DNS rebinding: a page on evil.example resolved to 127.0.0.1.
    return hostHeader !== undefined && allowedHosts.has(hostHeader.toLowerCase());
  }

  function originAllowed(origin: string | undefined, hostHeader: string | undefined): boolean {
    // Browsers always send Origin on a WebSocket upgrade; a client without one is not a web page
    // (and holds the token), so there is no cross-site page to defend against.
    if (origin === undefined) return true;
    const lower = origin.toLowerCase();
    if (allowedHosts !== null) return [...allowedHosts].some((host) => lower === `http://${host}`);
    return hostHeader !== undefined && lower === `http://${hostHeader.toLowerCase()}`;
  }

  function authenticate(req: IncomingMessage, url: URL): AuthOutcome {
    const fromQuery = url.searchParams.get('token');
    if (fromQuery !== null) return tokensEqual(token, fromQuery) ? 'ok' : 'wrong';
    const fromCookie = parseCookies(req.headers.cookie).get(cookieName);
    if (fromCookie !== undefined) return tokensEqual(token, fromCookie) ? 'ok' : 'wrong';
    return 'missing';
  }

  function cspFor(hostHeader: string | undefined): string {
    return contentSecurityPolicy({ connectSrc: hostHeader ? [`ws://${hostHeader}`] : [] });
  }

  function baseHeaders(req: IncomingMessage): Record<string, string> {
    return { ...SECURITY_HEADERS, 'Content-Security-Policy': cspFor(req.headers.host) };
  }

  function refuse(req: IncomingMessage, res: ServerResponse, status: number, reason: string): void {
    log.warn('web.refused', { status, reason, path: (req.url ?? '').split('?')[0], remote: req.socket.remoteAddress });
    res.writeHead(status, { ...baseHeaders(req), 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(`${status} ${STATUS_CODES[status] ?? ''}: ${reason}\n`);
  }

  async function serveFile(req: IncomingMessage, res: ServerResponse, url: URL, setCookie: boolean): Promise<void> {
    const file = resolveStaticPath(rendererDir, url.pathname);
    if (file === null) return refuse(req, res, 404, 'no such file');
    const isIndex = url.pathname === '/' || url.pathname === '/index.html';
    const headers: Record<string, string> = { ...baseHeaders(req), 'Cache-Control': isIndex ? 'no-store' : 'no-cache' };
    // The page's own asset requests carry no token; this cookie (per port, HttpOnly, same-site only) lets them in.
    if (setCookie) headers['Set-Cookie'] = `${cookieName}=${token}; Path=/; HttpOnly; SameSite=Strict`;
    const info = await stat(file).catch(() => null);
    if (info === null || !info.isFile()) {
      if (!isIndex) return refuse(req, res, 404, 'no such file');
      const body = placeholderHtml(rendererDir);
      res.writeHead(200, { ...headers, 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    res.writeHead(200, { ...headers, 'Content-Type': contentTypeFor(file), 'Content-Length': info.size });
    if (req.method === 'HEAD') return void res.end();
    const stream = createReadStream(file);
    stream.on('error', (error) => {
      log.warn('web.read_failed', { file, message: error.message });
      res.destroy();
    });
    stream.pipe(res);
  }

  function onRequest(req: IncomingMessage, res: ServerResponse): void {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://request.invalid');
    } catch {
      return refuse(req, res, 400, 'malformed URL');
    }
    if (!hostAllowed(req.headers.host)) return refuse(req, res, 403, 'unexpected Host header');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return refuse(req, res, 405, 'only GET and HEAD');
    }
    const auth = authenticate(req, url);
    if (auth === 'missing') return refuse(req, res, 401, 'a token is required: open the URL `cms serve` printed');
    if (auth === 'wrong') return refuse(req, res, 403, 'wrong token');
    if (url.pathname === '/ws') return refuse(req, res, 426, 'WebSocket upgrade required');
    serveFile(req, res, url, url.searchParams.has('token')).catch((error: unknown) => {
      log.error('web.serve_failed', { message: error instanceof Error ? error.message : String(error) });
      if (!res.headersSent) refuse(req, res, 500, 'internal error');
      else res.destroy();
    });
  }

  function refuseUpgrade(req: IncomingMessage, socket: Duplex, status: number, reason: string): void {
    log.warn('web.refused', { status, reason, path: '/ws', remote: req.socket.remoteAddress, upgrade: true });
    const body = `${status} ${STATUS_CODES[status] ?? ''}: ${reason}\n`;
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    socket.destroy();
  }

  function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://request.invalid');
    } catch {
      return refuseUpgrade(req, socket, 400, 'malformed URL');
    }
    if (url.pathname !== '/ws') return refuseUpgrade(req, socket, 404, 'the WebSocket lives at /ws');
    if (!hostAllowed(req.headers.host)) return refuseUpgrade(req, socket, 403, 'unexpected Host header');
    const auth = authenticate(req, url);
    if (auth === 'missing') return refuseUpgrade(req, socket, 401, 'a token is required');
    if (auth === 'wrong') return refuseUpgrade(req, socket, 403, 'wrong token');
    if (!originAllowed(req.headers.origin, req.headers.host)) return refuseUpgrade(req, socket, 403, 'foreign Origin');
    if (sockets.size >= maxSockets) return refuseUpgrade(req, socket, 503, `too many connections (at most ${maxSockets})`);
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, req));
  }

  function send(ws: WebSocket, message: WsServerMessage): void {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
  }

  function onConnection(ws: WebSocket, req: IncomingMessage): void {
    sockets.add(ws);
    let inflight = 0;
    log.debug('web.socket_open', { remote: req.socket.remoteAddress, sockets: sockets.size });
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary) {
        send(ws, { kind: 'result', id: 0, result: { ok: false, error: { code: 'bad_request', message: 'binary frames are not accepted: send JSON text' } } });
        return;
      }
      if (inflight >= maxInflight) {
        send(ws, { kind: 'result', id: 0, result: { ok: false, error: { code: 'unavailable', message: `too many commands in flight (at most ${maxInflight})` } } });
        return;
      }
      inflight += 1;
      const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
      void answerClientText(service, text).then((answer) => {
        inflight -= 1;
        send(ws, answer);
      });
    });
    ws.on('close', () => {
      sockets.delete(ws);
      log.debug('web.socket_closed', { sockets: sockets.size });
    });
    ws.on('error', (error) => log.warn('web.socket_error', { message: error.message }));
  }

  const unsubscribe = service.subscribe((event, payload) => {
    if (sockets.size === 0) return;
    // Serialized once for every socket: a state with hundreds of domains is the biggest message we send.
    const text = JSON.stringify({ kind: 'event', event, payload } satisfies WsServerMessage);
    for (const ws of sockets) {
      if (ws.readyState !== WebSocket.OPEN) continue;
      if (ws.bufferedAmount > maxBufferedBytes && REPLACEABLE_EVENTS.has(event)) continue;
      ws.send(text);
    }
  });

  const server = createServer(onRequest);
  server.on('upgrade', onUpgrade);
  server.on('clientError', (_error, socket) => socket.destroy());
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, bindHost, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    unsubscribe();
    throw Object.assign(new Error(`cannot listen on ${bindHost}:${options.port ?? 0}: ${error instanceof Error ? error.message : String(error)}`), { code: 'web_listen_failed' });
  }
  port = (server.address() as AddressInfo).port;
  cookieName = `cms_token_${port}`;
  if (LOOPBACK_HOSTS.has(bindHost)) allowedHosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
  const url = `http://${hostForUrl(bindHost)}:${port}/?token=${token}`;
  log.info('web.listening', { host: bindHost, port, rendererDir });

  let closing: Promise<void> | null = null;
  return {
    url,
    host: bindHost,
    port,
    token,
    socketCount: () => sockets.size,
    close() {
      closing ??= (async () => {
        unsubscribe();
        const closed = [...sockets].map((ws) => new Promise<void>((resolve) => {
          if (ws.readyState === WebSocket.CLOSED) return resolve();
          ws.once('close', () => resolve());
          ws.close(1001, 'server shutting down');
        }));
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([Promise.all(closed), new Promise<void>((resolve) => (timer = setTimeout(resolve, closeGraceMs)))]);
        clearTimeout(timer);
        for (const ws of sockets) ws.terminate();
        wss.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        log.info('web.closed', {});
      })();
      return closing;
    },
  };
}
