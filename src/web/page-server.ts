// The web terminal's own server, on 127.0.0.1 only: the page, its scripts, JSON look-ups and
// one WebSocket per browser tab. Everyone on this machine can reach a loopback port, and any web
// page in the browser can try to, so every request is checked:
//   - Host must be 127.0.0.1:PORT or localhost:PORT (a DNS-rebound name is refused);
//   - everything but the entry page and its boot script needs the run's token, as
//     "Authorization: Bearer TOKEN" (fetch) or as the WebSocket subprotocol "bearer.TOKEN";
//   - a WebSocket upgrade must come from this server's own origin.
// Anything else gets 403 and no upgrade. No cookies: a browser sends those for 127.0.0.1 to
// every port. The page keeps the token in sessionStorage, bound to this origin and port.
import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import { UserError } from '../errors.js';
import { socketFailure } from '../net/socket-errors.js';
import type { Asset } from './assets.js';

/** The subprotocol the page asks for, beside the one that carries its token. */
export const PAGE_PROTOCOL = 'cf-ssh-tools';
const TOKEN_PROTOCOL_PREFIX = 'bearer.';
/** Served to anyone who passes the Host check: they hold nothing but the code that reads the token from the address. */
const PUBLIC_ASSETS: Readonly<Record<string, string>> = { '/': 'index.html', '/boot.js': 'boot.js' };
/** What a tab may send at once: a paste, not a file. */
const MAX_MESSAGE_BYTES = 1 << 20;
/** Past this much output not yet written to a tab, the SSH channel is paused. */
const HIGH_WATER_BYTES = 1 << 20;

/** What a tab asks for. */
export type TabMessage =
  | { type: 'connect'; process: string; index: number; cols: number; rows: number }
  | { type: 'input'; data: string }
  | { type: 'resize'; cols: number; rows: number };

/** What a tab is told, beside the terminal's output (binary messages). */
export type TabEvent = { type: 'connected'; app: string; process: string; index: number } | { type: 'ended'; reason: string };

const isSize = (n: unknown): n is number => Number.isInteger(n) && (n as number) > 0 && (n as number) <= 10_000;

/** A tab's message, checked; undefined for anything else (a page of ours sends nothing else). */
export function parseTabMessage(text: string): TabMessage | undefined {
  let message: Record<string, unknown>;
  try {
    message = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (typeof message !== 'object' || message === null) return undefined;
  const { type, cols, rows } = message;
  if (type === 'input' && typeof message.data === 'string') return { type, data: message.data };
  if (!isSize(cols) || !isSize(rows)) return undefined;
  if (type === 'resize') return { type, cols, rows };
  const { process, index } = message;
  if (type === 'connect' && typeof process === 'string' && process !== '' && Number.isInteger(index) && (index as number) >= 0) {
    return { type, process, index: index as number, cols, rows };
  }
  return undefined;
}

/** One browser tab's WebSocket. */
export class Tab {
  constructor(private readonly socket: WebSocket) {}

  get open(): boolean {
    return this.socket.readyState === this.socket.OPEN;
  }

  send(event: TabEvent): void {
    if (this.open) this.socket.send(JSON.stringify(event));
  }

  /** Sends terminal output; false when the tab is behind, and `written` is called once it has caught up. */
  output(chunk: Buffer, written: () => void): boolean {
    if (!this.open) return true;
    this.socket.send(chunk, { binary: true }, () => {
      if (this.socket.bufferedAmount < HIGH_WATER_BYTES) written();
    });
    return this.socket.bufferedAmount < HIGH_WATER_BYTES;
  }

  /** Reads no more of the tab's messages until resumeInput (its input waits in the browser and the kernel). */
  pauseInput(): void {
    this.socket.pause();
  }

  resumeInput(): void {
    this.socket.resume();
  }

  onMessage(handler: (message: TabMessage) => void): void {
    this.socket.on('message', (data: RawData, isBinary: boolean) => {
      const message = !isBinary && Buffer.isBuffer(data) ? parseTabMessage(data.toString('utf8')) : undefined;
      // Only a page that is not ours sends something else.
      if (!message) return this.socket.close(1008, 'message not understood');
      handler(message);
    });
  }

  onClose(handler: () => void): void {
    this.socket.once('close', handler);
  }

  close(reason: string): void {
    this.socket.close(1001, reason.slice(0, 120));
  }
}

export interface PageServerOptions {
  /** 0 for a free one. */
  port: number;
  token: string;
  assets: ReadonlyMap<string, Asset>;
  /** GET /api/NAME: JSON; a rejection's message is the answer's `error`. */
  api: Readonly<Record<string, () => Promise<unknown>>>;
  onTab: (tab: Tab) => void;
}

export interface PageServer {
  port: number;
  /** Closes every tab and the listener. */
  close(): Promise<void>;
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/** Whether `given` is the token, compared in constant time. */
export function tokenMatches(given: string | undefined, token: string): boolean {
  return given !== undefined && timingSafeEqual(digest(given), digest(token));
}

const HEADERS = {
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Resource-Policy': 'same-origin',
  // Scripts come from here (the boot script loads the rest as blob: URLs); xterm.js sets styles of its own.
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self' blob:; style-src 'self' blob: 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
};

function answer(res: http.ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { ...HEADERS, 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

const forbidden = (res: http.ServerResponse) => answer(res, 403, 'text/plain; charset=utf-8', 'Forbidden\n');

/**
 * Refuses an upgrade before it happens: nothing of the WebSocket is spoken. The socket is
 * destroyed once the answer is out: a client that never closes its side would otherwise hold
 * it (and a file descriptor) for good, as no HTTP timeout applies to an upgrade's socket.
 */
function refuseUpgrade(socket: Duplex): void {
  socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n', () => socket.destroy());
}

export async function startPageServer(options: PageServerOptions): Promise<PageServer> {
  const { token, assets, api } = options;
  let port = options.port;
  /** Host as it must be: the names of loopback with this port. */
  const hostAllowed = (host: string | undefined) => host === `127.0.0.1:${port}` || host === `localhost:${port}`;
  const bearer = (header: string | undefined) => (header?.startsWith('Bearer ') ? header.slice('Bearer '.length) : undefined);

  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?', 1)[0] ?? '';
    if (!hostAllowed(req.headers.host) || (req.method !== 'GET' && req.method !== 'HEAD')) return forbidden(res);
    const publicName = PUBLIC_ASSETS[path];
    if (publicName === undefined && !tokenMatches(bearer(req.headers.authorization), token)) return forbidden(res);
    const asset = assets.get(publicName ?? (path.startsWith('/assets/') ? path.slice('/assets/'.length) : ''));
    if (asset) return answer(res, 200, asset.contentType, asset.body);
    const name = path.startsWith('/api/') ? path.slice('/api/'.length) : '';
    const lookUp = Object.hasOwn(api, name) ? api[name] : undefined;
    if (!lookUp) return answer(res, 404, 'text/plain; charset=utf-8', 'Not found\n');
    const json = 'application/json; charset=utf-8';
    lookUp().then(
      (value) => answer(res, 200, json, JSON.stringify(value)),
      (err: unknown) => answer(res, 502, json, JSON.stringify({ error: err instanceof Error ? err.message : String(err) })),
    );
  });

  const sockets = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_MESSAGE_BYTES,
    handleProtocols: (protocols) => (protocols.has(PAGE_PROTOCOL) ? PAGE_PROTOCOL : false),
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const host = req.headers.host;
    const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    const given = offered.find((p) => p.startsWith(TOKEN_PROTOCOL_PREFIX))?.slice(TOKEN_PROTOCOL_PREFIX.length);
    const allowed = hostAllowed(host) && req.headers.origin === `http://${host}` && req.url === '/tab' && offered.includes(PAGE_PROTOCOL) && tokenMatches(given, token);
    if (!allowed) return refuseUpgrade(socket);
    sockets.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', () => ws.terminate());
      options.onTab(new Tab(ws));
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new UserError(`Port ${options.port} on 127.0.0.1 is in use: give another --port, or none for a free one.`)
          : new UserError(`Cannot listen on 127.0.0.1:${options.port}: ${socketFailure(err)}.`),
      ),
    );
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  port = (server.address() as { port: number }).port;

  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of sockets.clients) client.terminate();
        sockets.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
