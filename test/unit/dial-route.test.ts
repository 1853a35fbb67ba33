// How the SSH dial reaches the endpoint, from the environment it is given: all_proxy only as
// cf takes it (socks5:// or socks5h://), https_proxy next, and no_proxy for both.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dial, route } from '../../src/ssh/dial.js';
import { freePort } from '../helpers/net.js';

const SOCKS = 'socks5://socks.internal:1080';
const HTTP = 'http://proxy.internal:3128';

type Route = ReturnType<typeof route>;
const direct: Route = { kind: 'direct' };
const socks = (url = SOCKS): Route => ({ kind: 'socks5', proxy: new URL(url) });
const connect: Route = { kind: 'http-connect', proxy: new URL(HTTP) };

describe('the SSH dial’s route', () => {
  const cases: [string, NodeJS.ProcessEnv, Route, string?][] = [
    // [what, env, route, host (ssh.example.com unless given)]
    ['nothing set: direct', {}, direct],
    ['all_proxy socks5://', { all_proxy: SOCKS }, socks()],
    ['ALL_PROXY, upper case', { ALL_PROXY: SOCKS }, socks()],
    ['all_proxy socks5h:// (names resolved by the proxy)', { all_proxy: 'socks5h://socks.internal:1080' }, socks('socks5h://socks.internal:1080')],
    ['the scheme in any case', { all_proxy: 'SOCKS5://socks.internal:1080' }, socks()],
    ['with credentials', { all_proxy: 'socks5://me:p%40ss@socks.internal' }, socks('socks5://me:p%40ss@socks.internal')],
    ['all_proxy http:// is not cf’s: direct', { all_proxy: HTTP }, direct],
    ['all_proxy socks4:// is not cf’s: direct', { all_proxy: 'socks4://socks.internal:1080' }, direct],
    ['a bare host:port is not cf’s either: direct', { all_proxy: 'socks.internal:1080' }, direct],
    ['an unused all_proxy falls through to https_proxy', { all_proxy: HTTP, https_proxy: HTTP }, connect],
    ['SOCKS5 before HTTP CONNECT', { all_proxy: SOCKS, https_proxy: HTTP }, socks()],
    ['https_proxy alone: HTTP CONNECT', { https_proxy: HTTP }, connect],
    ['no_proxy names the domain: SOCKS5 is skipped', { all_proxy: SOCKS, no_proxy: '.example.com' }, direct],
    ['NO_PROXY, upper case', { ALL_PROXY: SOCKS, NO_PROXY: 'ssh.example.com' }, direct],
    ['no_proxy skips both proxies', { all_proxy: SOCKS, https_proxy: HTTP, no_proxy: '*.example.com' }, direct],
    ['no_proxy *', { all_proxy: SOCKS, no_proxy: '*' }, direct],
    ['no_proxy with the endpoint’s port', { all_proxy: SOCKS, no_proxy: 'ssh.example.com:2222' }, direct],
    ['no_proxy with another port', { all_proxy: SOCKS, no_proxy: 'ssh.example.com:443' }, socks()],
    ['no_proxy for another host', { all_proxy: SOCKS, no_proxy: 'other.org,api.example.com' }, socks()],
    ['no_proxy an IPv6 address', { all_proxy: SOCKS, no_proxy: '::1' }, direct, '::1'],
    ['no_proxy an IPv4 address', { all_proxy: SOCKS, https_proxy: HTTP, no_proxy: '10.0.0.5' }, direct, '10.0.0.5'],
  ];
  for (const [what, env, expected, host = 'ssh.example.com'] of cases) {
    it(what, () => assert.deepEqual(route(host, 2222, env), expected));
  }

  it('refuses a socks5:// all_proxy that cannot be dialled, naming it, rather than dial past it', () => {
    const cases: [string, string][] = [
      ['socks5://[socks.internal', "'[socks.internal' is not a host name or an IP address"],
      ['socks5://127.0.0.1:99999', 'its port must be from 1 to 65535'],
      ['socks5://', 'it names no host'],
      ['socks5://a,b:1080', "'a,b' is not a host name or an IP address"],
      ['socks5://me:p%ZZ@socks.internal', 'its user name or password is not percent-encoded'],
    ];
    for (const [value, why] of cases) {
      assert.throws(
        () => route('ssh.example.com', 2222, { ALL_PROXY: value }),
        { name: 'UserError', message: `ALL_PROXY '${value.replace(':p%ZZ@', ':***@')}' is not a proxy URL: ${why}.` },
        value,
      );
    }
  });

  it('a failed direct dial says when all_proxy was set but not used', async () => {
    const port = await freePort();
    const tip = `Port ${port} may be blocked by your network: set all_proxy (SOCKS5) or https_proxy (HTTP CONNECT) to go through a proxy.`;
    await assert.rejects(dial('127.0.0.1', port, { env: { all_proxy: HTTP }, timeoutMs: 5000 }), {
      name: 'NetworkError',
      message: `Cannot reach the SSH endpoint 127.0.0.1:${port}: connection refused. ${tip} all_proxy is not used: it must be a socks5:// or socks5h:// URL.`,
    });
    await assert.rejects(dial('127.0.0.1', port, { env: { all_proxy: SOCKS, no_proxy: '127.0.0.1' }, timeoutMs: 5000 }), {
      message: `Cannot reach the SSH endpoint 127.0.0.1:${port}: connection refused. ${tip}`,
    });
  });
});
