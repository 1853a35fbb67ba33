// The TCP connection to the SSH proxy: direct, through a SOCKS5 proxy (all_proxy, as cf),
// or through an HTTP CONNECT proxy (https_proxy; corporate networks that block port 2222).
import http from 'node:http';
import net from 'node:net';
import { NetworkError } from '../errors.js';
import { hostPort } from '../net/hosts.js';
import { allProxyIgnored, httpProxyFor, socksProxyFor } from '../net/proxy-env.js';
import { socketFailure } from '../net/socket-errors.js';

export interface DialOptions {
  env: NodeJS.ProcessEnv;
  /** CF_DIAL_TIMEOUT, in milliseconds. */
  timeoutMs: number;
}

/** How the SSH endpoint is reached: all_proxy (SOCKS5) first, then https_proxy, each unless no_proxy names the host. */
export function route(host: string, port: number, env: NodeJS.ProcessEnv): { kind: 'direct' | 'socks5' | 'http-connect'; proxy?: URL } {
  // https:// only to give no_proxy's :port entries the endpoint's port.
  const endpoint = new URL(`https://${hostPort(host, port)}`);
  const socks = socksProxyFor(endpoint, env);
  if (socks) return { kind: 'socks5', proxy: new URL(socks) };
  const http = httpProxyFor(endpoint, env);
  if (http) return { kind: 'http-connect', proxy: new URL(http) };
  return { kind: 'direct' };
}

export async function dial(host: string, port: number, options: DialOptions): Promise<net.Socket> {
  const via = route(host, port, options.env);
  const where = hostPort(host, port);
  try {
    const socket =
      via.kind === 'socks5'
        ? await viaSocks(via.proxy!, host, port, options.timeoutMs)
        : via.kind === 'http-connect'
          ? await viaConnect(via.proxy!, host, port, options.timeoutMs)
          : await direct(host, port, options.timeoutMs);
    // SSH is a conversation of small packets: Nagle's delay costs ~40 ms per round trip of the handshake.
    socket.setNoDelay(true);
    return socket;
  } catch (err) {
    const reason = (err as Error).message;
    const proxy = via.proxy ? ` through the ${via.kind === 'socks5' ? 'SOCKS5' : 'HTTP'} proxy ${via.proxy.host}` : '';
    const tip = via.proxy ? 'Check the proxy setting.' : `Port ${port} may be blocked by your network: set all_proxy (SOCKS5) or https_proxy (HTTP CONNECT) to go through a proxy.`;
    // The setting the user made, and why it did nothing.
    const ignored = via.kind !== 'socks5' && allProxyIgnored(options.env) ? ' all_proxy is not used: it must be a socks5:// or socks5h:// URL.' : '';
    throw new NetworkError(`Cannot reach the SSH endpoint ${where}${proxy}: ${reason}. ${tip}${ignored}`);
  }
}

/** A URL's hostname as a socket takes it: an IPv6 address without its brackets. */
function bare(hostname: string): string {
  return hostname.replace(/^\[(.*)\]$/, '$1');
}

function direct(host: string, port: number, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs / 1000} s (CF_DIAL_TIMEOUT)`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new Error(socketFailure(err)));
    });
  });
}

async function viaSocks(proxy: URL, host: string, port: number, timeoutMs: number): Promise<net.Socket> {
  const { SocksClient } = await import('socks'); // only when all_proxy is set
  const { socket } = await SocksClient.createConnection({
    proxy: {
      host: bare(proxy.hostname),
      port: Number(proxy.port) || 1080,
      type: 5,
      userId: proxy.username ? decodeURIComponent(proxy.username) : undefined,
      password: proxy.password ? decodeURIComponent(proxy.password) : undefined,
    },
    command: 'connect',
    destination: { host, port },
    timeout: timeoutMs,
  });
  return socket;
}

function viaConnect(proxy: URL, host: string, port: number, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { Host: hostPort(host, port) };
    if (proxy.username) {
      const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
      headers['Proxy-Authorization'] = `Basic ${Buffer.from(credentials).toString('base64')}`;
    }
    const req = http.request({ host: bare(proxy.hostname), port: Number(proxy.port) || 80, method: 'CONNECT', path: hostPort(host, port), headers, timeout: timeoutMs });
    req.once('connect', (res, socket, head) => {
      if (res.statusCode === 200) {
        // The SSH server speaks first: its banner may arrive with the proxy's answer.
        if (head.length > 0) socket.unshift(head);
        return resolve(socket);
      }
      socket.destroy();
      reject(new Error(`the proxy answered ${res.statusCode} ${res.statusMessage ?? ''}`.trim()));
    });
    req.once('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s (CF_DIAL_TIMEOUT)`)));
    req.once('error', (err: NodeJS.ErrnoException) => reject(new Error(socketFailure(err))));
    req.end();
  });
}
