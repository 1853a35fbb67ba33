import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeApi } from '../../src/actions/login.js';

describe('API URLs', () => {
  it('follows cf: https when no scheme, no trailing slash', () => {
    assert.equal(normalizeApi('api.example.com'), 'https://api.example.com');
    assert.equal(normalizeApi('http://127.0.0.1:9022/'), 'http://127.0.0.1:9022');
    assert.throws(() => normalizeApi('  '), /empty/);
    assert.throws(() => normalizeApi('ftp://x'), /not an http\(s\) URL/);
    assert.throws(() => normalizeApi('https://exa mple.com'), /not a valid API URL/);
    // URL would make these IPv4 addresses (0.0.8.174, 127.0.0.1): a bare number is no host name.
    for (const typed of ['http://2222', '2222', 'https://0x7f.1:8443']) {
      const host = /^(?:https?:\/\/)?([^:/]*)/.exec(typed)?.[1];
      assert.throws(() => normalizeApi(typed), { message: `'${typed}' names no host: '${host}' is not a host name or an IP address. Use e.g. -a https://api.example.com` });
    }
    assert.equal(normalizeApi('https://[::1]:9022'), 'https://[::1]:9022');
    assert.equal(normalizeApi('https://user@localhost/'), 'https://user@localhost');
  });
});
