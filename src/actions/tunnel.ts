// `tunnel`: -L forwards that outlive the SSH connection under them. The local listeners stay
// open for the whole run; when the connection drops, a new one is made with a fresh one-time
// code (after 1 s, doubling up to 30 s, with jitter). Local connections carried by the lost
// connection fail; those accepted meanwhile wait for the next one. What no retry can mend (a
// refused login, a revoked token, the app gone, SSH switched off) ends the run.
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from 'ssh2';
import type { Context } from '../context.js';
import { CfApiError, describeError, LimitError, NetworkError, UserError } from '../errors.js';
import { ConnectionLostError, NOT_AUTHORIZED } from '../ssh/client.js';
import { forwardSocket, listenOn } from '../ssh/forward.js';
import type { ForwardSpec } from '../ssh/forward-spec.js';
import { keepaliveMs } from '../ssh/settings.js';
import type { CfClients } from './cf-clients.js';
import { openInstanceConnection } from './instance-connection.js';
import { lossReason, type Reporter, withLifecycle } from './lifecycle.js';

export interface TunnelRequest {
  appName: string;
  processType: string;
  index: number;
  forwards: ForwardSpec[];
  skipHostValidation: boolean;
}

const FIRST_RETRY_MS = 1000;
const LONGEST_RETRY_MS = 30_000;
/** How long a local connection accepted while the SSH connection is down waits for the next one. */
const WAIT_FOR_RECONNECT_MS = 30_000;

/** The wait before try `tries` (1, 2, ...): 1 s doubling to 30 s, each spread by ±25 % so that tunnels cut together do not all come back together. */
export function retryDelayMs(tries: number, random: () => number = Math.random): number {
  const base = Math.min(LONGEST_RETRY_MS, FIRST_RETRY_MS * 2 ** (tries - 1));
  return Math.min(LONGEST_RETRY_MS, Math.round(base * (0.75 + random() * 0.5)));
}

/** Diego's answer while an instance restarts: it runs again soon. */
const INSTANCE_NOT_RUNNING = /^Instance \d+ of process \S+ not running/;

/** A failure that may pass by itself (network, proxy, an instance restarting), as opposed to one a person must mend. */
export function isTransient(err: unknown): boolean {
  if (err instanceof ConnectionLostError || err instanceof NetworkError || err instanceof LimitError) return true;
  if (err instanceof CfApiError) return err.status >= 500 || err.status === 429;
  if (!(err instanceof UserError)) return false;
  if (err.message === NOT_AUTHORIZED) return false;
  // The SSH proxy's own failures (a handshake that timed out, a reset): the host key's and the login's have their own messages.
  return err.message.startsWith('Error opening SSH connection:') || INSTANCE_NOT_RUNNING.test(err.message);
}

/** The current SSH connection, or the wait for the next one; and the local connections each one carries. */
class Link {
  private current?: Client;
  private carried = new Set<net.Socket>();
  private readonly waiting = new Set<(connection: Client | undefined) => void>();

  up(connection: Client): void {
    this.current = connection;
    for (const wake of this.waiting) wake(connection);
    this.waiting.clear();
  }

  /** The connection is lost: the local connections it carried fail with it; how many did. */
  down(): number {
    this.current = undefined;
    const cut = this.carried.size;
    for (const socket of this.carried) socket.destroy();
    this.carried = new Set();
    return cut;
  }

  /** The connection, at once or once it is back; undefined when none came within `ms`. */
  next(ms: number): Promise<Client | undefined> {
    if (this.current) return Promise.resolve(this.current);
    return new Promise((resolve) => {
      const wake = (connection: Client | undefined) => {
        clearTimeout(timer);
        this.waiting.delete(wake);
        resolve(connection);
      };
      const timer = setTimeout(() => wake(undefined), ms);
      this.waiting.add(wake);
    });
  }

  /** `socket` rides on the current connection, and fails with it. */
  carry(socket: net.Socket): void {
    const carried = this.carried;
    carried.add(socket);
    socket.once('close', () => carried.delete(socket));
  }

  /** The end of the run: the connection ended, waiting local connections let go. */
  close(): void {
    const connection = this.current;
    this.down();
    for (const wake of this.waiting) wake(undefined);
    connection?.end();
  }
}

/** Resolves, once `connection` closes, with why, in a user's words. */
function whenLost(connection: Client, keepaliveIntervalMs: number): Promise<string> {
  let failure: Error | undefined;
  connection.on('error', (err) => void (failure ??= err));
  return new Promise((resolve) => connection.once('close', () => resolve(lossReason(failure, keepaliveIntervalMs))));
}

/** A failure's first sentence, without its period: the retry line's reason (a tip after it would repeat on every try). */
const firstSentence = (message: string) => message.split(/\.(?:\s|$)/, 1)[0] ?? message;

const seconds = (ms: number) => `${Math.max(1, Math.round(ms / 1000))} s`;

/** Holds the tunnels until stopped, reconnecting as often as the connection drops; ends only by a stop or an error that needs a person. */
export async function runTunnel(ctx: Context, cf: CfClients, request: TunnelRequest, reporter: Reporter): Promise<never> {
  return withLifecycle(ctx, reporter, async (life) => {
    const where = `${request.appName}/${request.index}`;
    const interval = keepaliveMs(ctx.env);
    const link = new Link();
    life.defer('the SSH connection', () => link.close());
    const open = async () => {
      const { connection } = await life.until(openInstanceConnection(ctx, cf, request, life.signal));
      return { connection, lost: whenLost(connection, interval) };
    };

    let current = await reporter.spin(`Connecting to ${where}...`, open);
    link.up(current.connection);
    reporter.notice(`connected to ${where}`);

    const servers: net.Server[] = [];
    life.defer('the forwarded ports', () => servers.forEach((server) => server.close()));
    for (const spec of request.forwards) {
      // As ssh -L's listeners: half-open, nothing read before the channel is open.
      const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => {
        socket.on('error', () => socket.destroy());
        void link.next(WAIT_FOR_RECONNECT_MS).then((connection) => {
          if (socket.destroyed) return;
          if (!connection) return void socket.resume().end();
          link.carry(socket);
          forwardSocket(connection, spec, socket, reporter.notice);
        });
      });
      servers.push(server);
      const { address, port } = await life.until(listenOn(server, spec));
      reporter.notice(`Forwarding ${address}:${port} to ${spec.remoteHost}:${spec.remotePort}`);
    }
    reporter.notice('The tunnels reconnect by themselves when the connection drops. Press Ctrl-C to close them.');

    for (;;) {
      let why = await life.until(current.lost);
      const cut = link.down();
      if (cut > 0) why += `; ${cut} connection${cut === 1 ? '' : 's'} in flight cut`;
      for (let tries = 1; ; tries++) {
        const delay = retryDelayMs(tries);
        reporter.notice(`${tries === 1 ? 'lost' : `try ${tries - 1} failed`}: ${why}; reconnecting in ${seconds(delay)}`);
        await life.until(sleep(delay, undefined, { signal: life.signal }));
        try {
          current = await open();
        } catch (err) {
          if (life.signal.aborted || !isTransient(err)) {
            const { message, exitCode } = describeError(err);
            throw life.signal.aborted ? err : new UserError(`Cannot reconnect to ${where}, so the tunnels are closed: ${message}`, exitCode);
          }
          why = firstSentence(describeError(err).message);
          continue;
        }
        link.up(current.connection);
        reporter.notice(`reconnected after ${tries} ${tries === 1 ? 'try' : 'tries'}`);
        break;
      }
    }
  });
}
