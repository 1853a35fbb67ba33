// -L [BIND_ADDRESS:]LOCAL_PORT:REMOTE_HOST:REMOTE_PORT, as cf parses it, plus IPv6
// addresses in brackets ([::1]:8080:[fd00::1]:80) and a check that ports are ports.
import { UsageError } from '../errors.js';

export interface ForwardSpec {
  bindAddress: string;
  localPort: number;
  remoteHost: string;
  remotePort: number;
}

/** Splits on colons outside brackets; bracketed IPv6 addresses lose their brackets. */
function splitSpec(spec: string): string[] | undefined {
  const parts: string[] = [];
  let rest = spec;
  while (rest.length > 0) {
    if (rest.startsWith('[')) {
      const end = rest.indexOf(']');
      if (end < 0) return undefined;
      parts.push(rest.slice(1, end));
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

export function parseForwardSpec(spec: string): ForwardSpec {
  const parts = splitSpec(spec);
  const [bindAddress, local, remoteHost, remote] = parts?.length === 3 ? ['localhost', ...parts] : (parts ?? []);
  if (!bindAddress || !local || !remoteHost || !remote || (parts?.length !== 3 && parts?.length !== 4)) {
    throw new UsageError(`Bad local forwarding specification '${spec}'`);
  }
  return { bindAddress, localPort: port(local, spec, 'local'), remoteHost, remotePort: port(remote, spec, 'remote') };
}
