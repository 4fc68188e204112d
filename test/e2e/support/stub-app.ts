// A stand-in for `cms serve` for the UI benchmark: serves renderer/dist with the strict CSP and
// speaks the contract's WebSocket framing, pushing a synthetic host of N domains that all change
// every interval. It counts what it sends (messages and bytes) so the bench can report the carrier's
// load. It models no pool and runs no VM; the e2e tests use the real `cms serve` instead.
import { readFileSync, existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  wsClientMessageSchema,
  type AppState,
  type DomainView,
  type LogEntryView,
  type PushEventName,
  type PushEventPayload,
  type Sample,
  type WsServerMessage,
} from '../../../electron/contract/contract';
import { mulberry32 } from '../../support/prng';

/** The CSP the page is served with: no inline script or style at all. */
export const STRICT_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

export interface StubAppOptions {
  distDir: string;
  /** Domains on the synthetic host. @default 500 */
  domainCount?: number;
  /** Gap between two state:update pushes, ms. @default 1000 */
  stateIntervalMs?: number;
  /** Access token in `/?token=` and `/ws?token=`. @default 'bench-token' */
  token?: string;
}

export interface CarrierCounters {
  messages: number;
  bytes: number;
  stateUpdates: number;
}

export interface StubApp {
  /** Page URL with the token. */
  url: string;
  counters(): CarrierCounters;
  /** Changes the push interval while running, ms. */
  setStateIntervalMs(intervalMs: number): void;
  close(): Promise<void>;
}

const mime: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml', '.png': 'image/png' };


function uuidFor(i: number): string {
  const hex = i.toString(16).padStart(12, '0');
  return `5e1f0000-0000-4000-8000-${hex}`;
}

class SyntheticHost {
  /** Seeded, so every bench run pushes the same data. */
  private readonly random = mulberry32(42);
  private readonly domains: DomainView[];
  private tS = 0;
  private events = 0;

  constructor(count: number) {
    this.domains = Array.from({ length: count }, (_, i): DomainView => {
      const member = i % 5 !== 0;
      return {
        hostId: 'bench',
        uuid: uuidFor(i),
        name: member ? `cms-${String(i).padStart(4, '0')}` : `service-${String(i).padStart(4, '0')}`,
        state: i % 17 === 0 ? 'shutoff' : 'running',
        vcpus: 1 + (i % 4),
        memoryKiB: (512 + 256 * (i % 8)) * 1024,
        cpuPercent: 20,
        role: member ? 'member' : i === 0 ? 'template' : 'other',
        health: member ? 'healthy' : null,
        busy: member ? 0.5 : null,
        inflight: 0,
        uptimeS: 100 + i,
      };
    });
  }

  /** Moves every running domain's numbers: the worst case for the list (every row changes). */
  tick(): void {
    this.tS += 1;
    for (const domain of this.domains) {
      if (domain.state !== 'running') continue;
      const jitter = this.random();
      domain.cpuPercent = Math.min(100, Math.max(0, (domain.cpuPercent ?? 0) + (jitter - 0.5) * 30));
      if (domain.busy !== null) domain.busy = Math.min(1, Math.max(0, domain.busy + (this.random() - 0.5) * 0.3));
      domain.inflight = domain.role === 'member' ? Math.floor(this.random() * 6) : 0;
      domain.uptimeS = (domain.uptimeS ?? 0) + 1;
    }
  }

  sample(): Sample {
    const wave = 40 + 30 * Math.sin(this.tS / 20);
    return {
      tS: this.tS,
      offeredRps: wave,
      arrivedPerS: wave,
      servedRps: wave * 0.97,
      okPerS: wave * 0.97,
      failedPerS: 0,
      expiredPerS: 0,
      p50Ms: 40 + this.random() * 10,
      p95Ms: 90 + this.random() * 30,
      p99Ms: 150 + this.random() * 60,
      poolDesired: 400,
      poolBooting: 2,
      poolHealthy: 398,
      utilization: 0.55 + this.random() * 0.1,
      inflight: 120,
    };
  }

  decision(): LogEntryView {
    this.events += 1;
    return {
      ts: new Date().toISOString(),
      level: 'info',
      event: this.events % 2 === 0 ? 'scale_up' : 'scale_down',
      from: 398,
      to: this.events % 2 === 0 ? 399 : 398,
      reason: 'utilization 0.71 is above the target 0.6 (tolerance 0.1)',
      inputs: { current: 398, healthy: 398, booting: 0, utilization: 0.71, offeredRps: 60, servedRps: 58 },
    };
  }

  state(): AppState {
    return {
      hosts: [{ id: 'bench', uri: 'test:///bench.xml', status: 'connected', hostname: 'bench-host', cpus: 64, memoryKiB: 256 * 1024 * 1024, lastError: null, sandbox: true }],
      domains: this.domains.map((domain) => ({ ...domain })),
      pool: { name: 'cms', desired: 400, min: 1, max: 500, warmPoolSize: 0, savedPoolSize: 0, healthy: 398, booting: 2, warm: 0, saved: 0 },
      load: { profile: { kind: 'constant', rateRps: 60 }, running: true, paused: false, offeredRps: 60, digits: 3, sent: this.tS * 60 },
      scaling: {
        config: {
          kind: 'target',
          min: 1,
          max: 500,
          bootTimeoutMs: 60_000,
          warmupMs: 5_000,
          warmPoolSize: 0,
          savedPoolSize: 0,
          periodMs: 2_000,
          metric: 'utilization',
          target: 0.6,
          tolerance: 0.1,
          scaleUpWindowMs: 0,
          scaleDownWindowMs: 30_000,
          maxStepUp: 4,
          maxStepDown: 1,
        },
        paused: false,
        lastReason: 'utilization 0.71 is above the target 0.6 (tolerance 0.1)',
      },
      outcomes: { sent: this.tS * 60, ok: this.tS * 58, failed: 0, expired: 0, inflight: 120, retries: 0 },
      latest: this.tS > 0 ? this.sample() : null,
      agentAddress: { host: '127.0.0.1', port: 7001 },
      sandboxNote: 'Synthetic host for the UI benchmark: no VM runs.',
      quitting: false,
    };
  }
}

export async function startStubApp(options: StubAppOptions): Promise<StubApp> {
  const token = options.token ?? 'bench-token';
  let stateIntervalMs = options.stateIntervalMs ?? 1000;
  const host = new SyntheticHost(options.domainCount ?? 500);
  const counters: CarrierCounters = { messages: 0, bytes: 0, stateUpdates: 0 };
  const sockets = new Set<WebSocket>();

  const send = (socket: WebSocket, message: WsServerMessage): void => {
    const frame = JSON.stringify(message);
    counters.messages += 1;
    counters.bytes += Buffer.byteLength(frame);
    socket.send(frame);
  };
  const broadcast = <E extends PushEventName>(event: E, payload: PushEventPayload<E>): void => {
    for (const socket of sockets) send(socket, { kind: 'event', event, payload });
  };

  const serveFile = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://stub');
    const path = url.pathname === '/' ? '/index.html' : url.pathname;
    if (path === '/index.html' && url.searchParams.get('token') !== token) {
      res.writeHead(401, { 'content-type': 'text/plain' }).end('token required');
      return;
    }
    const file = normalize(join(options.distDir, path));
    if (!file.startsWith(options.distDir) || !existsSync(file)) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': mime[extname(file)] ?? 'application/octet-stream', 'content-security-policy': STRICT_CSP, 'cache-control': 'no-store' });
    res.end(readFileSync(file));
  };

  const server: Server = createServer(serveFile);
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://stub');
    if (url.pathname !== '/ws' || url.searchParams.get('token') !== token) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
      ws.on('message', (data) => {
        const parsed = wsClientMessageSchema.safeParse(JSON.parse(String(data)));
        if (!parsed.success) return;
        const { id, channel } = parsed.data;
        if (channel === 'state:get') send(ws, { kind: 'result', id, result: { ok: true, value: host.state() } });
        else if (channel === 'events:export') send(ws, { kind: 'result', id, result: { ok: true, value: '' } });
        else send(ws, { kind: 'result', id, result: { ok: false, error: { code: 'unavailable', message: `${channel}: the bench stub does not do this` } } });
      });
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  // Self-rearming timers: a slow round never piles up behind itself.
  let stateTimer: NodeJS.Timeout | null = null;
  let sampleTimer: NodeJS.Timeout | null = null;
  let ticks = 0;
  const pushState = (): void => {
    host.tick();
    counters.stateUpdates += 1;
    broadcast('state:update', host.state());
    stateTimer = setTimeout(pushState, stateIntervalMs);
  };
  const pushSample = (): void => {
    ticks += 1;
    broadcast('metrics:sample', host.sample());
    if (ticks % 5 === 0) broadcast('events:entry', host.decision());
    sampleTimer = setTimeout(pushSample, 1000);
  };
  stateTimer = setTimeout(pushState, stateIntervalMs);
  sampleTimer = setTimeout(pushSample, 1000);

  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    counters: () => ({ ...counters }),
    setStateIntervalMs(intervalMs) {
      stateIntervalMs = intervalMs;
    },
    async close() {
      if (stateTimer) clearTimeout(stateTimer);
      if (sampleTimer) clearTimeout(sampleTimer);
      for (const socket of sockets) socket.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
