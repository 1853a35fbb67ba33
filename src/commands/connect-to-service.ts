import { loggedInClients } from '../actions/cf-clients.js';
import { connectToService, type OpenTunnel, type ServiceTunnelRequest } from '../actions/service-tunnel.js';
import type { Context } from '../context.js';
import { UsageError } from '../errors.js';
import { connectionUrl } from '../services/clients.js';
import { SERVICE_TYPES, type ServiceType } from '../services/credentials.js';
import { variablePrefix } from '../services/program-env.js';
import { checkSshSettings } from '../ssh/settings.js';
import type { CommandRun } from './command-spec.js';
import { bindAddress, instanceIndex, localPort } from './option-values.js';
import type { SPECS } from './specs.js';

export function printDetails(ctx: Context, { serviceName: name, type, connection: conn, local, caFile, unverified }: OpenTunnel, showPassword: boolean): void {
  const row = (label: string, value: string | undefined) => value !== undefined && ctx.term.out(`  ${`${label}:`.padEnd(10)} ${value}`);
  ctx.term.out(`Tunnel to ${name}${type ? ` (${type})` : ''} is open:`);
  row('host', local.host);
  row('port', String(local.port));
  row('database', conn.database);
  row('username', conn.username);
  if (conn.password !== undefined) row('password', showPassword ? conn.password : '******** (--show-password shows it)');
  if (caFile) {
    row(
      'tls',
      unverified
        ? `required; the link to the service is NOT verified (--insecure-tls)`
        : `required; the link to the service is verified against its real name, ${conn.host}, with ${conn.tls.ca ? "the service's own CA" : "this computer's CAs"}`,
    );
    row('ca file', `${caFile} (verify ${local.host} against it)`);
  }
  if (type) row('url', connectionUrl(type, conn, local, showPassword, caFile));
}

/** 127.0.0.0/8, ::1, localhost: only this machine can connect. */
function isLoopback(address: string): boolean {
  return /^127\.\d+\.\d+\.\d+$/.test(address) || address === '::1' || address === 'localhost';
}

function serviceTypeOption(value: string | undefined): ServiceType | undefined {
  if (value === undefined) return undefined;
  const type = SERVICE_TYPES.find((known) => known === value);
  if (!type) throw new UsageError(`--type takes ${SERVICE_TYPES.join(', ')}, not '${value}'`);
  return type;
}

/**
 * The services and the command: the words before -- name more services, those after it are the
 * command. Several services need a program after -- or --no-client: a native client takes one.
 */
function servicesAndCommand(serviceName: string, words: string[], afterDashDash: number, noClient: boolean): { serviceNames: string[]; command: string[] } {
  const serviceNames = [serviceName, ...words.slice(0, words.length - afterDashDash)];
  const command = words.slice(words.length - afterDashDash);
  if (serviceNames.length === 1) return { serviceNames, command };
  const [program] = command;
  if (!noClient && (program === undefined || program.startsWith('-'))) {
    throw new UsageError(`a native client takes one service: with several (${serviceNames.join(', ')}), give a program after -- (-- COMMAND ARGS...) or --no-client`);
  }
  const prefixes = new Map<string, string>();
  for (const name of serviceNames) {
    const same = prefixes.get(variablePrefix(name));
    if (same === name) throw new UsageError(`service '${name}' is named twice`);
    if (same !== undefined) throw new UsageError(`services '${same}' and '${name}' would share the variable prefix ${variablePrefix(name)}_: tunnel them in separate runs`);
    prefixes.set(variablePrefix(name), name);
  }
  return { serviceNames, command };
}

export const run: CommandRun<(typeof SPECS)['connect-to-service']> = async (ctx, { args: { appName, serviceInstance, command: words }, options, afterDashDash }) => {
  const source = options.credentials ?? 'binding';
  if (source !== 'binding' && source !== 'key') throw new UsageError(`--credentials takes binding or key, not '${source}'`);
  const { noClient } = options;
  const bind = bindAddress(options.bind);
  if (!isLoopback(bind) && !options.allowRemote) {
    throw new UsageError(`--bind ${bind} makes the tunnel, and the service behind it, reachable from the network: give --allow-remote too if that is meant`);
  }
  // Without --, every word names a service.
  const { serviceNames, command } = servicesAndCommand(serviceInstance, words, afterDashDash ?? 0, noClient);
  if (noClient && command.length > 0) throw new UsageError('The following arguments cannot be used together: --no-client, COMMAND');
  if (serviceNames.length > 1 && options.localPort !== undefined) throw new UsageError('--local-port takes one service: several each get a free port');
  if (serviceNames.length > 1 && options.type !== undefined) throw new UsageError('--type takes one service: with several, each type is detected');
  const request: ServiceTunnelRequest = {
    appName,
    serviceNames,
    index: instanceIndex(options.appInstanceIndex),
    credentials: source,
    type: serviceTypeOption(options.type),
    noClient,
    command,
    local: { bind, port: localPort(options.localPort), remote: !isLoopback(bind) },
    interactive: ctx.term.stdinIsTTY,
    insecureTls: options.insecureTls,
  };

  checkSshSettings(ctx.env);
  const cf = await loggedInClients(ctx, 'space', ctx.term.notice);
  return connectToService(ctx, cf, request, {
    notice: ctx.term.notice,
    spin: (text, work) => ctx.term.spin(text, work),
    tunnelOpen: (tunnel) => printDetails(ctx, tunnel, options.showPassword),
  });
};
