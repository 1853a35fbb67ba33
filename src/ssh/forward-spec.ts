// -L [BIND_ADDRESS:]LOCAL_PORT:REMOTE_HOST:REMOTE_PORT, as cf parses it, plus IPv6
// addresses in brackets ([::1]:8080:[fd00::1]:80) and a check that ports are ports and hosts
// are hosts (a malformed bind address is refused here, not looked up in DNS).
import { UsageError } from '../errors.js';
import { notAHost, parseHost, splitOnColons } from '../net/hosts.js';

export interface ForwardSpec {
  bindAddress: string;
  localPort: number;
  remoteHost: string;
  remotePort: number;
  /** The option the user set it with, for messages (default -L). */
  option?: string;
}

function port(value: string, spec: string, which: string): number {
  if (!/^\d+$/.test(value)) throw new UsageError(`Bad local forwarding specification '${spec}'`);
  const n = Number(value);
  const lowest = which === 'local' ? 0 : 1;
  if (n < lowest || n > 65535) throw new UsageError(`Bad local forwarding specification '${spec}': the ${which} port must be between ${lowest} and 65535`);
  return n;
}

/** A local address to listen on, as given (an IPv6 one bare or in brackets), without brackets; undefined when it names no host. */
export function parseBindAddress(text: string): string | undefined {
  return parseHost(text);
}

function host(value: string, spec: string): string {
  const parsed = parseHost(value);
  if (parsed === undefined) throw new UsageError(`Bad local forwarding specification '${spec}': ${notAHost(value)}`);
  return parsed;
}

export function parseForwardSpec(spec: string): ForwardSpec {
  const parts = splitOnColons(spec);
  const [bindAddress, local, remoteHost, remote] = parts?.length === 3 ? ['localhost', ...parts] : (parts ?? []);
  if (!bindAddress || !local || !remoteHost || !remote || (parts?.length !== 3 && parts?.length !== 4)) {
    throw new UsageError(`Bad local forwarding specification '${spec}'`);
  }
  return { bindAddress: host(bindAddress, spec), localPort: port(local, spec, 'local'), remoteHost: host(remoteHost, spec), remotePort: port(remote, spec, 'remote') };
}
