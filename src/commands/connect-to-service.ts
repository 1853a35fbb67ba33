import { loggedInClients } from '../actions/cf-clients.js';
import { connectToService, type OpenTunnel, type ServiceTunnelRequest } from '../actions/service-tunnel.js';
import type { Context } from '../context.js';
import { UsageError } from '../errors.js';
import { connectionUrl } from '../services/clients.js';
import { SERVICE_TYPES, type ServiceType } from '../services/credentials.js';
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

export const run: CommandRun<(typeof SPECS)['connect-to-service']> = async (ctx, { args: { appName, serviceInstance: serviceName, command: rest }, options }) => {
  const source = options.credentials ?? 'binding';
  if (source !== 'binding' && source !== 'key') throw new UsageError(`--credentials takes binding or key, not '${source}'`);
  const { noClient } = options;
  const bind = bindAddress(options.bind);
  if (!isLoopback(bind) && !options.allowRemote) {
    throw new UsageError(`--bind ${bind} makes the tunnel, and the service behind it, reachable from the network: give --allow-remote too if that is meant`);
  }
  if (noClient && rest.length > 0) throw new UsageError('The following arguments cannot be used together: --no-client, COMMAND');
  const request: ServiceTunnelRequest = {
    appName,
    serviceName,
    index: instanceIndex(options.appInstanceIndex),
    credentials: source,
    type: serviceTypeOption(options.type),
    noClient,
    command: rest,
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
