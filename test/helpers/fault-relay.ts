// A relay that injects network faults between the CLI and the foundation's SSH proxy. The CLI
// reaches it as an HTTP CONNECT proxy (https_proxy), so every test can have its own relay and
// its own fault while all share one foundation: each CONNECT becomes one relayed connection to
// where it asks, with the fault the relay was made with, and live connections can be frozen,
// reset, closed or killed at the moment the test chooses.
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** `up`: from the CLI to the endpoint; `down`: from the endpoint back to the CLI. */
export type Direction = 'up' | 'down';

export type Fault =
  /** Relays faithfully, until the test acts on the live connections. */
  | { kind: 'none' }
  /** The connection is accepted and then nothing: not a byte answered, nothing forwarded. */
  | { kind: 'black-hole' }
  /** The connection is accepted, then closed at once (FIN). */
  | { kind: 'accept-then-close' }
  /** The endpoint's banner line reaches the CLI; after it nothing more, either way. */
  | { kind: 'banner-then-silent' }
  /** Relays `afterBytes` bytes of a connection in `direction`, then closes the CLI's side (FIN) or, after a pause, resets it (RST). */
  | { kind: 'cut'; direction: Direction; afterBytes: number; how: 'close' | 'reset' };

interface Pair {
  client: net.Socket;
  upstream?: net.Socket;
  /** Frozen or being reset: nothing is relayed any more. */
  stopped?: boolean;
}

export interface FaultRelay {
  /** For https_proxy. */
  readonly url: string;
  /** Resolves once `count` connections were accepted. */
  waitForConnections(count?: number, timeoutMs?: number): Promise<void>;
  /** A network that silently stops carrying packets: nothing more is read or forwarded, nothing is closed. */
  freeze(): void;
  /** Resets (RST) the CLI's side of every live connection. */
  reset(): void;
  /** Closes (FIN) the CLI's side of every live connection. */
  close(): void;
  /** The relay dies: every connection destroyed, no new ones accepted. */
  kill(): void;
  stop(): Promise<void>;
}

const ESTABLISHED = 'HTTP/1.1 200 Connection Established\r\n\r\n';
/** Between the last bytes relayed and a cut's reset, so that the CLI reads them first. */
const RESET_PAUSE_MS = 100;

/** Nothing more is read or forwarded either way; nothing is closed. */
function stopRelaying(pair: Pair): void {
  const { client, upstream } = pair;
  pair.stopped = true;
  client.pause();
  upstream?.pause();
  client.removeAllListeners('data');
  upstream?.removeAllListeners('data');
}

/**
 * Resets the CLI's side a moment from now, and drops the endpoint's: libuv reports an RST that
 * arrives with data (one poll sees both) as an orderly close, so the last bytes go on their own.
 */
function resetSoon({ client, upstream }: Pair): void {
  setTimeout(() => {
    client.resetAndDestroy();
    upstream?.destroy();
  }, RESET_PAUSE_MS);
}

export async function faultRelay(fault: Fault = { kind: 'none' }): Promise<FaultRelay> {
  const pairs = new Set<Pair>();
  let accepted = 0;
  let killed = false;

  const server = http.createServer((_req, res) => res.writeHead(405).end());
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    accepted += 1;
    const pair: Pair = { client };
    pairs.add(pair);
    client.on('error', () => undefined);
    client.once('close', () => {
      pair.upstream?.destroy();
      pairs.delete(pair);
    });
    if (fault.kind === 'black-hole') return void client.write(ESTABLISHED);
    if (fault.kind === 'accept-then-close') return void client.end(ESTABLISHED);

    const [host = '', port = ''] = (req.url ?? '').split(':');
    const upstream = net.connect(Number(port), host, () => {
      client.write(ESTABLISHED);
      if (head.length > 0) forward('up', head);
      client.on('data', (chunk: Buffer) => forward('up', chunk));
      upstream.on('data', (chunk: Buffer) => forward('down', chunk));
    });
    pair.upstream = upstream;
    upstream.on('error', () => client.destroy());
    upstream.once('close', () => client.end());
    client.once('end', () => upstream.end());

    // Each connection meets the fault on its own.
    const moved: Record<Direction, number> = { up: 0, down: 0 };
    let silent = false;
    const forward = (direction: Direction, chunk: Buffer) => {
      if (silent) return;
      let data = chunk;
      let cutNow = false;
      if (fault.kind === 'banner-then-silent' && direction === 'down') {
        const lineEnd = data.indexOf('\n');
        if (lineEnd >= 0) {
          data = data.subarray(0, lineEnd + 1);
          silent = true;
        }
      } else if (fault.kind === 'cut' && direction === fault.direction && moved[direction] + data.length >= fault.afterBytes) {
        data = data.subarray(0, fault.afterBytes - moved[direction]);
        cutNow = true;
      }
      moved[direction] += data.length;
      const [from, to] = direction === 'up' ? [client, upstream] : [upstream, client];
      // Backpressure: a slow reader slows the writer, as on a real network.
      if (data.length > 0 && !to.write(data)) {
        from.pause();
        to.once('drain', () => pair.stopped || from.resume());
      }
      if (!cutNow || fault.kind !== 'cut') return;
      silent = true;
      if (fault.how === 'close') {
        upstream.destroy();
        return void client.end();
      }
      resetSoon(pair);
    };
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  const live = () => [...pairs];
  const kill = () => {
    if (!killed) server.close();
    killed = true;
    for (const { client, upstream } of live()) {
      upstream?.destroy();
      client.destroy();
    }
  };
  const closed = new Promise((resolve) => server.once('close', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async waitForConnections(count = 1, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (accepted < count) {
        if (Date.now() > deadline) throw new Error(`the fault relay accepted ${accepted} connection(s), not ${count}`);
        await sleep(20);
      }
    },
    freeze() {
      for (const pair of live()) stopRelaying(pair);
    },
    reset() {
      for (const pair of live()) {
        stopRelaying(pair);
        resetSoon(pair);
      }
    },
    close() {
      for (const { client, upstream } of live()) {
        upstream?.destroy();
        client.end();
      }
    },
    kill,
    async stop() {
      kill();
      await closed;
    },
  };
}
