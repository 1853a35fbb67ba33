import { loggedInClients } from '../actions/cf-clients.js';
import { appEnvCommand } from '../actions/ssh.js';
import { runSsh } from '../actions/ssh-run.js';
import { UsageError } from '../errors.js';
import { type ForwardSpec, parseForwardSpec } from '../ssh/forward-spec.js';
import { checkSshSettings } from '../ssh/settings.js';
import type { CommandInput, CommandRun } from './command-spec.js';
import { chooseInstance } from './instance-picker.js';
import { instanceIndex, remoteCommand } from './option-values.js';
import { runOnManyInstances } from './ssh-all-instances.js';
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
  const sent = options.appEnv ? appEnvCommand(joined) : joined;
  const command = sent === undefined ? undefined : remoteCommand(sent);
  const pty = !options.skipRemoteExecution && wantsPty(mode, joined !== undefined, ctx.term.stdinIsTTY);
  // cf takes instance 0 for -c and -N; only a person at an interactive shell is asked.
  const interactiveShell = ctx.term.stdinIsTTY && ctx.term.stdoutIsTTY && joined === undefined && !options.skipRemoteExecution;

  checkSshSettings(ctx.env);
  const onMany = await runOnManyInstances(ctx, appName, options, command, sshArgs);
  if (onMany !== undefined) return onMany;
  const cf = await loggedInClients(ctx, 'space', ctx.term.notice);
  return runSsh(
    ctx,
    cf,
    {
      appName,
      processType: options.process ?? 'web',
      index,
      chooser: interactiveShell ? (app, process, stats) => chooseInstance(ctx, app, process, stats) : undefined,
      command: options.skipRemoteExecution ? undefined : command,
      ptyTerm: pty ? ctx.env.TERM || 'xterm' : undefined,
      noCommand: options.skipRemoteExecution,
      forwards,
      skipHostValidation: options.skipHostValidation,
      client,
      openSshArgs: sshArgs,
    },
    ctx.term,
  );
};
