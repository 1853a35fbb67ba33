// @ts-check
// A TCP relay on 127.0.0.1 that emulates a network round trip of `rttMs` between its clients
// and its target, without root or netem: each direction's data arrives RTT/2 after it was
// sent, in order, and a connect costs what TCP's does. A client's connect() returns at once
// here (the kernel accepts on loopback), so the relay makes up for it: the target sees the
// connection 1.5 RTT later (SYN, SYN-ACK, then the ACK with the client's first data), and
// nothing the client sent reaches it earlier. The server's first word (an SSH banner)
// therefore reaches the client at 2 RTT, its answer to the client's first request at 2 RTT:
// as over a real link. What it cannot emulate: ACKs still come back at once, so a sender's
// Nagle or congestion window never waits for them.
import net from 'node:net';

/** Stop reading a side when this much of its data waits for its delay (as a socket buffer would). */
const HIGH_WATER = 4 << 20;

/**
 * @typedef {object} DelayRelay
 * @property {number} port where clients connect, on 127.0.0.1
 * @property {string} address 127.0.0.1:port
 * @property {number} rttMs the round trip new connections get (a connection keeps its own)
 * @property {{ host: string, port: number } | undefined} target where connections go; set before the first one comes
 * @property {number} connections how many connections it has accepted
 * @property {() => Promise<void>} close stops listening and cuts every connection
 */

/** @typedef {Buffer | 'end' | 'destroy'} Piece data, the sender's FIN, or its close (a reset, or the end of both halves) */

/**
 * One direction of a connection: what `from` sends reaches `to` `delayMs` later, never before `notBefore`.
 * @param {net.Socket} from
 * @param {() => net.Socket | undefined} to the other side, once connected
 * @param {number} delayMs
 * @param {number} notBefore performance.now() before which nothing is delivered
 */
function delayedPipe(from, to, delayMs, notBefore) {
  /** @type {{ due: number, piece: Piece }[]} */
  const queue = [];
  let queuedBytes = 0;
  /** @type {NodeJS.Timeout | undefined} */
  let timer;
  const flush = () => {
    timer = undefined;
    const target = to();
    if (!target) return;
    const now = performance.now();
    while (queue.length > 0 && queue[0].due <= now) {
      const { piece } = /** @type {{ due: number, piece: Piece }} */ (queue.shift());
      if (piece === 'end') target.end();
      else if (piece === 'destroy') target.destroy();
      else {
        queuedBytes -= piece.length;
        target.write(piece);
      }
    }
    if (queuedBytes < HIGH_WATER && from.isPaused()) from.resume();
    // One timer for the head of the queue keeps the order (a timer per piece need not).
    if (queue.length > 0) timer = setTimeout(flush, queue[0].due - now);
  };
  /** @param {Piece} piece */
  const push = (piece) => {
    queue.push({ due: Math.max(performance.now() + delayMs, notBefore), piece });
    if (Buffer.isBuffer(piece)) queuedBytes += piece.length;
    if (queuedBytes >= HIGH_WATER) from.pause();
    if (queue.length === 1 && timer === undefined) flush();
  };
  from.on('data', push);
  from.once('end', () => push('end'));
  from.once('close', () => push('destroy'));
  /** Delivers what is due, now that the other side is there. */
  return () => {
    if (timer === undefined) flush();
  };
}

/**
 * @param {{ rttMs?: number, target?: { host: string, port: number } }} [options]
 * @returns {Promise<DelayRelay>}
 */
export async function startDelayRelay(options = {}) {
  /** @type {Set<net.Socket>} */
  const sockets = new Set();
  /** @type {DelayRelay} */
  let relay;
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
    const { rttMs: rtt, target } = relay;
    if (!target) throw new Error('the relay has no target yet');
    relay.connections += 1;
    sockets.add(client);
    client.on('error', () => undefined);
    client.once('close', () => sockets.delete(client));
    /** @type {net.Socket | undefined} */
    let upstream;
    const startUp = delayedPipe(client, () => upstream, rtt / 2, performance.now() + 1.5 * rtt);
    const connectUpstream = () => {
      if (client.destroyed) return;
      const socket = net.connect({ host: target.host, port: target.port, allowHalfOpen: true, noDelay: true });
      upstream = socket;
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.once('close', () => sockets.delete(socket));
      delayedPipe(socket, () => client, rtt / 2, 0);
      socket.once('connect', startUp);
    };
    if (rtt === 0) connectUpstream();
    else setTimeout(connectUpstream, 1.5 * rtt);
  });
  await /** @type {Promise<void>} */ (
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    })
  );
  const { port } = /** @type {net.AddressInfo} */ (server.address());
  relay = {
    port,
    address: `127.0.0.1:${port}`,
    rttMs: options.rttMs ?? 0,
    target: options.target,
    connections: 0,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
  return relay;
}
