// http_proxy, https_proxy, all_proxy and no_proxy, read from the environment we are given (not
// the process's). no_proxy has the rules curl and proxy-from-env use: entries separated by
// commas or spaces, `*` for every host, a leading `.` or `*` for a domain and its subdomains,
// an optional :port.

type Env = Readonly<Record<string, string | undefined>>;

const DEFAULT_PORTS: Readonly<Record<string, number>> = { http: 80, https: 443, ws: 80, wss: 443 };

function variable(env: Env, name: string): string {
  return env[name.toLowerCase()] || env[name.toUpperCase()] || '';
}

/** False when no_proxy names the URL's host (and port, where an entry has one). */
export function proxyAllowed(url: URL, env: Env): boolean {
  const noProxy = variable(env, 'no_proxy').toLowerCase();
  if (!noProxy) return true;
  if (noProxy === '*') return false;
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = Number(url.port) || DEFAULT_PORTS[url.protocol.replace(/:$/, '')] || 0;
  return noProxy.split(/[,\s]+/).every((entry) => {
    if (!entry) return true;
    // host:port or [v6]:port; a bare IPv6 address (two colons or more) has no port.
    const withPort = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(entry);
    const entryHost = (withPort?.[1] ?? entry).replace(/^\[|\]$/g, '');
    if (withPort && Number(withPort[2]) !== port) return true;
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
  if (!proxy || !proxyAllowed(url, env)) return '';
  return proxy.includes('://') ? proxy : `http://${proxy}`;
}

/**
 * all_proxy for a connection that is not HTTP (the SSH dial), unless no_proxy excludes its host;
 * '' for none. Only socks5:// and socks5h:// count, as in cf (golang.org/x/net/proxy): cf dials
 * directly past any other scheme, or a bare host:port, and so do we.
 */
export function socksProxyFor(url: URL, env: Env): string {
  const proxy = variable(env, 'all_proxy');
  if (!isSocksProxy(proxy) || !proxyAllowed(url, env)) return '';
  return proxy;
}

/** all_proxy is set, but to something cf does not use (see socksProxyFor). */
export function allProxyIgnored(env: Env): boolean {
  const proxy = variable(env, 'all_proxy');
  return proxy !== '' && !isSocksProxy(proxy);
}

/** A socks5:// or socks5h:// URL; cf dials directly past one that does not parse, too. */
function isSocksProxy(value: string): boolean {
  return /^socks5h?:\/\//i.test(value) && URL.canParse(value);
}
