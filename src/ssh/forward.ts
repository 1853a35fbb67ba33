// Local port forwarding (-L): a listener per spec, each accepted socket a direct-tcpip
// channel to the remote host as the container resolves it. Streams are piped both ways, so a
// slow side slows the other instead of filling memory, unless the caller takes each connection
// over (a TLS bridge).
import net from 'node:net';
import type { Client, ClientChannel } from 'ssh2';
import { UserError } from '../errors.js';
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
  socket.pipe(channel).pipe(socket);
  socket.resume();
};

export async function openForwards(client: Client, specs: ForwardSpec[], onError: (message: string) => void, onAccept: OnAccept = pipeBothWays): Promise<Forwarding> {
  const servers: net.Server[] = [];
  const sockets = new Set<net.Socket>();
  const listening: Forwarding['listening'] = [];
  const close = () => {
    for (const server of servers) server.close();
    for (const socket of sockets) socket.destroy();
  };
  try {
    for (const spec of specs) {
      // Half-open: a client that has sent all it wants (FIN) still gets the answer.
      const server = net.createServer({ allowHalfOpen: true }, (socket) => {
        sockets.add(socket);
        socket.once('close', () => sockets.delete(socket));
        socket.on('error', () => socket.destroy());
        socket.pause();
        client.forwardOut('0.0.0.0', 0, spec.remoteHost, spec.remotePort, (err, channel) => {
          if (err) {
            onError(`connect to ${spec.remoteHost}:${spec.remotePort} failed: ${err.message}`);
            // Close with a FIN after reading what was sent: destroying a socket with unread data
            // sends a reset, and the local client sees ECONNRESET instead of a closed connection.
            socket.resume();
            socket.end();
            return;
          }
          channel.on('error', () => socket.destroy());
          channel.once('close', () => socket.end());
          socket.once('close', () => channel.close());
          onAccept(socket, channel);
        });
      });
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', (err: NodeJS.ErrnoException) =>
          reject(new UserError(`Cannot listen on ${spec.bindAddress}:${spec.localPort} for -L: ${err.code === 'EADDRINUSE' ? 'the port is in use' : err.message}.`)),
        );
        server.listen(spec.localPort, spec.bindAddress, () => resolve());
      });
      const address = server.address() as net.AddressInfo;
      listening.push({ spec, address: address.address, port: address.port });
    }
  } catch (err) {
    close();
    throw err;
  }
  return { listening, close };
}
