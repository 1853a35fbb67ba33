import { handOffToOpenSsh } from '../actions/openssh.js';
import { loggedInClients } from '../actions/cf-clients.js';
import { appEnvCommand, connectToInstance, ensureSshEnabled, findInstance, type InstanceChooser, sshEndpoint } from '../actions/ssh.js';
import { UsageError, UserError } from '../errors.js';
import { ConnectionLostError } from '../ssh/client.js';
import { openForwards } from '../ssh/forward.js';
import { type ForwardSpec, parseForwardSpec } from '../ssh/forward-spec.js';
import { runSession, type SessionEnd, signalExitCode } from '../ssh/session.js';
import type { CommandInput, CommandRun } from './command-spec.js';
import { chooseInstance } from './instance-picker.js';
import { instanceIndex } from './option-values.js';
import type { SPECS } from './specs.js';

export type PtyMode = 'force' | 'disable' | 'request' | 'auto';

/** cf's rule: force → always; -T → never; -t → when stdin is a terminal; else only for a shell on a terminal. */
export function wantsPty(mode: PtyMode, hasCommand: boolean, stdinIsTTY: boolean): boolean {
  if (mode === 'force') return true;
  if (mode === 'disable') return false;
  if (mode === 'request') return stdinIsTTY;
  return !hasCommand && stdinIsTTY;
}

type SshOptions = CommandInput<typeof SPECS.ssh>['options'];

function ptyMode(options: SshOptions): PtyMode {
  const requests = options.requestPseudoTty;
  const given = [
    options.disablePseudoTty && '--disable-pseudo-tty, -T',
    (options.forcePseudoTty || requests > 1) && '--force-pseudo-tty',
    requests === 1 && '--request-pseudo-tty, -t',
  ].filter(Boolean);
  if (given.length > 1) {
    throw new UsageError('The following arguments cannot be used together: --disable-pseudo-tty, -T, --force-pseudo-tty, --request-pseudo-tty, -t');
  }
  if (options.disablePseudoTty) return 'disable';
  if (options.forcePseudoTty || requests > 1) return 'force';
  return requests === 1 ? 'request' : 'auto';
}

export const run: CommandRun<typeof SPECS.ssh> = async (ctx, { args: { appName, sshArgs }, options }) => {
  const mode = ptyMode(options);
  const index = instanceIndex(options.appInstanceIndex);
  const forwards: ForwardSpec[] = options.forwards.map(parseForwardSpec);
  const client = options.sshClient ?? 'builtin';
  if (client !== 'builtin' && client !== 'openssh') throw new UsageError(`--ssh-client takes builtin or openssh, not '${client}'`);
  if (sshArgs.length > 0 && client !== 'openssh') throw new UsageError(`unexpected argument "${sshArgs.join(' ')}": arguments after -- go to --ssh-client openssh`);

  const joined = options.command.length > 0 ? options.command.join(' ') : undefined;
  const command = options.appEnv ? appEnvCommand(joined) : joined;
  const pty = !options.skipRemoteExecution && wantsPty(mode, joined !== undefined, ctx.term.stdinIsTTY);

  const cf = await loggedInClients(ctx, 'space', ctx.term.notice);
  const endpoint = await sshEndpoint(cf);
  const interactive = ctx.term.stdinIsTTY && ctx.term.stdoutIsTTY;
  const chooser: InstanceChooser | undefined = interactive ? (app, process, stats) => chooseInstance(ctx, app, process, stats) : undefined;
  const target = await findInstance(cf, appName, options.process ?? 'web', index, chooser);
  await ensureSshEnabled(cf, target.app, ctx.bin);

  if (client === 'openssh') {
    return handOffToOpenSsh(
      ctx,
      cf,
      endpoint,
      target,
      {
        command: options.skipRemoteExecution ? undefined : command,
        pty,
        noCommand: options.skipRemoteExecution,
        forwards,
        skipHostValidation: options.skipHostValidation,
        extraArgs: sshArgs,
      },
      ctx.term.notice,
    );
  }

  const connection = await ctx.term.spin(`Connecting to ${appName}/${target.index}...`, () => connectToInstance(ctx, cf, endpoint, target, options.skipHostValidation));
  let stoppedBy: NodeJS.Signals | undefined;
  const stopSignals = ctx.onSignals((signal) => {
    stoppedBy = signal;
    connection.end();
  });
  try {
    const forwarding = await openForwards(connection, forwards, (message) => ctx.term.err(message));
    for (const { spec, address, port } of forwarding.listening) {
      if (spec.localPort === 0) ctx.term.err(`Forwarding ${address}:${port} to ${spec.remoteHost}:${spec.remotePort}`);
    }
    if (options.skipRemoteExecution) {
      ctx.term.err('Tunnels are open. Press Ctrl-C to close them.');
      await new Promise<void>((resolve) => connection.once('close', () => resolve()));
      if (stoppedBy) return 0;
      throw new ConnectionLostError('the connection closed');
    }
    const end = await runSession(connection, { command, pty: pty ? { term: ctx.env.TERM || 'xterm' } : undefined, streams: ctx.term.streams }).catch((err: unknown) => {
      // Our own end() after a signal closes the connection: that is no loss.
      if (stoppedBy && err instanceof ConnectionLostError) return {} as SessionEnd;
      throw err;
    });
    forwarding.close();
    if (end.code !== undefined) return end.code;
    if (stoppedBy) return signalExitCode(stoppedBy);
    if (end.signal) {
      const code = signalExitCode(end.signal);
      ctx.term.err(`Process terminated by signal: ${end.signal}. Exited with ${code}`);
      return code;
    }
    throw new UserError('The remote process ended without an exit status.');
  } finally {
    stopSignals();
    connection.end();
  }
};
