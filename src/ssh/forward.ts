// Local port forwarding (-L): a listener per spec, each accepted socket a direct-tcpip
// channel to the remote host as the container resolves it. Streams are piped both ways, so a
// slow side slows the other instead of filling memory, unless the caller takes each connection
// over (a TLS bridge).
import net from 'node:net';
import type { Client, ClientChannel } from 'ssh2';
import { UserError } from '../errors.js';
import { socketFailure } from '../net/socket-errors.js';
import type { ForwardSpec } from './forward-spec.js';

export interface Forwarding {
  /** Where each listener ended up (port 0 becomes a real port). */
  listening: { spec: ForwardSpec; address: string; port: number }[];
  close(): void;
}

/** What is done with an accepted local connection and its fresh channel to the remote end. */
export type OnAccept = (socket: net.Socket, channel: ClientChannel) => void;

/** The plain forward: each side's bytes to the other. */
export const pipeBothWays: OnAccept = (socket, channel) => {
  channel.pipe(socket);
  sendPaced(socket, channel);
};

/**
 * Local bytes into the channel, at most one read ahead of the SSH connection. ssh2 writes every
 * packet to its socket without heeding that socket's backpressure and completes a channel write
 * at once while the peer's window is open (2 MiB per channel), so `pipe()` would read each local
 * connection as fast as it delivers: 500 connections echoing 1 MiB each held 679 MB, 2 MiB
 * each 1286 MB. Here a local socket is paused while its chunk waits for window or the SSH
 * connection's socket is over its high-water mark, and read on when that has drained. The first
 * read waits the same way: 500 connections opened at once would otherwise each put a read in.
 */
function sendPaced(socket: net.Socket, channel: ClientChannel): void {
  const transport = transportOf(channel);
  const readOn = (err?: Error | null) => {
    if (err || !socket.isPaused()) return;
    // A chunk still held for window: its own callback comes back here.
    if (channel.writableLength > 0) return;
    if (transport?.writableNeedDrain) return drainQueue(transport).wait(readOn);
    socket.resume();
  };
  socket.on('data', (chunk: Buffer) => {
    channel.write(chunk, readOn);
    if (channel.writableLength > 0 || transport?.writableNeedDrain) socket.pause();
  });
  socket.once('end', () => channel.end());
  readOn();
}

/** The SSH connection's socket under a channel (ssh2 keeps it private as `_client._sock`). */
function transportOf(channel: ClientChannel): net.Socket | undefined {
  return (channel as unknown as { _client?: { _sock?: net.Socket } })._client?._sock;
}

/** Local sockets woken per turn of the event loop once the SSH socket has drained. */
const WAKE_PER_TURN = 4;

/**
 * The local sockets waiting for one SSH connection's socket to drain, first come first served.
 * They are woken a few per turn while the socket stays below its high-water mark: waking them
 * all at once would put one read of each (up to 64 KiB) in its buffer together.
 */
class DrainQueue {
  private readonly waiting: (() => void)[] = [];
  private scheduled = false;
  constructor(private readonly transport: net.Socket) {}

  wait(then: () => void): void {
    this.waiting.push(then);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.waiting.length === 0) return;
    this.scheduled = true;
    const wake = () => {
      this.scheduled = false;
      for (let n = 0; n < WAKE_PER_TURN && this.waiting.length > 0 && !this.transport.writableNeedDrain; n++) this.waiting.shift()!();
      this.schedule();
    };
    // setImmediate runs after the woken sockets' reads: by then the SSH socket says whether it can take more.
    if (this.transport.writableNeedDrain) this.transport.once('drain', wake);
    else setImmediate(wake);
  }
}

const drainQueues = new WeakMap<net.Socket, DrainQueue>();

function drainQueue(transport: net.Socket): DrainQueue {
  let queue = drainQueues.get(transport);
  if (!queue) drainQueues.set(transport, (queue = new DrainQueue(transport)));
  return queue;
}

/**
 * Opens `spec`'s channel for an accepted local socket (or takes `opened`, one already open to its
 * target) and hands both to `onAccept`; a channel the other end refuses is reported and the socket closed.
 */
export function forwardSocket(
  client: Client,
  spec: ForwardSpec,
  socket: net.Socket,
  onError: (message: string) => void,
  onAccept: OnAccept = pipeBothWays,
  opened?: ClientChannel,
): void {
  const refused = (err: Error) => {
    onError(`connect to ${spec.remoteHost}:${spec.remotePort} failed: ${err.message}`);
    // Close with a FIN after reading what was sent: destroying a socket with unread data
    // sends a reset, and the local client sees ECONNRESET instead of a closed connection.
    socket.resume();
    socket.end();
  };
  const forward = (channel: ClientChannel) => {
    channel.on('error', () => socket.destroy());
    channel.once('close', () => socket.end());
    socket.once('close', () => channel.close());
    onAccept(socket, channel);
  };
  if (opened) return forward(opened);
  try {
    client.forwardOut('0.0.0.0', 0, spec.remoteHost, spec.remotePort, (err, channel) => (err ? refused(err) : forward(channel)));
  } catch (err) {
    // ssh2 throws 'Not connected' for a connection whose socket has gone but has not yet said 'close'.
    refused(err as Error);
  }
}

/** Starts `server` listening where `spec` says; where it ended up (port 0 becomes a real port). */
export async function listenOn(server: net.Server, spec: ForwardSpec): Promise<{ address: string; port: number }> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new UserError(`Cannot listen on ${spec.bindAddress}:${spec.localPort} for ${spec.option ?? '-L'}: ${socketFailure(err)}.`)),
    );
    server.listen(spec.localPort, spec.bindAddress, () => resolve());
  });
  const address = server.address() as net.AddressInfo;
  return { address: address.address, port: address.port };
}

/**
 * `opened`: a channel already open to the first spec's target (the one that checked it can be
 * reached), for the first local connection: a client started at once saves the round trip of
 * opening one. One that closes before it is taken is simply not used.
 */
export async function openForwards(
  client: Client,
  specs: ForwardSpec[],
  onError: (message: string) => void,
  onAccept: OnAccept = pipeBothWays,
  opened?: ClientChannel,
): Promise<Forwarding> {
  const servers: net.Server[] = [];
  const sockets = new Set<net.Socket>();
  const listening: Forwarding['listening'] = [];
  let spare = opened;
  spare?.once('close', () => (spare = undefined));
  spare?.on('error', () => undefined);
  const close = () => {
    for (const server of servers) server.close();
    for (const socket of sockets) socket.destroy();
    spare?.close();
  };
  /** The first connection to the first target takes the spare channel; every other opens its own. */
  const takeSpare = (spec: ForwardSpec) => {
    if (spec !== specs[0]) return undefined;
    const taken = spare;
    spare = undefined;
    return taken;
  };
  try {
    for (const spec of specs) {
      // Half-open: a client that has sent all it wants (FIN) still gets the answer. Nothing is
      // read before the channel is open: 500 connections at once would each hold a read (64 KiB).
      const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => {
        sockets.add(socket);
        socket.once('close', () => sockets.delete(socket));
        socket.on('error', () => socket.destroy());
        forwardSocket(client, spec, socket, onError, onAccept, takeSpare(spec));
      });
      servers.push(server);
      listening.push({ spec, ...(await listenOn(server, spec)) });
    }
  } catch (err) {
    close();
    throw err;
  }
  return { listening, close };
}
