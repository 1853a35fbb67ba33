// What `connect-to-service` does once its input is understood, as one lifecycle: every check
// that can refuse the run first (app, instance, SSH switches, the SSH connection itself), then
// the credentials (a service key only now), the reachability check, the local listener, and the
// native client, the user's command, or the tunnel held for others until stopped. A service
// that asks for TLS gets it on both legs (the TLS bridge): never a plain tunnel in its place.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Context } from '../context.js';
import { UserError } from '../errors.js';
import { createRunCa } from '../net/run-ca.js';
import { bridgeTls, checkServiceTls, type ServiceTls } from '../net/tls-bridge.js';
import { defaultClient, defaultClientName, isNativeClient, type LocalEnd, nativeClient, RUN_CA_FILE } from '../services/clients.js';
import { type Connection, detectType, parseConnection, SERVICE_TYPES, type ServiceType } from '../services/credentials.js';
import { programEnvironment } from '../services/program-env.js';
import { type OnAccept, openForwards, pipeBothWays } from '../ssh/forward.js';
import { keepaliveMs } from '../ssh/settings.js';
import type { CfClients } from './cf-clients.js';
import { bindingCredentials, openServiceChannel, serviceKeyCredentials } from './connect.js';
import { type Lifecycle, type Reporter, withLifecycle } from './lifecycle.js';
import { findProgram, runLocalProgram } from './local-program.js';
import { findApp, findServiceInstance } from './lookup.js';
import { openInstanceConnection } from './instance-connection.js';

export interface ServiceTunnelRequest {
  appName: string;
  serviceName: string;
  index?: number;
  credentials: 'binding' | 'key';
  /** --type; detected from the credentials when undefined. */
  type?: ServiceType;
  /** Hold the tunnel for other programs until stopped (--no-client). */
  noClient: boolean;
  /**
   * What follows --: more arguments for the native client when the first word starts with '-';
   * else a program, which must exist: a native client by name gets the tunnel as the default
   * one does, any other program the connection in its environment.
   */
  command: string[];
  /** Where the tunnel listens; `remote` when that is reachable from the network (--allow-remote). */
  local: { bind: string; port: number; remote: boolean };
  /** A person can answer and press Ctrl-C: without one, nothing waits. */
  interactive: boolean;
  /** --insecure-tls: the service's certificate is not checked (and every run says so). */
  insecureTls: boolean;
}

/** What the tunnel leads to, for the command to show when no client takes it. */
export interface OpenTunnel {
  serviceName: string;
  type?: ServiceType;
  connection: Connection;
  local: LocalEnd;
  /** Through a TLS bridge: the file with the run's CA, which clients must trust; it lives while the tunnel does. */
  caFile?: string;
  /** Through a TLS bridge that does not check the service's certificate (--insecure-tls). */
  unverified?: boolean;
}

export interface ServiceTunnelReporter extends Reporter {
  /** The tunnel is open and nothing was started on it: show what to connect to. */
  tunnelOpen(tunnel: OpenTunnel): void;
}

function connectable(bind: string): string {
  return bind === '0.0.0.0' ? '127.0.0.1' : bind === '::' ? '::1' : bind;
}

/** Refuses, before anything is made, a program after -- that does not exist. */
async function checkProgram(ctx: Context, [program, ...rest]: string[], type: ServiceType | undefined): Promise<void> {
  if (program === undefined || program.startsWith('-') || (type && isNativeClient(type, program)) || (await findProgram([program], ctx.env))) return;
  if (program.includes('/')) throw new UserError(`${program} cannot be run: there is no such file, or it is not executable.`);
  const client = type ? defaultClientName(type) : 'CLIENT';
  throw new UserError(`No program '${program}'; to give arguments to the client start them with the client's name: -- ${client} ${program}${rest.length > 0 ? ' ...' : ''}`);
}

/** The run's CA in a file of a private folder removed at teardown, for programs other than ours to trust. */
async function writeRunCa(life: Lifecycle, ca: string): Promise<string> {
  const file = path.join(await life.privateFolder(), RUN_CA_FILE);
  await writeFile(file, ca, { mode: 0o600 });
  return file;
}

export async function connectToService(ctx: Context, cf: CfClients, request: ServiceTunnelRequest, reporter: ServiceTunnelReporter): Promise<number> {
  const { appName, serviceName } = request;
  return withLifecycle(ctx, reporter, async (life) => {
    // What can refuse the run here (the service, the program after --) is found out while the SSH
    // connection is under way; its login waits for it, so a refused run never logs in.
    const refusals = (async () => {
      const app = await findApp(cf, appName);
      const fromBinding = request.credentials === 'binding' ? await bindingCredentials(cf, app, serviceName, reporter.notice) : undefined;
      const instance = request.credentials === 'key' ? await findServiceInstance(cf, serviceName) : undefined;
      await checkProgram(ctx, request.command, request.type ?? (fromBinding && detectType(fromBinding).type));
      return { fromBinding, instance };
    })();
    const index = request.index ?? 0;
    const connecting = openInstanceConnection(ctx, cf, { appName, processType: 'web', index, skipHostValidation: false, loginAfter: refusals }, life.signal);
    connecting.catch(() => undefined);
    const { fromBinding, instance } = await life.until(refusals);
    const { connection, target } = await reporter.spin(`Opening a tunnel to ${serviceName} through ${appName}/${index}...`, () => life.until(connecting));
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
    // The bridge must speak the protocol's own way of starting TLS: it cannot guess.
    if (conn.tls.required && !type) {
      throw new UserError(`'${serviceName}' asks for TLS, which its tunnel carries only knowing the service's type: give it with --type (${SERVICE_TYPES.join(', ')}).`);
    }
    const [first, ...rest] = request.command;
    const clientArgs = first === undefined || first.startsWith('-') ? request.command : undefined;
    let why: string | undefined;
    if (!request.noClient && clientArgs) {
      if (!type) why = `the type of '${serviceName}' could not be told (${detection.evidence.join(', ') || 'no hints'}); give it with --type`;
      else {
        const { programs, debianPackage } = defaultClient(type);
        if (!(await findProgram(programs, ctx.env))) why = `${programs.join(' or ')} is not installed (Debian/Ubuntu package: ${debianPackage})`;
      }
      // Nobody at a terminal to use the details or press Ctrl-C: say so and stop, rather than wait forever.
      if (why && !request.interactive) throw new UserError(`No client started: ${why}. Give --no-client to hold the tunnel open for other programs.`);
    }

    const serviceTls: ServiceTls | undefined = conn.tls.required && type ? { protocol: type, serverName: conn.host, ca: conn.tls.ca, insecure: request.insecureTls } : undefined;
    if (request.insecureTls) {
      reporter.notice(
        serviceTls
          ? `Warning: --insecure-tls: the certificate of ${conn.host} is not checked; whoever is between ${appName}/${target.index} and the service can read and change what goes through the tunnel.`
          : `--insecure-tls has no effect: '${serviceName}' does not ask for TLS.`,
      );
    }
    // The tunnel reaches the service, and where it asks for TLS, its certificate verifies: or no client is started.
    const probe = await life.until(openServiceChannel(connection, conn.host, conn.port, `${appName}/${target.index}`));
    // A program started now connects at once: the plain tunnel hands it the channel that checked the way (one
    // round trip fewer). A tunnel held for others closes it: a server that speaks first (MySQL) would time it out.
    const startsProgram = first !== undefined || (!request.noClient && !why);
    const spare = !serviceTls && startsProgram ? probe : undefined;
    if (!serviceTls && !spare) probe.close();
    const refusal = serviceTls && (await life.until(checkServiceTls(probe, serviceTls)));
    if (refusal) throw new UserError(`${refusal} No connection to '${serviceName}' is made without verified TLS.`);
    // Clients connect to the loopback of a wildcard bind: 0.0.0.0 and :: are no address to connect to everywhere.
    const localHost = connectable(request.local.bind);
    const runCa = serviceTls && createRunCa(localHost);
    const forward: OnAccept = runCa && serviceTls ? (socket, channel) => void bridgeTls(socket, channel, { ...serviceTls, runCa, onError: reporter.notice }) : pipeBothWays;
    // The client has started and read its files once the tunnel carries its first connection.
    let accepted: () => void = () => undefined;
    const firstConnection = new Promise<void>((resolve) => (accepted = resolve));
    const onAccept: OnAccept = (socket, channel) => {
      accepted();
      forward(socket, channel);
    };
    const forwarding = await life.until(
      openForwards(
        connection,
        [{ bindAddress: request.local.bind, localPort: request.local.port, remoteHost: conn.host, remotePort: conn.port }],
        reporter.notice,
        onAccept,
        spare,
      ),
    );
    life.defer('the tunnel', () => forwarding.close());
    const [listening] = forwarding.listening;
    if (!listening) throw new UserError(`The tunnel's local listener on ${request.local.bind}:${request.local.port} did not open.`);
    const local: LocalEnd = { host: localHost, port: listening.port, ...(runCa && { ca: runCa.ca }) };
    if (request.local.remote) reporter.notice(`Warning: the tunnel on ${request.local.bind}:${listening.port} is reachable from the network (--allow-remote).`);

    if (first !== undefined && !clientArgs) {
      if (type && isNativeClient(type, first)) return runLocalProgram(ctx, nativeClient(type, conn, local, first, rest), life, firstConnection);
      return runLocalProgram(ctx, programEnvironment(request.command, type, binding, conn, local), life);
    }
    if (type && !request.noClient && !why) return runLocalProgram(ctx, nativeClient(type, conn, local, undefined, clientArgs), life, firstConnection);
    if (why) reporter.notice(`No client started: ${why}.`);
    const caFile = runCa && (await writeRunCa(life, runCa.ca));
    reporter.tunnelOpen({ serviceName, type, connection: conn, local, ...(caFile && { caFile, unverified: request.insecureTls }) });
    reporter.notice('Press Ctrl-C to close the tunnel.');
    return life.stopped();
  });
}
