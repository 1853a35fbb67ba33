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
  });
});
