// -L [BIND_ADDRESS:]LOCAL_PORT:REMOTE_HOST:REMOTE_PORT, as cf parses it, plus IPv6
// addresses in brackets ([::1]:8080:[fd00::1]:80) and a check that ports are ports and hosts
// are hosts (a malformed bind address is refused here, not looked up in DNS).
import { UsageError } from '../errors.js';
import { notAHost, parseHost } from '../net/hosts.js';

export interface ForwardSpec {
  bindAddress: string;
  localPort: number;
  remoteHost: string;
  remotePort: number;
  /** The option the user set it with, for messages (default -L). */
  option?: string;
}

/** Splits on colons outside brackets; a bracketed part keeps its brackets (parseHost reads them). */
function splitSpec(spec: string): string[] | undefined {
  const parts: string[] = [];
  let rest = spec;
  while (rest.length > 0) {
    if (rest.startsWith('[')) {
      const end = rest.indexOf(']');
      if (end < 0) return undefined;
      parts.push(rest.slice(0, end + 1));
      rest = rest.slice(end + 1);
      if (rest.length > 0 && !rest.startsWith(':')) return undefined;
      rest = rest.slice(1);
      if (rest.length === 0 && spec.endsWith(':')) parts.push('');
      continue;
    }
    const colon = rest.indexOf(':');
    if (colon < 0) {
      parts.push(rest);
      break;
    }
    parts.push(rest.slice(0, colon));
    rest = rest.slice(colon + 1);
    if (rest.length === 0) parts.push('');
  }
  return parts;
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
  const parts = splitSpec(spec);
  const [bindAddress, local, remoteHost, remote] = parts?.length === 3 ? ['localhost', ...parts] : (parts ?? []);
  if (!bindAddress || !local || !remoteHost || !remote || (parts?.length !== 3 && parts?.length !== 4)) {
    throw new UsageError(`Bad local forwarding specification '${spec}'`);
  }
  return { bindAddress: host(bindAddress, spec), localPort: port(local, spec, 'local'), remoteHost: host(remoteHost, spec), remotePort: port(remote, spec, 'remote') };
}
