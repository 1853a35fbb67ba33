// http_proxy, https_proxy, all_proxy and no_proxy, read from the environment we are given (not
// the process's). no_proxy has the rules curl and proxy-from-env use: entries separated by
// commas or spaces, `*` for every host, a leading `.` or `*` for a domain and its subdomains,
// an optional :port. A proxy that is used is checked first: one that is no URL, names no host
// or a port out of range is one line naming its variable, never dialled nor looked up.
import { isIP } from 'node:net';
import { UserError } from '../errors.js';
import { notAHost, parseHost, splitOnColons } from './hosts.js';

type Env = Readonly<Record<string, string | undefined>>;

const DEFAULT_PORTS: Readonly<Record<string, number>> = { http: 80, https: 443, ws: 80, wss: 443 };

/** The variable's value, lower case first as curl reads it, and the name it was found under. */
function variable(env: Env, name: string): { name: string; value: string } {
  const lower = name.toLowerCase();
  const upper = name.toUpperCase();
  return env[lower] ? { name: lower, value: env[lower] } : { name: env[upper] ? upper : lower, value: env[upper] || '' };
}

/** False when no_proxy names the URL's host (and port, where an entry has one). */
function proxyAllowed(url: URL, env: Env): boolean {
  const noProxy = variable(env, 'no_proxy').value.toLowerCase();
  if (!noProxy) return true;
  if (noProxy === '*') return false;
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = Number(url.port) || DEFAULT_PORTS[url.protocol.replace(/:$/, '')] || 0;
  return noProxy.split(/[,\s]+/).every((entry) => {
    if (!entry) return true;
    // host:port or [v6]:port; a bare IPv6 address (two colons or more) has no port.
    const [named, portText, ...more] = (isIP(entry) === 6 ? undefined : splitOnColons(entry)) ?? [entry];
    const withPort = portText !== undefined && more.length === 0 && /^\d+$/.test(portText);
    const entryHost = (withPort ? (named ?? '') : entry).replace(/^\[|\]$/g, '');
    if (withPort && Number(portText) !== port) return true;
    if (!/^[.*]/.test(entryHost)) return host !== entryHost;
    return !host.endsWith(entryHost.replace(/^\*/, ''));
  });
}

/**
 * The http(s)_proxy for the URL's scheme, unless no_proxy excludes its host; '' for none. A
 * value without a scheme is an http:// proxy, as curl takes it (the CONNECT itself is plain HTTP).
 */
export function httpProxyFor(url: URL, env: Env): string {
  const scheme = url.protocol.replace(/:$/, '');
  const proxy = variable(env, `${scheme}_proxy`);
  if (!proxy.value || !proxyAllowed(url, env)) return '';
  return checkedProxy(proxy.name, proxy.value.includes('://') ? proxy.value : `http://${proxy.value}`, ['http', 'https'], proxy.value);
}

/**
 * all_proxy for a connection that is not HTTP (the SSH dial), unless no_proxy excludes its host;
 * '' for none. Only socks5:// and socks5h:// count, as in cf (golang.org/x/net/proxy): cf dials
 * directly past any other scheme, or a bare host:port, and so do we.
 */
export function socksProxyFor(url: URL, env: Env): string {
  const proxy = variable(env, 'all_proxy');
  if (!isSocksProxy(proxy.value) || !proxyAllowed(url, env)) return '';
  return checkedProxy(proxy.name, proxy.value, ['socks5', 'socks5h'], proxy.value);
}

/** all_proxy is set, but to something cf does not use (see socksProxyFor). */
export function allProxyIgnored(env: Env): boolean {
  const proxy = variable(env, 'all_proxy').value;
  return proxy !== '' && !isSocksProxy(proxy);
}

function isSocksProxy(value: string): boolean {
  return /^socks5h?:\/\//i.test(value);
}

/** `url` when it is a proxy URL with one of `schemes`, a host and a port that can be dialled; a UserError naming `name` otherwise. */
function checkedProxy(name: string, url: string, schemes: readonly string[], given: string): string {
  const refuse = (why: string) => new UserError(`${name} '${withoutPassword(given)}' is not a proxy URL: ${why}.`);
  const parts = /^([a-z][a-z0-9+.-]*):\/\/(?:([^@/?#]*)@)?(\[[^\]]*\]?|[^:/?#]*)(?::([^/?#]*))?([/?#].*)?$/i.exec(url);
  if (!parts) throw refuse('it does not parse');
  const [, scheme = '', userinfo = '', host = '', port] = parts;
  if (!schemes.includes(scheme.toLowerCase())) throw refuse(`cf-ssh-tools takes ${schemes.map((s) => `${s}://`).join(' or ')} there`);
  if (!host) throw refuse('it names no host');
  if (parseHost(host) === undefined) throw refuse(notAHost(host));
  if (port !== undefined && !(/^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535)) throw refuse('its port must be from 1 to 65535');
  if (!userinfo.split(':').every(decodes)) throw refuse('its user name or password is not percent-encoded');
  if (!URL.canParse(url)) throw refuse('it does not parse');
  return url;
}

function decodes(text: string): boolean {
  try {
    decodeURIComponent(text);
    return true;
  } catch {
    return false;
  }
}

/** A proxy URL for messages: a password in it is not shown. */
function withoutPassword(url: string): string {
  return url.replace(/^([^:/]*:\/\/[^:@/]*):[^@/]*@/, '$1:***@');
}
