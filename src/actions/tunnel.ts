// `tunnel`: -L forwards that outlive the SSH connection under them. The local listeners stay
// open for the whole run; when the connection drops, a new one is made with a fresh one-time
// code (after 1 s, doubling up to 30 s, with jitter). Local connections carried by the lost
// connection fail; those accepted meanwhile wait for the next one. What no retry can mend (a
// refused login, a revoked token, the app gone, SSH switched off) ends the run.
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from 'ssh2';
import type { Context } from '../context.js';
import { CfApiError, describeError, LimitError, NetworkError, UserError } from '../errors.js';
import { createRunCa } from '../net/run-ca.js';
import { bridgeTls, checkServiceTls, type ServiceTls } from '../net/tls-bridge.js';
import { RUN_CA_FILE } from '../services/clients.js';
import { detectType, parseConnection, SERVICE_TYPES } from '../services/credentials.js';
import { ConnectionLostError, NOT_AUTHORIZED } from '../ssh/client.js';
import { forwardSocket, listenOn, type OnAccept, pipeBothWays } from '../ssh/forward.js';
import type { ForwardSpec } from '../ssh/forward-spec.js';
import { keepaliveMs } from '../ssh/settings.js';
import type { CfClients } from './cf-clients.js';
import { openInstanceConnection } from './instance-connection.js';
import { bindingCredentials, openServiceChannel } from './connect.js';
import { type Lifecycle, lossReason, withLifecycle } from './lifecycle.js';
import { findApp } from './lookup.js';
import type { OpenTunnel, ServiceTunnelReporter } from './service-tunnel.js';

export interface TunnelRequest {
  appName: string;
  processType: string;
  index: number;
  forwards: ForwardSpec[];
  skipHostValidation: boolean;
  /** --service: one more forward, to this bound service, with its details printed for other programs. */
  service?: string;
  /** --local-port: where --service's forward listens (0, a free port, by default). */
  serviceLocalPort?: number;
}

/** A forward and what is done with each of its connections. */
interface Forward {
  spec: ForwardSpec;
  onAccept: OnAccept;
  /** For --service: what to print once it listens (where it listens is added then). */
  details?: Omit<OpenTunnel, 'local'>;
  runCa?: { ca: string };
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

/**
 * --service: the binding's credentials, as connect-to-service reads them; a service that asks
 * for TLS gets the TLS bridge, its certificate checked once now, before anything listens.
 */
async function serviceForward(
  cf: CfClients,
  life: Lifecycle,
  connection: Client,
  appName: string,
  serviceName: string,
  localPort: number,
  via: string,
  notice: (message: string) => void,
): Promise<Forward> {
  const binding = await life.until(bindingCredentials(cf, await life.until(findApp(cf, appName)), serviceName, notice));
  const { type } = detectType(binding);
  const conn = parseConnection(binding.credentials, type);
  if (!conn) throw new UserError(`Service instance '${serviceName}' has no host and port in its credentials: there is nothing to tunnel to.`);
  if (conn.tls.required && !type) throw new UserError(`'${serviceName}' asks for TLS, which its tunnel carries only knowing the service's type (${SERVICE_TYPES.join(', ')}).`);
  const spec = { bindAddress: '127.0.0.1', localPort, remoteHost: conn.host, remotePort: conn.port, option: '--local-port' };
  const serviceTls: ServiceTls | undefined = conn.tls.required && type ? { protocol: type, serverName: conn.host, ca: conn.tls.ca, insecure: false } : undefined;
  const probe = await life.until(openServiceChannel(connection, conn.host, conn.port, via));
  if (!serviceTls) {
    probe.close();
    return { spec, onAccept: pipeBothWays, details: { serviceName, type, connection: conn } };
  }
  const refusal = await life.until(checkServiceTls(probe, serviceTls));
  if (refusal) throw new UserError(`${refusal} No connection to '${serviceName}' is made without verified TLS.`);
  const runCa = createRunCa('127.0.0.1');
  const caFile = path.join(await life.privateFolder(), RUN_CA_FILE);
  await writeFile(caFile, runCa.ca, { mode: 0o600 });
  return {
    spec,
    onAccept: (socket, channel) => void bridgeTls(socket, channel, { ...serviceTls, runCa, onError: notice }),
    details: { serviceName, type, connection: conn, caFile },
    runCa,
  };
}

const seconds = (ms: number) => `${Math.max(1, Math.round(ms / 1000))} s`;

/** Holds the tunnels until stopped, reconnecting as often as the connection drops; ends only by a stop or an error that needs a person. */
export async function runTunnel(ctx: Context, cf: CfClients, request: TunnelRequest, reporter: ServiceTunnelReporter): Promise<never> {
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

    const forwards: Forward[] = request.forwards.map((spec) => ({ spec, onAccept: pipeBothWays }));
    if (request.service) forwards.push(await serviceForward(cf, life, current.connection, request.appName, request.service, request.serviceLocalPort ?? 0, where, reporter.notice));
    const servers: net.Server[] = [];
    life.defer('the forwarded ports', () => servers.forEach((server) => server.close()));
    for (const { spec, onAccept, details, runCa } of forwards) {
      // As ssh -L's listeners: half-open, nothing read before the channel is open.
      const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => {
        socket.on('error', () => socket.destroy());
        void link.next(WAIT_FOR_RECONNECT_MS).then((connection) => {
          if (socket.destroyed) return;
          if (!connection) return void socket.resume().end();
          link.carry(socket);
          forwardSocket(connection, spec, socket, reporter.notice, onAccept);
        });
      });
      servers.push(server);
      const { address, port } = await life.until(listenOn(server, spec));
      if (details) reporter.tunnelOpen({ ...details, local: { host: address, port, ...(runCa && { ca: runCa.ca }) } });
      else reporter.notice(`Forwarding ${address}:${port} to ${spec.remoteHost}:${spec.remotePort}`);
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
