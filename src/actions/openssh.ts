// --ssh-client openssh: the system ssh binary takes over the connection, with the right
// user and port, the one-time code handed over through SSH_ASKPASS (never on a command
// line), and a known_hosts file pinned to the host key that matches the published fingerprint.
import type { Context } from '../context.js';
import { UserError } from '../errors.js';
import { dialTimeoutMs, route } from '../ssh/dial.js';
import { verifyHostKey } from '../ssh/fingerprint.js';
import type { ForwardSpec } from '../ssh/forward-spec.js';
import { knownHostsLine, readHostKey } from '../ssh/host-key.js';
import type { ClientFile } from '../services/clients.js';
import { MissingProgramError, runLocalProgram } from './local-program.js';
import type { CfClients } from './cf-clients.js';
import { type InstanceTarget, keepaliveMs, type SshEndpoint, sshUsername } from './ssh.js';
import { oneTimeCode } from './ssh-code.js';

export interface OpenSshOptions {
  command?: string;
  pty: boolean;
  noCommand: boolean;
  forwards: ForwardSpec[];
  skipHostValidation: boolean;
  /** Given after --, passed to ssh as they are. */
  extraArgs: string[];
}

const CODE_VARIABLE = 'CF_SSH_TOOLS_ONE_TIME_CODE';
const bracketed = (host: string) => (host.includes(':') ? `[${host}]` : host);

export function openSshArgs(endpoint: SshEndpoint, target: InstanceTarget, knownHosts: string | undefined, options: OpenSshOptions, env: NodeJS.ProcessEnv): string[] {
  const hostCheck = knownHosts
    ? ['-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'StrictHostKeyChecking=yes']
    : ['-o', 'UserKnownHostsFile=/dev/null', '-o', 'StrictHostKeyChecking=no', '-o', 'LogLevel=ERROR'];
  return [
    '-p',
    String(endpoint.port),
    ...hostCheck,
    '-o',
    'PubkeyAuthentication=no',
    '-o',
    'PreferredAuthentications=password,keyboard-interactive',
    '-o',
    'NumberOfPasswordPrompts=1',
    '-o',
    `ServerAliveInterval=${keepaliveMs(env) / 1000}`,
    ...(options.noCommand ? ['-N'] : options.pty ? ['-tt'] : ['-T']),
    ...options.forwards.flatMap((f) => ['-L', `${bracketed(f.bindAddress)}:${f.localPort}:${bracketed(f.remoteHost)}:${f.remotePort}`]),
    ...options.extraArgs,
    `${sshUsername(target)}@${endpoint.host}`,
    ...(options.command === undefined ? [] : [options.command]),
  ];
}

/** `onNotice` is where a note for the user goes: the command prints it. */
export async function handOffToOpenSsh(
  ctx: Context,
  cf: CfClients,
  endpoint: SshEndpoint,
  target: InstanceTarget,
  options: OpenSshOptions,
  onNotice: (message: string) => void,
): Promise<number> {
  if (route(endpoint.host, endpoint.port, ctx.env).kind !== 'direct') {
    onNotice('Note: the system ssh connects directly; give it a ProxyCommand in ~/.ssh/config to go through your proxy.');
  }
  const files: ClientFile[] = [{ name: 'askpass', content: `#!/bin/sh\nprintf '%s\\n' "$${CODE_VARIABLE}"\n`, executable: true }];
  if (!options.skipHostValidation) {
    const key = await readHostKey(endpoint.host, endpoint.port, { env: ctx.env, timeoutMs: dialTimeoutMs(ctx.env) });
    verifyHostKey(endpoint.fingerprint, key);
    files.push({ name: 'known_hosts', content: `${knownHostsLine(endpoint.host, endpoint.port, key)}\n` });
  }
  const code = await oneTimeCode(cf, endpoint.root);
  try {
    return await runLocalProgram(ctx, {
      programs: ['ssh'],
      args: openSshArgs(endpoint, target, options.skipHostValidation ? undefined : '{dir}/known_hosts', options, ctx.env),
      env: { SSH_ASKPASS: '{dir}/askpass', SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ctx.env.DISPLAY || ':0', [CODE_VARIABLE]: code },
      files,
    });
  } catch (err) {
    if (err instanceof MissingProgramError) {
      throw new UserError("No ssh program on PATH (Debian/Ubuntu: apt-get install openssh-client). Leave out '--ssh-client openssh' to use the built-in client.");
    }
    throw err;
  }
}
