// Runs that share one session (one home) while UAA rotates refresh tokens, so that each works
// once: without a lock, six runs whose token is refused all refresh with the same refresh token,
// and five of them tell the user to log back in though the session is fine. Each run now
// refreshes under the session's lock, and takes what another run saved when it is newer; a
// refresh token spent by cf itself (which takes no lock of ours) is answered the same way.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setImmediate as tick } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { Folder } from '../../src/config/dirs.js';
import { withFileLock } from '../../src/config/file-lock.js';
import { type Foundation, startFoundation } from '../foundation/server.js';
import { cli } from '../helpers/cli.js';
import { expectRequests } from '../helpers/expect-requests.js';
import { passwordGrant } from '../helpers/foundation.js';
import { cfConfigFor, homeWithCfConfig } from '../helpers/cf-config.js';
import { loggedIn, runCli, tempHome } from '../helpers/run-cli.js';

const SIX = Array.from({ length: 6 }, (_, i) => i);
const STATUS = ['GET /v3/apps?names=demo-app&space_guids=:space', 'GET /v3/apps/:guid/ssh_enabled', 'GET /v3/apps/:guid/features/ssh', 'GET /v3/spaces/:guid/features/ssh'];
const ENABLED = "ssh support is enabled for app 'demo-app'.\n";

/** A JWT that decodes like the foundation's but expired an hour ago (the CLI does not check signatures). */
function expiredToken(user: string): string {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${part({ alg: 'HS256' })}.${part({ user_name: user, user_id: 'x', exp: Math.floor(Date.now() / 1000) - 3600, scope: [] })}.c2ln`;
}

describe('runs sharing a session whose refresh tokens work once', () => {
  let foundation: Foundation;

  before(async () => {
    foundation = await startFoundation({ ssh: false });
    foundation.tokens.singleUseRefreshTokens = true;
  });
  after(() => foundation.stop());

  /** Refresh grants (every POST to /oauth/token here) since request number `from`. */
  const refreshesSince = (from: number) => foundation.requests.slice(from).filter((r) => r.method === 'POST' && r.path === '/uaa/oauth/token').length;

  const cfHome = (accessToken: string, refreshToken: string) => homeWithCfConfig(cfConfigFor(foundation, { AccessToken: `bearer ${accessToken}`, RefreshToken: refreshToken }));

  const saved = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as { AccessToken: string; RefreshToken: string; SpaceFields: { Name: string } };

  it('the foundation spends a refresh token at its first use', async () => {
    const { refresh_token } = await passwordGrant(foundation.url, 'developer', 'developer-pass');
    const grant = (token: string) =>
      fetch(`${foundation.url}/uaa/oauth/token`, {
        method: 'POST',
        headers: { Authorization: `Basic ${Buffer.from('cf:').toString('base64')}`, 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token }),
      });
    const first = await grant(refresh_token);
    assert.equal(first.status, 200);
    assert.notEqual(((await first.json()) as { refresh_token: string }).refresh_token, refresh_token);
    assert.equal((await grant(refresh_token)).status, 401);
  });

  it('six runs at once whose token is refused: one refresh, all six succeed, the saved session works', async () => {
    const home = await loggedIn(foundation.url);
    // CC now refuses every token issued so far: each run's first request gets a 401.
    foundation.tokens.rotateKey();
    const from = foundation.requests.length;
    const runs = await Promise.all(SIX.map(() => runCli(home, ['ssh-enabled', 'demo-app'])));
    for (const r of runs) {
      assert.equal(r.stderr, '');
      assert.equal(r.code, 0);
      assert.equal(r.stdout, ENABLED);
    }
    assert.equal(refreshesSince(from), 1);
    const next = await expectRequests(foundation, STATUS, () => runCli(home, ['ssh-enabled', 'demo-app']));
    assert.equal(next.code, 0, next.stderr);
    assert.deepEqual(readdirSync(path.join(home, '.cf-ssh-tools')).sort(), ['session.json', 'tokens.json'], 'no lock file is left behind');
  });

  it("six runs at once from cf's config.json, its token expired: one refresh, all six succeed", async () => {
    const { refresh_token } = await passwordGrant(foundation.url, 'developer', 'developer-pass');
    const { home, file } = cfHome(expiredToken('developer'), refresh_token);
    const from = foundation.requests.length;
    const runs = await Promise.all(SIX.map(() => runCli(home, ['ssh-enabled', 'demo-app'])));
    for (const r of runs) assert.deepEqual([r.code, r.stdout, r.stderr], [0, ENABLED, '']);
    assert.equal(refreshesSince(from), 1);
    assert.notEqual(saved(file).RefreshToken, refresh_token);
    assert.deepEqual(readdirSync(path.dirname(file)), ['config.json'], 'no lock file is left behind');
  });

  it('a refresh token spent meanwhile by cf, which takes no lock of ours: the run takes what cf saved', async () => {
    const { refresh_token } = await passwordGrant(foundation.url, 'developer', 'developer-pass');
    const { home, file } = cfHome(expiredToken('developer'), refresh_token);
    const { tokens } = foundation;
    const redeem = tokens.userForRefreshToken.bind(tokens);
    let cfTokens: { access: string; refresh: string } | undefined;
    // Just before UAA looks at our run's refresh token, cf refreshes with it and saves the result.
    tokens.userForRefreshToken = (token) => {
      tokens.userForRefreshToken = redeem;
      const user = foundation.world.users.get(redeem(token) ?? '');
      assert.ok(user);
      const issued = tokens.issue(user, 'refresh_token', 'cf', true);
      cfTokens = { access: `bearer ${issued.access_token}`, refresh: issued.refresh_token ?? '' };
      writeFileSync(file, JSON.stringify({ ...saved(file), AccessToken: cfTokens.access, RefreshToken: cfTokens.refresh }));
      return redeem(token);
    };
    const r = await expectRequests(foundation, ['POST /uaa/oauth/token', ...STATUS], () => runCli(home, ['ssh-enabled', 'demo-app']));
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, ENABLED, '']);
    assert.deepEqual([saved(file).AccessToken, saved(file).RefreshToken], [cfTokens?.access, cfTokens?.refresh]);
  });

  it('a run that saves its target keeps the newer tokens another run saved meanwhile', async () => {
    const { access_token, refresh_token } = await passwordGrant(foundation.url, 'developer', 'developer-pass');
    const { home, file } = cfHome(access_token, refresh_token);
    const { world, tokens } = foundation;
    const canSeeSpace = world.canSeeSpace.bind(world);
    let newer: { access: string; refresh: string } | undefined;
    // While `target -s` looks the space up, another run refreshes (spending the refresh token) and saves.
    world.canSeeSpace = (user, space) => {
      if (!newer) {
        const issued = tokens.issue(user, 'refresh_token', 'cf', true);
        tokens.userForRefreshToken(refresh_token);
        newer = { access: `bearer ${issued.access_token}`, refresh: issued.refresh_token ?? '' };
        writeFileSync(file, JSON.stringify({ ...saved(file), AccessToken: newer.access, RefreshToken: newer.refresh }));
      }
      return canSeeSpace(user, space);
    };
    try {
      const r = await runCli(home, ['target', '-s', 'locked-space']);
      assert.equal(r.code, 0, r.stderr);
    } finally {
      world.canSeeSpace = canSeeSpace;
    }
    assert.deepEqual([saved(file).AccessToken, saved(file).RefreshToken, saved(file).SpaceFields.Name], [newer?.access, newer?.refresh, 'locked-space']);
    const { home: expired } = cfHome(expiredToken('developer'), saved(file).RefreshToken);
    assert.equal((await runCli(expired, ['ssh-enabled', 'demo-app'])).code, 0, 'the refresh token saved is the unspent one');
  });

  it('six cf-ssh-tools processes at once: one refresh, all six succeed', async () => {
    const home = await loggedIn(foundation.url);
    foundation.tokens.rotateKey();
    const from = foundation.requests.length;
    const runs = await Promise.all(SIX.map(() => cli(home, ['ssh-enabled', 'demo-app'])));
    for (const r of runs) assert.deepEqual([r.code, r.stdout, r.stderr], [0, ENABLED, '']);
    assert.equal(refreshesSince(from), 1);
  });
});

describe('withFileLock', () => {
  const folder = (): Folder => ({ dir: tempHome(), setting: 'the test', use: 'locks' });

  it('runs one holder at a time, and leaves no lock behind', async () => {
    const place = folder();
    let inside = 0;
    let most = 0;
    await Promise.all(
      SIX.map(() =>
        withFileLock(place, 'test.lock', async () => {
          inside += 1;
          most = Math.max(most, inside);
          for (let i = 0; i < 5; i += 1) await tick();
          inside -= 1;
        }),
      ),
    );
    assert.equal(most, 1);
    assert.equal(existsSync(path.join(place.dir, 'test.lock')), false);
  });

  it('releases the lock when the work fails', async () => {
    const place = folder();
    await assert.rejects(
      withFileLock(place, 'test.lock', () => Promise.reject(new Error('refresh failed'))),
      /refresh failed/,
    );
    assert.equal(existsSync(path.join(place.dir, 'test.lock')), false);
  });

  it('takes over the lock of a process that is gone, and a lock older than any refresh', async () => {
    const place = folder();
    const lock = path.join(place.dir, 'test.lock');
    const gone = spawnSync(process.execPath, ['-e', '']).pid;
    writeFileSync(lock, `${gone} left-behind`);
    assert.equal(await withFileLock(place, 'test.lock', async () => 'ran'), 'ran');
    // Ours (alive), but two minutes old: its holder hangs.
    writeFileSync(lock, `${process.pid} hanging`);
    const old = new Date(Date.now() - 120_000);
    utimesSync(lock, old, old);
    assert.equal(await withFileLock(place, 'test.lock', async () => 'ran again'), 'ran again');
    assert.equal(existsSync(lock), false);
  });
});
