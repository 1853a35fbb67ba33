import { loggedInClients } from '../actions/cf-clients.js';
import { findProgram } from '../actions/local-program.js';
import { connectToService, type OpenTunnel, type ServiceTunnelRequest } from '../actions/service-tunnel.js';
import type { Context } from '../context.js';
import { UsageError } from '../errors.js';
import { connectionUrl } from '../services/clients.js';
import { SERVICE_TYPES, type ServiceType } from '../services/credentials.js';
import { checkSshSettings } from '../ssh/settings.js';
import type { CommandRun } from './command-spec.js';
import { bindAddress, instanceIndex, localPort } from './option-values.js';
import type { SPECS } from './specs.js';

function printDetails(ctx: Context, { serviceName: name, type, connection: conn, local }: OpenTunnel, showPassword: boolean): void {
  const row = (label: string, value: string | undefined) => value !== undefined && ctx.term.out(`  ${`${label}:`.padEnd(10)} ${value}`);
  ctx.term.out(`Tunnel to ${name}${type ? ` (${type})` : ''} is open:`);
  row('host', local.host);
  row('port', String(local.port));
  row('database', conn.database);
  row('username', conn.username);
  if (conn.password !== undefined) row('password', showPassword ? conn.password : '******** (--show-password shows it)');
  if (conn.tls.required) row('tls', `required${conn.tls.ca ? ' (the service has its own CA)' : ''}; the certificate names ${conn.host}`);
  if (type) row('url', connectionUrl(type, conn, local, showPassword));
}

function serviceTypeOption(value: string | undefined): ServiceType | undefined {
  if (value === undefined) return undefined;
  const type = SERVICE_TYPES.find((known) => known === value);
  if (!type) throw new UsageError(`--type takes ${SERVICE_TYPES.join(', ')}, not '${value}'`);
  return type;
}

export const run: CommandRun<(typeof SPECS)['connect-to-service']> = async (ctx, { args: { appName, serviceInstance: serviceName, command: rest }, options }) => {
  // After --, a program to run (`-- pg_dump ...`) when the first word is one (on PATH, or a
  // path); otherwise more arguments for the native client (`-- -c 'select 1'`, `-- PING`).
  const [first] = rest;
  const isProgram = first !== undefined && !first.startsWith('-') && (first.includes('/') || (await findProgram([first], ctx.env)) !== undefined);
  const source = options.credentials ?? 'binding';
  if (source !== 'binding' && source !== 'key') throw new UsageError(`--credentials takes binding or key, not '${source}'`);
  const { noClient } = options;
  if (noClient && rest.length > 0) throw new UsageError('The following arguments cannot be used together: --no-client, COMMAND');
  const request: ServiceTunnelRequest = {
    appName,
    serviceName,
    index: instanceIndex(options.appInstanceIndex),
    credentials: source,
    type: serviceTypeOption(options.type),
    noClient,
    command: isProgram ? rest : [],
    clientArgs: isProgram ? [] : rest,
    local: { bind: bindAddress(options.bind), port: localPort(options.localPort) },
    interactive: ctx.term.stdinIsTTY,
  };

  checkSshSettings(ctx.env);
  const cf = await loggedInClients(ctx, 'space', ctx.term.notice);
  return connectToService(ctx, cf, request, {
    notice: ctx.term.notice,
    spin: (text, work) => ctx.term.spin(text, work),
    tunnelOpen: (tunnel) => printDetails(ctx, tunnel, options.showPassword),
  });
};
