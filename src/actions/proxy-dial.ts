// The system ssh's way through the user's proxy: `--ssh-client openssh` gives ssh a
// ProxyCommand that runs us again with this entry, which dials the SSH endpoint as our own
// client does (all_proxy SOCKS5, https_proxy CONNECT, no_proxy) and relays stdin and stdout.
import type { Readable, Writable } from 'node:stream';
import { describeError } from '../errors.js';
import { dial } from '../ssh/dial.js';
import { dialTimeoutMs } from '../ssh/settings.js';

/** Not a command anyone types: the first argument that selects this entry. */
export const PROXY_DIAL = '__proxy-dial';

const sh = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;

/** ssh's ProxyCommand for running `self` (our own executable, and the script when unpackaged) with this entry; % is ssh's token sign. */
export function proxyCommand(self: readonly string[]): string {
  return [...self.map((word) => sh(word.replaceAll('%', '%%'))), PROXY_DIAL, '%h', '%p'].join(' ');
}

export async function relayThroughProxy(args: string[], streams: { stdin: Readable; stdout: Writable; stderr: Writable }, env: NodeJS.ProcessEnv): Promise<number> {
  const [host, portText] = args;
  const port = Number(portText);
  if (!host || !Number.isInteger(port) || port < 1 || port > 65535) {
    streams.stderr.write(`${PROXY_DIAL} takes HOST PORT (it is ssh's ProxyCommand).\n`);
    return 2;
  }
  let socket;
  try {
    socket = await dial(host, port, { env, timeoutMs: dialTimeoutMs(env) });
  } catch (err) {
    streams.stderr.write(`${describeError(err).message}\n`);
    return 255;
  }
  const open = socket;
  return new Promise((resolve) => {
    streams.stdin.pipe(open);
    open.pipe(streams.stdout);
    open.once('close', () => resolve(0));
    open.on('error', () => undefined);
  });
}
