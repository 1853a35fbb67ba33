// http_proxy, https_proxy and no_proxy, read from the command's environment (never the process's).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { httpProxyFor } from '../../src/net/proxy-env.js';
import { route } from '../../src/ssh/dial.js';

const PROXY = 'http://proxy.internal:3128';

describe('proxies from the environment', () => {
  it('takes the proxy for the URL’s scheme, upper or lower case, and reads only the env it is given', () => {
    assert.equal(httpProxyFor(new URL('https://api.example.com'), { https_proxy: PROXY }), PROXY);
    assert.equal(httpProxyFor(new URL('https://api.example.com'), { HTTPS_PROXY: PROXY }), PROXY);
    assert.equal(httpProxyFor(new URL('http://api.example.com'), { https_proxy: PROXY }), '', 'http URLs use http_proxy');
    assert.equal(httpProxyFor(new URL('http://api.example.com'), { http_proxy: PROXY }), PROXY);
    assert.equal(httpProxyFor(new URL('https://api.example.com'), {}), '');
  });

  it('gives a proxy without a scheme http://, as curl does', () => {
    assert.equal(httpProxyFor(new URL('https://api.example.com'), { https_proxy: 'proxy.internal:3128' }), PROXY);
  });

  const noProxy: [string, string, boolean][] = [
    // [no_proxy, URL, proxied]
    ['*', 'https://api.example.com', false],
    ['api.example.com', 'https://api.example.com', false],
    ['api.example.com', 'https://sub.api.example.com', true],
    ['.example.com', 'https://api.example.com', false],
    ['.example.com', 'https://example.com', true],
    ['*.example.com', 'https://api.example.com', false],
    ['other.org, .example.com', 'https://api.example.com', false],
    ['other.org .example.com', 'https://api.example.com', false],
    ['api.example.com:443', 'https://api.example.com', false],
    ['api.example.com:8443', 'https://api.example.com', true],
    ['api.example.com:2222', 'https://api.example.com:2222', false],
    ['API.Example.com', 'https://api.example.com', false],
    ['127.0.0.1', 'https://127.0.0.1:8443', false],
    ['[::1]', 'https://[::1]:8443', false],
    ['::1', 'https://[::1]:8443', false],
    ['[::1]:8443', 'https://[::1]:8443', false],
    ['[::1]:9000', 'https://[::1]:8443', true],
    ['other.org', 'https://api.example.com', true],
  ];
  for (const [entries, url, proxied] of noProxy) {
    it(`no_proxy=${entries}: ${url} ${proxied ? 'goes through' : 'goes direct'}`, () => {
      assert.equal(httpProxyFor(new URL(url), { https_proxy: PROXY, no_proxy: entries }), proxied ? PROXY : '');
      assert.equal(httpProxyFor(new URL(url), { HTTPS_PROXY: PROXY, NO_PROXY: entries }), proxied ? PROXY : '');
    });
  }

  it('the SSH dial follows the same rules for https_proxy (HTTP CONNECT) and no_proxy', () => {
    assert.deepEqual(route('ssh.example.com', 2222, { https_proxy: PROXY }), { kind: 'http-connect', proxy: new URL(PROXY) });
    assert.deepEqual(route('ssh.example.com', 2222, { https_proxy: PROXY, no_proxy: '.example.com' }), { kind: 'direct' });
    assert.deepEqual(route('::1', 2222, { https_proxy: PROXY, no_proxy: '::1' }), { kind: 'direct' });
  });
});
