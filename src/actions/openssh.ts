// --ssh-client openssh: the system ssh binary takes over the connection, with the right
// user and port, the one-time code handed over through SSH_ASKPASS (never on a command
// line), and a known_hosts file pinned to the host key that matches the published fingerprint.
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Context } from '../context.js';
import { UserError } from '../errors.js';
import { dialTimeoutMs, route } from '../ssh/dial.js';
import { verifyHostKey } from '../ssh/fingerprint.js';
import type { ForwardSpec } from '../ssh/forward-spec.js';
import { knownHostsLine, readHostKey } from '../ssh/host-key.js';
import { signalExitCode } from '../ssh/session.js';
import type { CfSession } from './session.js';
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
    '-p', String(endpoint.port),
    ...hostCheck,
    '-o', 'PubkeyAuthentication=no',
    '-o', 'PreferredAuthentications=password,keyboard-interactive',
    '-o', 'NumberOfPasswordPrompts=1',
    '-o', `ServerAliveInterval=${keepaliveMs(env) / 1000}`,
    ...(options.noCommand ? ['-N'] : options.pty ? ['-tt'] : ['-T']),
    ...options.forwards.flatMap((f) => ['-L', `${bracketed(f.bindAddress)}:${f.localPort}:${bracketed(f.remoteHost)}:${f.remotePort}`]),
    ...options.extraArgs,
    `${sshUsername(target)}@${endpoint.host}`,
    ...(options.command === undefined ? [] : [options.command]),
  ];
}

export async function handOffToOpenSsh(
  ctx: Context,
  session: CfSession,
  endpoint: SshEndpoint,
  target: InstanceTarget,
  options: OpenSshOptions,
): Promise<number> {
  if (route(endpoint.host, endpoint.port, ctx.env).kind !== 'direct') {
    ctx.term.err('Note: the system ssh connects directly; give it a ProxyCommand in ~/.ssh/config to go through your proxy.');
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cf-ssh-tools-'));
  try {
    let knownHosts: string | undefined;
    if (!options.skipHostValidation) {
      const key = await readHostKey(endpoint.host, endpoint.port, { env: ctx.env, timeoutMs: dialTimeoutMs(ctx.env) });
      verifyHostKey(endpoint.fingerprint, key);
      knownHosts = path.join(dir, 'known_hosts');
      await writeFile(knownHosts, `${knownHostsLine(endpoint.host, endpoint.port, key)}\n`, { mode: 0o600 });
    }
    const askpass = path.join(dir, 'askpass');
    await writeFile(askpass, `#!/bin/sh\nprintf '%s\\n' "$${CODE_VARIABLE}"\n`, { mode: 0o700 });
    await chmod(askpass, 0o700);
    const code = await oneTimeCode(session, endpoint.root);
    const child = ctx.spawn('ssh', openSshArgs(endpoint, target, knownHosts, options, ctx.env), {
      stdio: 'inherit',
      env: { ...ctx.env, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ctx.env.DISPLAY || ':0', [CODE_VARIABLE]: code },
    });
    // ssh owns the terminal now: Ctrl-C is for it, not for us.
    const stopSignals = ctx.onSignals(() => undefined);
    try {
      return await new Promise<number>((resolve, reject) => {
        child.once('error', (err: NodeJS.ErrnoException) =>
          reject(err.code === 'ENOENT' ? new UserError("No ssh program on PATH (Debian/Ubuntu: apt-get install openssh-client). Leave out '--ssh-client openssh' to use the built-in client.") : err),
        );
        child.once('exit', (status, signal) => resolve(status ?? signalExitCode(signal ?? 'TERM')));
      });
    } finally {
      stopSignals();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
