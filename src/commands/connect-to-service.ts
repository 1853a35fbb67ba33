import { loggedInClients } from '../actions/cf-clients.js';
import { bindingCredentials, openTunnel, type ServiceCredentials, serviceKeyCredentials } from '../actions/connect.js';
import { findProgram, runLocalProgram } from '../actions/local-program.js';
import { findApp } from '../actions/lookup.js';
import type { Context } from '../context.js';
import { UsageError, UserError } from '../errors.js';
import { connectionUrl, type LocalEnd, nativeClient } from '../services/clients.js';
import { type Connection, detectType, parseConnection, SERVICE_TYPES, type ServiceType } from '../services/credentials.js';
import { programEnvironment } from '../services/program-env.js';
import { ConnectionLostError } from '../ssh/client.js';
import { signalExitCode } from '../ssh/session.js';
import type { CommandRun } from './command-spec.js';
import { instanceIndex, localPort } from './option-values.js';
import type { SPECS } from './specs.js';

function printDetails(ctx: Context, name: string, type: ServiceType | undefined, conn: Connection, local: LocalEnd, showPassword: boolean): void {
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
  const clientArgs = isProgram ? [] : rest;
  const command = isProgram ? rest : [];
  const index = instanceIndex(options.appInstanceIndex);
  const port = localPort(options.localPort);
  const bind = options.bind ?? '127.0.0.1';
  const source = options.credentials ?? 'binding';
  if (source !== 'binding' && source !== 'key') throw new UsageError(`--credentials takes binding or key, not '${source}'`);
  const givenType = serviceTypeOption(options.type);
  const { noClient } = options;
  if (noClient && rest.length > 0) throw new UsageError('The following arguments cannot be used together: --no-client, COMMAND');

  const cf = await loggedInClients(ctx, 'space', ctx.term.notice);
  const app = await findApp(cf, appName);
  // From here on a stop signal must not skip the clean-up (a service key, the tunnel): it is
  // noted, and the work stops at the next step.
  let stoppedBy: NodeJS.Signals | undefined;
  let wake = () => {};
  const stopSignals = ctx.onSignals((signal) => {
    stoppedBy = signal;
    wake();
  });
  const stopIfAsked = () => {
    if (stoppedBy) throw new UserError(`Stopped by ${stoppedBy}.`, signalExitCode(stoppedBy));
  };
  try {
    const credentials: ServiceCredentials =
      source === 'key'
        ? await ctx.term.spin(`Creating a service key for ${serviceName}...`, () => serviceKeyCredentials(cf, serviceName, ctx.term.notice))
        : await bindingCredentials(cf, app, serviceName);
    try {
      stopIfAsked();
      const { binding } = credentials;
      const detection = detectType(binding);
      const type = givenType ?? detection.type;
      const conn = parseConnection(binding.credentials, type);
      if (!conn) {
        const keys = Object.keys(binding.credentials).join(', ') || 'none';
        throw new UserError(`Service instance '${serviceName}' has no host and port in its credentials (fields: ${keys}): there is nothing to tunnel to.`);
      }
      const tunnel = await ctx.term.spin(`Opening a tunnel to ${serviceName} through ${appName}...`, () =>
        openTunnel(ctx, cf, appName, index, conn, { bind, port }, ctx.term.notice),
      );
      try {
        stopIfAsked();
        if (command.length > 0) return await runLocalProgram(ctx, programEnvironment(command, type, binding, conn, tunnel.local));
        let why: string | undefined;
        if (!noClient && !type) why = `the type of '${serviceName}' could not be told (${detection.evidence.join(', ') || 'no hints'}); give it with --type`;
        const launch = type && !noClient && !why ? nativeClient(type, conn, tunnel.local) : undefined;
        if (launch && !(await findProgram(launch.programs, ctx.env))) why = `${launch.programs.join(' or ')} is not installed (Debian/Ubuntu package: ${launch.debianPackage})`;
        if (launch && !why) return await runLocalProgram(ctx, { ...launch, args: [...launch.args, ...clientArgs] });
        if (why) ctx.term.err(`No client started: ${why}.`);
        printDetails(ctx, serviceName, type, conn, tunnel.local, options.showPassword);
        ctx.term.err('Press Ctrl-C to close the tunnel.');
        const lost = await new Promise<boolean>((resolve) => {
          wake = () => resolve(false);
          if (stoppedBy) resolve(false);
          tunnel.connection.once('close', () => resolve(true));
        });
        if (lost && !stoppedBy) throw new ConnectionLostError('the connection closed');
        return 0;
      } finally {
        tunnel.close();
      }
    } finally {
      if (source === 'key') await ctx.term.spin('Deleting the service key...', () => credentials.release());
      else await credentials.release();
    }
  } finally {
    stopSignals();
  }
};
