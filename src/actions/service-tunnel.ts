// What `connect-to-service` does once its input is understood, as one lifecycle: every check
// that can refuse the run first (app, instance, SSH switches, the SSH connection itself), then
// the credentials (a service key only now), the reachability check, the local listener, and the
// native client, the user's command, or the tunnel held for others until stopped.
import type { Context } from '../context.js';
import { UserError } from '../errors.js';
import { type LocalEnd, nativeClient } from '../services/clients.js';
import { type Connection, detectType, parseConnection, type ServiceType } from '../services/credentials.js';
import { programEnvironment } from '../services/program-env.js';
import { openForwards } from '../ssh/forward.js';
import { keepaliveMs } from '../ssh/settings.js';
import type { CfClients } from './cf-clients.js';
import { bindingCredentials, checkReachable, serviceKeyCredentials } from './connect.js';
import { type Reporter, withLifecycle } from './lifecycle.js';
import { findProgram, runLocalProgram } from './local-program.js';
import { findApp, findServiceInstance } from './lookup.js';
import { connectToInstance, ensureSshEnabled, findInstance, sshEndpoint } from './ssh.js';

export interface ServiceTunnelRequest {
  appName: string;
  serviceName: string;
  index?: number;
  credentials: 'binding' | 'key';
  /** --type; detected from the credentials when undefined. */
  type?: ServiceType;
  /** Hold the tunnel for other programs until stopped (--no-client). */
  noClient: boolean;
  /** A program to run with the connection in its environment (after --). */
  command: string[];
  /** More arguments for the native client (after --, when the first word is not a program). */
  clientArgs: string[];
  local: { bind: string; port: number };
  /** A person can answer and press Ctrl-C: without one, nothing waits. */
  interactive: boolean;
}

/** What the tunnel leads to, for the command to show when no client takes it. */
export interface OpenTunnel {
  serviceName: string;
  type?: ServiceType;
  connection: Connection;
  local: LocalEnd;
}

export interface ServiceTunnelReporter extends Reporter {
  /** The tunnel is open and nothing was started on it: show what to connect to. */
  tunnelOpen(tunnel: OpenTunnel): void;
}

function connectable(bind: string): string {
  return bind === '0.0.0.0' ? '127.0.0.1' : bind === '::' ? '::1' : bind;
}

export async function connectToService(ctx: Context, cf: CfClients, request: ServiceTunnelRequest, reporter: ServiceTunnelReporter): Promise<number> {
  const { appName, serviceName } = request;
  return withLifecycle(ctx, reporter, async (life) => {
    const app = await life.until(findApp(cf, appName));
    const fromBinding = request.credentials === 'binding' ? await life.until(bindingCredentials(cf, app, serviceName, reporter.notice)) : undefined;
    const instance = request.credentials === 'key' ? await life.until(findServiceInstance(cf, serviceName)) : undefined;
    const endpoint = await life.until(sshEndpoint(cf));
    const target = await life.until(findInstance(cf, appName, 'web', request.index ?? 0));
    await life.until(ensureSshEnabled(cf, target.app, ctx.bin));
    const connection = await reporter.spin(`Opening a tunnel to ${serviceName} through ${appName}/${target.index}...`, () =>
      life.until(connectToInstance(ctx, cf, endpoint, target, false, life.signal)),
    );
    life.watch(connection, keepaliveMs(ctx.env));

    // Only now, with SSH known to let us in, is anything made on the foundation.
    const binding = fromBinding ?? (await reporter.spin(`Creating a service key for ${serviceName}...`, () => serviceKeyCredentials(ctx, cf, instance!, life, reporter.notice)));
    const detection = detectType(binding);
    const type = request.type ?? detection.type;
    const conn = parseConnection(binding.credentials, type);
    if (!conn) {
      const keys = Object.keys(binding.credentials).join(', ') || 'none';
      throw new UserError(`Service instance '${serviceName}' has no host and port in its credentials (fields: ${keys}): there is nothing to tunnel to.`);
    }
    let why: string | undefined;
    if (!request.noClient && request.command.length === 0) {
      if (!type) why = `the type of '${serviceName}' could not be told (${detection.evidence.join(', ') || 'no hints'}); give it with --type`;
      else {
        const { programs, debianPackage } = nativeClient(type, conn, { host: request.local.bind, port: 0 });
        if (!(await findProgram(programs, ctx.env))) why = `${programs.join(' or ')} is not installed (Debian/Ubuntu package: ${debianPackage})`;
      }
      // Nobody at a terminal to use the details or press Ctrl-C: say so and stop, rather than wait forever.
      if (why && !request.interactive) throw new UserError(`No client started: ${why}. Give --no-client to hold the tunnel open for other programs.`);
    }

    await life.until(checkReachable(connection, conn.host, conn.port, `${appName}/${target.index}`));
    const forwarding = await life.until(
      openForwards(connection, [{ bindAddress: request.local.bind, localPort: request.local.port, remoteHost: conn.host, remotePort: conn.port }], reporter.notice),
    );
    life.defer('the tunnel', () => forwarding.close());
    const [listening] = forwarding.listening;
    if (!listening) throw new UserError(`The tunnel's local listener on ${request.local.bind}:${request.local.port} did not open.`);
    // Clients connect to the loopback of a wildcard bind: 0.0.0.0 and :: are no address to connect to everywhere.
    const local: LocalEnd = { host: connectable(request.local.bind), port: listening.port };

    if (request.command.length > 0) return runLocalProgram(ctx, programEnvironment(request.command, type, binding, conn, local), life);
    if (type && !request.noClient && !why) {
      const launch = nativeClient(type, conn, local);
      return runLocalProgram(ctx, { ...launch, args: [...launch.args, ...request.clientArgs] }, life);
    }
    if (why) reporter.notice(`No client started: ${why}.`);
    reporter.tunnelOpen({ serviceName, type, connection: conn, local });
    reporter.notice('Press Ctrl-C to close the tunnel.');
    return life.stopped();
  });
}
