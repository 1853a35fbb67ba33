// --ssh-client openssh: the system ssh binary takes over the connection, with the right
// user and port, the one-time code handed over through SSH_ASKPASS (never on a command
// line), and a known_hosts file pinned to the host key that matches the published fingerprint.
import type { Context } from '../context.js';
import { UserError } from '../errors.js';
import { route } from '../ssh/dial.js';
import { proxyCommand } from './proxy-dial.js';
import { dialTimeoutMs, KEEPALIVE_COUNT_MAX, keepaliveMs } from '../ssh/settings.js';
import { verifyHostKey } from '../ssh/fingerprint.js';
import type { ForwardSpec } from '../ssh/forward-spec.js';
import { knownHostsLine, readHostKey } from '../ssh/host-key.js';
import type { ClientFile } from '../services/clients.js';
import { MissingProgramError, runLocalProgram } from './local-program.js';
import type { CfClients } from './cf-clients.js';
import type { Lifecycle } from './lifecycle.js';
import { type InstanceTarget, type SshEndpoint, sshUsername } from './ssh.js';
import { oneTimeCode } from './ssh-code.js';

export interface OpenSshOptions {
  command?: string;
  pty: boolean;
  noCommand: boolean;
  forwards: ForwardSpec[];
  skipHostValidation: boolean;
  /** Given after --, passed to ssh as they are. */
  extraArgs: string[];
  /** How ssh reaches the endpoint when a proxy is set: through us (proxy-dial.ts). */
  proxyCommand?: string;
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
    // The user's own options first: for ssh, the first value given for an option wins.
    ...options.extraArgs,
    ...hostCheck,
    '-o',
    'PubkeyAuthentication=no',
    '-o',
    'PreferredAuthentications=password,keyboard-interactive',
    '-o',
    'NumberOfPasswordPrompts=1',
    // Ours, so the system ssh gives up on a silent endpoint or a dead connection as we do.
    '-o',
    `ConnectTimeout=${Math.ceil(dialTimeoutMs(env) / 1000)}`,
    '-o',
    `ServerAliveInterval=${keepaliveMs(env) / 1000}`,
    '-o',
    `ServerAliveCountMax=${KEEPALIVE_COUNT_MAX}`,
    ...(options.proxyCommand ? ['-o', `ProxyCommand=${options.proxyCommand}`] : []),
    ...(options.noCommand ? ['-N'] : options.pty ? ['-tt'] : ['-T']),
    ...options.forwards.flatMap((f) => ['-L', `${bracketed(f.bindAddress)}:${f.localPort}:${bracketed(f.remoteHost)}:${f.remotePort}`]),
    `${sshUsername(target)}@${endpoint.host}`,
    ...(options.command === undefined ? [] : [options.command]),
  ];
}

/** The system ssh runs as part of `life`: ended, and its files removed, on every way out. */
export async function handOffToOpenSsh(ctx: Context, cf: CfClients, endpoint: SshEndpoint, target: InstanceTarget, options: OpenSshOptions, life: Lifecycle): Promise<number> {
  const proxied = route(endpoint.host, endpoint.port, ctx.env).kind !== 'direct';
  const files: ClientFile[] = [{ name: 'askpass', content: `#!/bin/sh\nprintf '%s\\n' "$${CODE_VARIABLE}"\n`, executable: true }];
  if (!options.skipHostValidation) {
    const key = await life.until(readHostKey(endpoint.host, endpoint.port, { env: ctx.env, timeoutMs: dialTimeoutMs(ctx.env) }));
    verifyHostKey(endpoint.fingerprint, key);
    files.push({ name: 'known_hosts', content: `${knownHostsLine(endpoint.host, endpoint.port, key)}\n` });
  }
  const code = await life.until(oneTimeCode(cf, endpoint));
  try {
    return await runLocalProgram(
      ctx,
      {
        programs: ['ssh'],
        prepare: (inFolder) => ({
          args: openSshArgs(
            endpoint,
            target,
            options.skipHostValidation ? undefined : inFolder('known_hosts'),
            { ...options, proxyCommand: proxied ? proxyCommand(ctx.self) : undefined },
            ctx.env,
          ),
          env: { SSH_ASKPASS: inFolder('askpass'), SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ctx.env.DISPLAY || ':0', [CODE_VARIABLE]: code },
          files,
        }),
      },
      life,
    );
  } catch (err) {
    if (err instanceof MissingProgramError) {
      throw new UserError("No ssh program on PATH (Debian/Ubuntu: apt-get install openssh-client). Leave out '--ssh-client openssh' to use the built-in client.");
    }
    throw err;
  }
}
