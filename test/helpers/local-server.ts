// A small HTTP server on 127.0.0.1 that answers as a test says, for servers that misbehave
// (a Cloud Controller that points elsewhere, trickles, floods) and for ones that must see
// nothing at all: it counts every connection and request that reaches it.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LocalServer {
  /** http://127.0.0.1:PORT */
  url: string;
  port: number;
  /** TCP connections accepted, whether or not a request followed. */
  connections: number;
  /** "METHOD /path?query" of each request, in order. */
  requests: string[];
  close(): Promise<void>;
}

export async function localServer(handler: http.RequestListener = (_req, res) => res.end()): Promise<LocalServer> {
  const server = http.createServer((req, res) => {
    state.requests.push(`${req.method} ${req.url}`);
    handler(req, res);
  });
  server.on('connection', () => {
    state.connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const state: LocalServer = {
    url: `http://127.0.0.1:${port}`,
    port,
    connections: 0,
    requests: [],
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  return state;
}

/** Answers with a JSON body. */
export function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}
