// Working from the cf CLI's own config.json, the CLI in-process: token refresh before expiry
// and after a refusal, written back as cf writes it; an expired refresh token; CF_TRACE without secrets.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Foundation, startFoundation } from '../foundation/server.js';
import { expectRequests } from '../helpers/expect-requests.js';
import { passwordGrant } from '../helpers/foundation.js';
import { cfConfigFor, homeWithCfConfig } from '../helpers/cf-config.js';
import { runCli, tempHome } from '../helpers/run-cli.js';

/** A JWT that decodes like the foundation's but expired an hour ago (its signature is not checked by the CLI). */
function expiredToken(user: string): string {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const exp = Math.floor(Date.now() / 1000) - 3600;
  return `${part({ alg: 'HS256' })}.${part({ user_name: user, user_id: 'x', origin: 'uaa', exp, scope: [] })}.c2ln`;
}

describe('sessions from cf config.json', () => {
  let foundation: Foundation;

  before(async () => {
    foundation = await startFoundation({ ssh: false });
  });
  after(() => foundation.stop());

  const tokens = (user: string, password: string) => passwordGrant(foundation.url, user, password);

  /** A home with cf's config.json for developer in demo-org/demo-space, `fields` added. */
  const cfHomeWith = async (fields: Record<string, unknown>) => homeWithCfConfig(cfConfigFor(foundation, fields));

  it('refreshes an expiring access token and writes config.json back atomically with mode 0600', async () => {
    const { refresh_token } = await tokens('developer', 'developer-pass');
    const { home, file } = await cfHomeWith({ AccessToken: `bearer ${expiredToken('developer')}`, RefreshToken: refresh_token });
    // One refresh, before the first request: an expired token is never sent.
    const from = foundation.requests.length;
    const r = await expectRequests(
      foundation,
      [
        'POST /uaa/oauth/token',
        'GET /v3/apps?names=demo-app&space_guids=:space',
        'GET /v3/apps/:guid/ssh_enabled',
        'GET /v3/apps/:guid/features/ssh',
        'GET /v3/spaces/:guid/features/ssh',
      ],
      () => runCli(home, ['ssh-enabled', 'demo-app']),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "ssh support is enabled for app 'demo-app'.\n");
    const first = foundation.requests[from];
    assert.equal(first && `${first.method} ${first.path}`, 'POST /uaa/oauth/token', 'the refresh comes first');
    const written = JSON.parse(readFileSync(file, 'utf8'));
    assert.match(written.AccessToken, /^bearer eyJ/);
    assert.notEqual(written.AccessToken, `bearer ${expiredToken('developer')}`);
    assert.deepEqual(written.PluginRepos, [{ Name: 'CF-Community', URL: 'https://plugins.cloudfoundry.org' }], 'unknown fields are kept');
    assert.equal(written.ColorEnabled, 'true');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(path.dirname(file)), ['config.json'], 'no temp file is left behind');
  });

  it("refreshes a token that expires within a minute by the CLI's clock, once, before the first request", async () => {
    const ttl = foundation.tokens.accessTtlSeconds;
    foundation.tokens.accessTtlSeconds = 90;
    let issued: Awaited<ReturnType<typeof tokens>>;
    try {
      issued = await tokens('developer', 'developer-pass');
    } finally {
      foundation.tokens.accessTtlSeconds = ttl;
    }
    const status = ['GET /v3/apps?names=demo-app&space_guids=:space', 'GET /v3/apps/:guid/ssh_enabled', 'GET /v3/apps/:guid/features/ssh', 'GET /v3/spaces/:guid/features/ssh'];
    // Now, 90 s are left: the token is used as it is.
    const fresh = await cfHomeWith({ AccessToken: `bearer ${issued.access_token}`, RefreshToken: issued.refresh_token });
    const asIs = await expectRequests(foundation, status, () => runCli(fresh.home, ['ssh-enabled', 'demo-app']));
    assert.equal(asIs.code, 0, asIs.stderr);
    assert.equal(JSON.parse(readFileSync(fresh.file, 'utf8')).AccessToken, `bearer ${issued.access_token}`);
    // 45 s later, 45 s are left, less than the minute's margin: one refresh, and the new token (600 s) serves every request.
    const later = await cfHomeWith({ AccessToken: `bearer ${issued.access_token}`, RefreshToken: issued.refresh_token });
    const clock = Date.now() + 45_000;
    const refreshed = await expectRequests(foundation, ['POST /uaa/oauth/token', ...status], () => runCli(later.home, ['ssh-enabled', 'demo-app'], { now: () => clock }));
    assert.equal(refreshed.code, 0, refreshed.stderr);
    assert.notEqual(JSON.parse(readFileSync(later.file, 'utf8')).AccessToken, `bearer ${issued.access_token}`);
  });

  it('refreshes once when the foundation refuses a token that has not expired', async () => {
    const { access_token, refresh_token } = await tokens('developer', 'developer-pass');
    const { home, file } = await cfHomeWith({ AccessToken: `bearer ${access_token}`, RefreshToken: refresh_token });
    // A signing-key rotation: CC refuses every token issued before it (401 CF-InvalidAuthToken).
    foundation.tokens.rotateKey();
    // The refused request, one refresh, the same request again, then the rest.
    const r = await expectRequests(
      foundation,
      [
        'GET /v3/apps?names=demo-app&space_guids=:space',
        'POST /uaa/oauth/token',
        'GET /v3/apps?names=demo-app&space_guids=:space',
        'GET /v3/apps/:guid/ssh_enabled',
        'GET /v3/apps/:guid/features/ssh',
        'GET /v3/spaces/:guid/features/ssh',
      ],
      () => runCli(home, ['ssh-enabled', 'demo-app']),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.notEqual(JSON.parse(readFileSync(file, 'utf8')).AccessToken, `bearer ${access_token}`);
    // UAA alone knows of revoked tokens: it refuses them for the one-time code; ssh-code refreshes and retries.
    const { access_token: second, refresh_token: secondRefresh } = await tokens('developer', 'developer-pass');
    const other = await cfHomeWith({ AccessToken: `bearer ${second}`, RefreshToken: secondRefresh });
    foundation.tokens.revokeAccessTokens();
    const code = await runCli(other.home, ['ssh-code']);
    assert.equal(code.code, 0, code.stderr);
    assert.match(code.stdout, /^[\w-]+\n$/);
  });

  it('an expired refresh token gets cf message and exit 1', async () => {
    const { refresh_token } = await tokens('developer', 'developer-pass');
    const { home } = await cfHomeWith({ AccessToken: `bearer ${expiredToken('developer')}`, RefreshToken: refresh_token });
    foundation.tokens.revokeRefreshTokens();
    const r = await runCli(home, ['ssh-enabled', 'demo-app']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'The token expired, was revoked, or the token ID is incorrect. Please log back in to re-authenticate.\n');
    assert.equal(r.stdout, 'FAILED\n');
  });

  it('ignores a config.json of another ConfigVersion', async () => {
    const { access_token } = await tokens('developer', 'developer-pass');
    const { home } = await cfHomeWith({ ConfigVersion: 3, AccessToken: `bearer ${access_token}` });
    const r = await runCli(home, ['ssh-code']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /No API endpoint set/);
  });

  it('CF_TRACE=true logs requests and responses without a single secret', async () => {
    const { refresh_token } = await tokens('developer', 'developer-pass');
    const { home, file } = await cfHomeWith({ AccessToken: `bearer ${expiredToken('developer')}`, RefreshToken: refresh_token });
    const r = await runCli(home, ['ssh-code'], { env: { CF_TRACE: 'true' } });
    assert.equal(r.code, 0, r.stderr);
    const code = r.stdout.trim();
    const { AccessToken, RefreshToken } = JSON.parse(readFileSync(file, 'utf8'));
    assert.match(r.stderr, /REQUEST: \[/);
    assert.match(r.stderr, /GET \/uaa\/oauth\/authorize\?client_id=ssh-proxy&response_type=code HTTP\/1\.1/);
    assert.match(r.stderr, /POST \/uaa\/oauth\/token HTTP\/1\.1/);
    assert.match(r.stderr, /Authorization: \[PRIVATE DATA HIDDEN\]/);
    assert.match(r.stderr, /code=\[PRIVATE DATA HIDDEN\]/);
    for (const secret of [code, AccessToken.slice(7), RefreshToken, refresh_token]) {
      assert.ok(!r.stderr.includes(secret), `trace output contains a secret: ${secret.slice(0, 12)}...`);
    }
    assert.doesNotMatch(r.stderr, /eyJ[\w-]{20,}/, 'no JWT at all in the trace');
  });

  it('CF_TRACE=<file> writes the trace to that file, also without secrets, and a login password never shows', async () => {
    const home = tempHome();
    const traceFile = path.join(home, 'trace.log');
    const r = await runCli(home, ['login', '-a', foundation.url, '-u', 'developer', '-p', 'developer-pass', '-o', 'demo-org', '-s', 'demo-space'], {
      env: { CF_TRACE: traceFile },
    });
    assert.equal(r.code, 0, r.stderr);
    const trace = readFileSync(traceFile, 'utf8');
    assert.match(trace, /grant_type=password/);
    assert.match(trace, /password=\[PRIVATE DATA HIDDEN\]/);
    assert.doesNotMatch(trace, /developer-pass|eyJ[\w-]{20,}/);
    assert.doesNotMatch(r.stdout, /REQUEST:/);
  });
});
