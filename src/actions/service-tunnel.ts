// What `connect-to-service` does once its input is understood, as one lifecycle: every check
// that can refuse the run first (app, instance, SSH switches, the SSH connection itself), then
// the credentials (a service key only now), the reachability check, the local listener, and the
// native client, the user's command, or the tunnel held for others until stopped. A service
// that asks for TLS gets it on both legs (the TLS bridge): never a plain tunnel in its place.
// Several services share the one SSH connection, each with its own tunnel; they go to the
// user's command (in its environment) or are held for others: a native client takes one.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Client } from 'ssh2';
import type { Context } from '../context.js';
import { UserError } from '../errors.js';
import { createRunCa, type RunCa } from '../net/run-ca.js';
import { bridgeTls, checkServiceTls, type ServiceTls } from '../net/tls-bridge.js';
import { defaultClient, defaultClientName, isNativeClient, type LocalEnd, nativeClient, RUN_CA_FILE } from '../services/clients.js';
import { type Connection, detectType, parseConnection, SERVICE_TYPES, type ServiceBinding, type ServiceType } from '../services/credentials.js';
import { programEnvironment, type TunnelledService, variablePrefix } from '../services/program-env.js';
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
  /** One service or several; with several, `command` names a program or `noClient` is set. */
  serviceNames: string[];
  index?: number;
  credentials: 'binding' | 'key';
  /** --type (with one service only); detected from the credentials when undefined. */
  type?: ServiceType;
  /** Hold the tunnel for other programs until stopped (--no-client). */
  noClient: boolean;
  /**
   * What follows --: more arguments for the native client when the first word starts with '-';
   * else a program, which must exist: a native client by name gets the tunnel as the default
   * one does, any other program the connection in its environment.
   */
  command: string[];
  /** Where the tunnels listen (a port only with one service); `remote` when reachable from the network (--allow-remote). */
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
  /** A tunnel is open and nothing was started on it: show what to connect to (once for each service). */
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
async function writeRunCa(life: Lifecycle, ca: string, name: string): Promise<string> {
  const file = path.join(await life.privateFolder(), name);
  await writeFile(file, ca, { mode: 0o600 });
  return file;
}

/** A service's credentials, understood: what its tunnel leads to, and how it speaks TLS. */
interface ServiceEnd {
  name: string;
  binding: ServiceBinding;
  type?: ServiceType;
  evidence: string[];
  conn: Connection;
  serviceTls?: ServiceTls;
}

function understand(name: string, binding: ServiceBinding, request: ServiceTunnelRequest): ServiceEnd {
  const detection = detectType(binding);
  const type = request.type ?? detection.type;
  const conn = parseConnection(binding.credentials, type);
  if (!conn) {
    const keys = Object.keys(binding.credentials).join(', ') || 'none';
    throw new UserError(`Service instance '${name}' has no host and port in its credentials (fields: ${keys}): there is nothing to tunnel to.`);
  }
  // The bridge must speak the protocol's own way of starting TLS: it cannot guess.
  if (conn.tls.required && !type) {
    throw new UserError(`'${name}' asks for TLS, which its tunnel carries only knowing the service's type: give it with --type (${SERVICE_TYPES.join(', ')}).`);
  }
  const serviceTls = conn.tls.required && type ? { protocol: type, serverName: conn.host, ca: conn.tls.ca, insecure: request.insecureTls } : undefined;
  return { name, binding, type, evidence: detection.evidence, conn, ...(serviceTls && { serviceTls }) };
}

/** A tunnel that is open, with what made it: the run's CA when it is a TLS bridge. */
interface Tunnel extends TunnelledService {
  runCa?: RunCa;
}

/**
 * One service's tunnel: the way to it checked (and its TLS verified), then its local listener.
 * `keepProbe`: a program connects at once, and a plain tunnel hands it the channel that checked
 * the way (one round trip fewer); a tunnel held for others closes it, or a server that speaks
 * first (MySQL) would time it out. `onAccept` hears each connection the tunnel takes.
 */
async function openTunnel(
  life: Lifecycle,
  connection: Client,
  via: string,
  service: ServiceEnd,
  request: ServiceTunnelRequest,
  reporter: Reporter,
  keepProbe: boolean,
  onAccept: () => void = () => undefined,
): Promise<Tunnel> {
  const { name, conn, serviceTls } = service;
  const probe = await life.until(openServiceChannel(connection, conn.host, conn.port, via));
  const spare = !serviceTls && keepProbe ? probe : undefined;
  if (!serviceTls && !spare) probe.close();
  const refusal = serviceTls && (await life.until(checkServiceTls(probe, serviceTls)));
  if (refusal) throw new UserError(`${refusal} No connection to '${name}' is made without verified TLS.`);
  // Clients connect to the loopback of a wildcard bind: 0.0.0.0 and :: are no address to connect to everywhere.
  const localHost = connectable(request.local.bind);
  const runCa = serviceTls && createRunCa(localHost);
  const forward: OnAccept = runCa && serviceTls ? (socket, channel) => void bridgeTls(socket, channel, { ...serviceTls, runCa, onError: reporter.notice }) : pipeBothWays;
  const forwarding = await life.until(
    openForwards(
      connection,
      [{ bindAddress: request.local.bind, localPort: request.local.port, remoteHost: conn.host, remotePort: conn.port, option: '--local-port' }],
      reporter.notice,
      (socket, channel) => {
        onAccept();
        forward(socket, channel);
      },
      spare,
    ),
  );
  life.defer(`the tunnel to ${name}`, () => forwarding.close());
  const [listening] = forwarding.listening;
  if (!listening) throw new UserError(`The tunnel's local listener on ${request.local.bind}:${request.local.port} did not open.`);
  const local: LocalEnd = { host: localHost, port: listening.port, ...(runCa && { ca: runCa.ca }) };
  if (request.local.remote) reporter.notice(`Warning: the tunnel on ${request.local.bind}:${listening.port} is reachable from the network (--allow-remote).`);
  return { name, type: service.type, binding: service.binding, conn, local, ...(runCa && { runCa }) };
}

export async function connectToService(ctx: Context, cf: CfClients, request: ServiceTunnelRequest, reporter: ServiceTunnelReporter): Promise<number> {
  const { appName, serviceNames } = request;
  const several = serviceNames.length > 1;
  return withLifecycle(ctx, reporter, async (life) => {
    // What can refuse the run here (the services, the program after --) is found out while the SSH
    // connection is under way; its login waits for it, so a refused run never logs in.
    const refusals = (async () => {
      const app = await findApp(cf, appName);
      const sources = await Promise.all(
        serviceNames.map(async (name) =>
          request.credentials === 'binding' ? { fromBinding: await bindingCredentials(cf, app, name, reporter.notice) } : { instance: await findServiceInstance(cf, name) },
        ),
      );
      const [first] = sources;
      await checkProgram(ctx, request.command, several ? undefined : (request.type ?? (first?.fromBinding && detectType(first.fromBinding).type)));
      return sources;
    })();
    const index = request.index ?? 0;
    const connecting = openInstanceConnection(ctx, cf, { appName, processType: 'web', index, skipHostValidation: false, loginAfter: refusals }, life.signal);
    connecting.catch(() => undefined);
    const sources = await life.until(refusals);
    const { connection, target } = await reporter.spin(`Opening ${several ? 'tunnels' : 'a tunnel'} to ${serviceNames.join(', ')} through ${appName}/${index}...`, () =>
      life.until(connecting),
    );
    life.watch(connection, keepaliveMs(ctx.env));
    const via = `${appName}/${target.index}`;

    // Only now, with SSH known to let us in, is anything made on the foundation: a key for each service.
    const services: ServiceEnd[] = [];
    for (const [i, name] of serviceNames.entries()) {
      const { fromBinding, instance } = sources[i] ?? {};
      const binding = fromBinding ?? (await reporter.spin(`Creating a service key for ${name}...`, () => serviceKeyCredentials(ctx, cf, instance!, life, reporter.notice)));
      services.push(understand(name, binding, request));
    }

    const [first, ...rest] = request.command;
    const clientArgs = first === undefined || first.startsWith('-') ? request.command : undefined;
    const [only] = services;
    let why: string | undefined;
    if (!several && only && !request.noClient && clientArgs) {
      if (!only.type) why = `the type of '${only.name}' could not be told (${only.evidence.join(', ') || 'no hints'}); give it with --type`;
      else {
        const { programs, debianPackage } = defaultClient(only.type);
        if (!(await findProgram(programs, ctx.env))) why = `${programs.join(' or ')} is not installed (Debian/Ubuntu package: ${debianPackage})`;
      }
      // Nobody at a terminal to use the details or press Ctrl-C: say so and stop, rather than wait forever.
      if (why && !request.interactive) throw new UserError(`No client started: ${why}. Give --no-client to hold the tunnel open for other programs.`);
    }

    if (request.insecureTls) {
      for (const { name, conn, serviceTls } of services) {
        reporter.notice(
          serviceTls
            ? `Warning: --insecure-tls: the certificate of ${conn.host} is not checked; whoever is between ${via} and the service can read and change what goes through the tunnel.`
            : `--insecure-tls has no effect: '${name}' does not ask for TLS.`,
        );
      }
    }
    // The client has started and read its files once the tunnel carries its first connection.
    let accepted: () => void = () => undefined;
    const firstConnection = new Promise<void>((resolve) => (accepted = resolve));
    // Every tunnel reaches its service, and where it asks for TLS, its certificate verifies: or no program is started.
    const startsProgram = first !== undefined || (!request.noClient && !why);
    const tunnels: Tunnel[] = [];
    for (const service of services) tunnels.push(await openTunnel(life, connection, via, service, request, reporter, startsProgram && !several, accepted));

    const [tunnel] = tunnels;
    if (first !== undefined && !clientArgs) {
      if (!several && tunnel?.type && isNativeClient(tunnel.type, first)) {
        return runLocalProgram(ctx, nativeClient(tunnel.type, tunnel.conn, tunnel.local, first, rest), life, firstConnection);
      }
      return runLocalProgram(ctx, programEnvironment(request.command, tunnels), life);
    }
    if (tunnel?.type && !several && !request.noClient && !why) {
      return runLocalProgram(ctx, nativeClient(tunnel.type, tunnel.conn, tunnel.local, undefined, clientArgs), life, firstConnection);
    }
    if (why) reporter.notice(`No client started: ${why}.`);
    for (const { name, type, conn, local, runCa } of tunnels) {
      const caFile = runCa && (await writeRunCa(life, runCa.ca, several ? `${variablePrefix(name)}-${RUN_CA_FILE}` : RUN_CA_FILE));
      reporter.tunnelOpen({ serviceName: name, type, connection: conn, local, ...(caFile && { caFile, unverified: request.insecureTls }) });
    }
    reporter.notice(`Press Ctrl-C to close the ${several ? 'tunnels' : 'tunnel'}.`);
    return life.stopped();
  });
}
