// What `cf-ssh-tools ssh` does once its input is understood: find the instance, connect, open
// the forwards, then run a shell or command, hold the tunnels, or hand the connection to the
// system ssh, all as one lifecycle, so every way out cleans up the same way.
import type { CfClients } from './cf-clients.js';
import type { Context } from '../context.js';
import { signalExitCode, UserError } from '../errors.js';
import { openForwards } from '../ssh/forward.js';
import type { ForwardSpec } from '../ssh/forward-spec.js';
import { runSession } from '../ssh/session.js';
import { keepaliveMs } from '../ssh/settings.js';
import { type Lifecycle, type Reporter, withLifecycle } from './lifecycle.js';
import { handOffToOpenSsh } from './openssh.js';
import { openInstanceConnection } from './instance-connection.js';
import { ensureSshEnabled, findInstance, type InstanceChooser, sshEndpoint } from './ssh.js';

export interface SshRequest {
  appName: string;
  processType: string;
  index?: number;
  /** Asks which instance when several run and no index was given (an interactive shell only). */
  chooser?: InstanceChooser;
  /** exec this; a shell when undefined. */
  command?: string;
  /** TERM for the remote pseudo-terminal; no PTY when undefined. */
  ptyTerm?: string;
  /** -N: no session, only the forwards, until stopped. */
  noCommand: boolean;
  forwards: ForwardSpec[];
  skipHostValidation: boolean;
  client: 'builtin' | 'openssh';
  /** After --, for the system ssh. */
  openSshArgs: string[];
}

/** Runs the request to its end; the remote command's exit status (or OpenSSH's). */
export async function runSsh(ctx: Context, cf: CfClients, request: SshRequest, reporter: Reporter): Promise<number> {
  return withLifecycle(ctx, reporter, async (life) => {
    if (request.client === 'builtin') {
      // The picker answers from the look-ups before anything connects: no connection waits on a person.
      const picked =
        request.index === undefined && request.chooser ? await life.until(findInstance(cf, request.appName, request.processType, undefined, request.chooser)) : undefined;
      return runBuiltin(ctx, cf, { ...request, index: picked?.index ?? request.index ?? 0 }, life, reporter);
    }
    const endpoint = await life.until(sshEndpoint(cf));
    const target = await life.until(findInstance(cf, request.appName, request.processType, request.index, request.chooser));
    await life.until(ensureSshEnabled(cf, target.app, ctx.bin));
    const handOff = {
      command: request.command,
      pty: request.ptyTerm !== undefined,
      noCommand: request.noCommand,
      forwards: request.forwards,
      skipHostValidation: request.skipHostValidation,
      extraArgs: request.openSshArgs,
    };
    return handOffToOpenSsh(ctx, cf, endpoint, target, handOff, life);
  });
}

async function runBuiltin(ctx: Context, cf: CfClients, request: SshRequest & { index: number }, life: Lifecycle, reporter: Reporter): Promise<number> {
  const { connection } = await reporter.spin(`Connecting to ${request.appName}/${request.index}...`, () => life.until(openInstanceConnection(ctx, cf, request, life.signal)));
  life.watch(connection, keepaliveMs(ctx.env));
  const forwarding = await life.until(openForwards(connection, request.forwards, reporter.notice));
  life.defer('the forwarded ports', () => forwarding.close());
  for (const { spec, address, port } of forwarding.listening) {
    if (spec.localPort === 0) reporter.notice(`Forwarding ${address}:${port} to ${spec.remoteHost}:${spec.remotePort}`);
  }
  if (request.noCommand) {
    reporter.notice(
      request.forwards.length > 0
        ? 'Tunnels are open. Press Ctrl-C to close them.'
        : `Connected to ${request.appName}/${request.index}, with no command and no tunnels (-N without -L). Press Ctrl-C to disconnect.`,
    );
    return life.stopped();
  }
  const end = await runSession(connection, { command: request.command, pty: request.ptyTerm ? { term: request.ptyTerm } : undefined, streams: ctx.term.streams }, life.signal);
  if (end.code !== undefined) return end.code;
  if (end.signal) {
    const code = signalExitCode(end.signal);
    reporter.notice(`Process terminated by signal: ${end.signal}. Exited with ${code}`);
    return code;
  }
  throw new UserError('The remote process ended without an exit status.');
}
