// Host names and addresses given by the user (a bind address, a proxy) or by a server (the SSH
// endpoint), checked before anything is looked up or dialled: a malformed one is refused naming
// where it came from, never handed to DNS. Brackets mean an IPv6 literal: [::1] is not a name.
import { isIP } from 'node:net';

/** One DNS label: letters, digits, '-' inside, '_' as some internal names have. */
const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/i;
/** A last label of digits (or 0x hex) makes the resolver read the whole name as an IPv4 number: '2222' is 0.0.8.174. */
const NUMERIC_LABEL = /^(?:\d+|0x[0-9a-f]*)$/i;

/**
 * The host `text` names, without brackets, when it is an IP literal (an IPv6 one bare or in
 * brackets) or a well-formed DNS name; undefined otherwise.
 */
export function parseHost(text: string): string | undefined {
  const bracketed = /^\[(.*)\]$/.exec(text);
  if (bracketed) return isIP(bracketed[1] ?? '') === 6 ? bracketed[1] : undefined;
  if (isIP(text) !== 0) return text;
  const name = text.endsWith('.') ? text.slice(0, -1) : text;
  const labels = name.split('.');
  const last = labels.at(-1) ?? '';
  if (name.length === 0 || name.length > 253 || !labels.every((label) => LABEL.test(label)) || NUMERIC_LABEL.test(last)) return undefined;
  return text;
}

/** "'TEXT' is not a host name or an IP address", for messages. */
export function notAHost(text: string): string {
  return `'${text}' is not a host name or an IP address`;
}

/** HOST:PORT, with an IPv6 address in brackets. */
export function hostPort(host: string, port: number): string {
  return `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}

/**
 * HOST:PORT, -L's BIND:PORT:HOST:PORT and the like split on colons outside brackets; a
 * bracketed part keeps its brackets (parseHost reads them). Undefined for unbalanced brackets.
 */
export function splitOnColons(spec: string): string[] | undefined {
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
