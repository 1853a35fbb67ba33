import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatRequest, formatResponse, HIDDEN, redactJson, redactText } from '../../src/net/trace.js';

describe('CF_TRACE redaction', () => {
  it('hides headers that carry credentials', () => {
    const text = formatRequest({
      method: 'get',
      url: new URL('https://api.example.com/v3/apps?names=a'),
      headers: { Authorization: 'bearer eyJsecret', Accept: 'application/json' },
    });
    assert.match(text, /^REQUEST: \[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\]\nGET \/v3\/apps\?names=a HTTP\/1\.1\nHost: api\.example\.com\n/);
    assert.match(text, /Authorization: \[PRIVATE DATA HIDDEN\]/);
    assert.doesNotMatch(text, /eyJsecret/);
  });

  it('hides secrets in form bodies and keeps the rest readable', () => {
    const text = formatRequest({
      method: 'POST',
      url: new URL('https://uaa.example.com/oauth/token'),
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=password&username=dev&password=s3cr%26t&passcode=123',
    });
    assert.match(text, /grant_type=password&username=dev&password=\[PRIVATE DATA HIDDEN\]&passcode=\[PRIVATE DATA HIDDEN\]/);
    assert.doesNotMatch(text, /s3cr/);
  });

  it('hides tokens, codes in Location, and service credentials in JSON responses', () => {
    const text = formatResponse({
      status: 302,
      statusText: 'Found',
      headers: { location: 'https://uaa.example.com/login?code=abc123&state=x', 'content-type': 'application/json' },
      body: JSON.stringify({
        access_token: 'eyJaaa',
        refresh_token: 'eyJbbb',
        token_type: 'bearer',
        system_env_json: { VCAP_SERVICES: { postgres: [{ name: 'db', credentials: { password: 'pw', uri: 'postgres://u:pw@h/db' } }] } },
        uri: 'postgres://admin:hunter2@db.example.com:5432/x',
      }),
    });
    for (const secret of ['abc123', 'eyJaaa', 'eyJbbb', 'hunter2', '"pw"']) assert.ok(!text.includes(secret), secret);
    assert.match(text, /location: https:\/\/uaa\.example\.com\/login\?code=\[PRIVATE DATA HIDDEN\]&state=x/);
    assert.match(text, /postgres:\/\/admin:\[PRIVATE DATA HIDDEN\]@db\.example\.com/);
  });

  it('redactJson leaves harmless values alone', () => {
    assert.deepEqual(redactJson({ name: 'demo-app', links: { self: { href: 'https://x/v3' } }, password: 'p' }), {
      name: 'demo-app',
      links: { self: { href: 'https://x/v3' } },
      password: HIDDEN,
    });
    assert.equal(redactText('see https://example.com/a?x=1'), 'see https://example.com/a?x=1');
  });
});
