import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { formatRequest, formatResponse, HIDDEN, redactJson, redactText, TraceSecrets, traceSink } from '../../src/net/trace.js';

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

  it('hides the token in a revocation path, and a JWT wherever it is', () => {
    const text = formatRequest({
      method: 'DELETE',
      url: new URL('https://uaa.example.com/oauth/token/revoke/0f3a9c1d2e-r'),
      headers: { 'X-Note': 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl' },
    });
    assert.match(text, /^DELETE \/oauth\/token\/revoke\/\[PRIVATE DATA HIDDEN\] HTTP\/1\.1$/m);
    assert.match(text, /^X-Note: \[PRIVATE DATA HIDDEN\]$/m);
    assert.doesNotMatch(text, /0f3a9c1d2e|c2lnbmF0dXJl/);
  });

  it('hides a secret met earlier wherever it turns up again, under any name', () => {
    const secrets = new TraceSecrets();
    formatRequest(
      {
        method: 'POST',
        url: new URL('https://uaa.example.com/oauth/token'),
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=refresh_token&refresh_token=7d1e0c55aa-r',
      },
      new Date(),
      secrets,
    );
    const json = formatResponse(
      {
        status: 401,
        statusText: 'Unauthorized',
        headers: { 'content-type': 'application/json' },
        body: '{"error":"invalid_token","error_description":"Invalid refresh token (expired): 7d1e0c55aa-r"}',
      },
      new Date(),
      secrets,
    );
    assert.match(json, /"error_description": "Invalid refresh token \(expired\): \[PRIVATE DATA HIDDEN\]"/);
    const plain = formatResponse({ status: 500, statusText: 'Error', headers: { 'content-type': 'text/plain' }, body: 'no such token 7d1e0c55aa-r' }, new Date(), secrets);
    assert.match(plain, /no such token \[PRIVATE DATA HIDDEN\]/);
  });

  it('shows the token type, which is no secret', () => {
    const text = formatResponse({ status: 200, statusText: 'OK', headers: { 'content-type': 'application/json' }, body: '{"access_token":"x","token_type":"bearer"}' });
    assert.match(text, /"token_type": "bearer"/);
  });
});

describe('the CF_TRACE file', () => {
  const dir = () => mkdtempSync(path.join(tmpdir(), 'cf-trace-'));

  it('is created 0600, and one that was there is made 0600', () => {
    const fresh = path.join(dir(), 'new.log');
    traceSink(fresh, () => undefined)?.('line\n');
    assert.equal(statSync(fresh).mode & 0o777, 0o600);
    const old = path.join(dir(), 'old.log');
    writeFileSync(old, 'before\n');
    chmodSync(old, 0o644);
    traceSink(old, () => undefined)?.('after\n');
    assert.equal(statSync(old).mode & 0o777, 0o600);
    assert.equal(readFileSync(old, 'utf8'), 'before\nafter\n', 'appended to, not replaced');
  });

  it('may be a device, whose mode is left alone', () => {
    const before = statSync('/dev/null').mode;
    assert.ok(traceSink('/dev/null', () => undefined));
    assert.equal(statSync('/dev/null').mode, before);
  });
});
