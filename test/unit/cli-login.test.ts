// login, logout, target and ssh-code against the test foundation, the CLI in-process: grants,
// where tokens are kept, targets, and the errors users meet.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Foundation, startFoundation } from '../foundation/server.js';
import { expectRequests } from '../helpers/expect-requests.js';
import { loggedIn, runCli, tempHome } from '../helpers/run-cli.js';

describe('login, target, logout, ssh-code', () => {
  let foundation: Foundation;

  before(async () => {
    foundation = await startFoundation({ ssh: false });
  });
  after(() => foundation.stop());

  it('logs in with a password, targets org and space, and keeps tokens out of session.json', async () => {
    const home = tempHome();
    // The OS keychain is tried: where there is none (as on CI), tokens go to a 0600 file, with a notice.
    const r = await runCli(home, ['login', '-a', foundation.url, '-u', 'developer', '-p', 'developer-pass', '-o', 'demo-org', '-s', 'demo-space'], {
      env: { CF_SSH_TOOLS_NO_KEYCHAIN: undefined },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      [
        `API endpoint: ${foundation.url}`,
        '',
        '',
        'Authenticating...',
        'OK',
        '',
        'Targeted org demo-org.',
        '',
        'Targeted space demo-space.',
        '',
        `API endpoint:   ${foundation.url}`,
        'API version:    3.180.0',
        'user:           developer',
        'org:            demo-org',
        'space:          demo-space',
        '',
      ].join('\n'),
    );
    assert.match(r.stderr, /Insecure http API endpoint/);
    const dir = path.join(home, '.cf-ssh-tools');
    const session = readFileSync(path.join(dir, 'session.json'), 'utf8');
    assert.doesNotMatch(session, /eyJ|developer-pass/);
    assert.equal(statSync(path.join(dir, 'session.json')).mode & 0o777, 0o600);
    if (JSON.parse(session).secretStorage === 'file') {
      assert.match(r.stderr, /^Notice: no OS keychain is usable here \(.+\); tokens are kept in .*tokens\.json \(mode 0600\)\.$/m);
      assert.equal(statSync(path.join(dir, 'tokens.json')).mode & 0o777, 0o600);
    } else {
      assert.equal(JSON.parse(session).secretStorage, 'keychain');
      assert.doesNotMatch(r.stderr, /Notice/);
      assert.equal(existsSync(path.join(dir, 'tokens.json')), false);
      assert.equal((await runCli(home, ['logout'], { env: { CF_SSH_TOOLS_NO_KEYCHAIN: undefined } })).code, 0);
    }
  });

  it('reads the password from stdin when it is not given and stdin is not a terminal', async () => {
    const home = tempHome();
    const r = await runCli(home, ['login', '-a', foundation.url, '-u', 'developer', '-o', 'demo-org', '-s', 'demo-space'], {
      input: 'developer-pass\n',
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Password: /);
    assert.doesNotMatch(r.stdout + r.stderr, /developer-pass/);
  });

  it('rejects a wrong password with one line and exit 1', async () => {
    const r = await runCli(tempHome(), ['login', '-a', foundation.url, '-u', 'developer', '-p', 'wrong']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Credentials were rejected, please try again\.$/m);
    assert.match(r.stdout, /FAILED\n$/);
  });

  it('logs in with an SSO passcode, given or prompted for', async () => {
    const passcode = async () => {
      const res = await fetch(`${foundation.url}/uaa/passcode`, {
        headers: { Authorization: `Basic ${Buffer.from('auditor:auditor-pass').toString('base64')}` },
      });
      const code = /<h2>([0-9a-f]+)<\/h2>/.exec(await res.text())?.[1];
      assert.ok(code, 'the passcode page shows a code');
      return code;
    };
    const given = await runCli(tempHome(), ['login', '-a', foundation.url, '--sso-passcode', await passcode(), '-o', 'demo-org', '-s', 'demo-space']);
    assert.equal(given.code, 0, given.stderr);
    assert.match(given.stdout, /user:\s+auditor/);

    const prompted = await runCli(tempHome(), ['login', '-a', foundation.url, '--sso', '-o', 'demo-org', '-s', 'demo-space'], {
      input: `${await passcode()}\n`,
    });
    assert.equal(prompted.code, 0, prompted.stderr);
    assert.match(prompted.stderr, new RegExp(`Temporary Authentication Code \\( Get one at ${foundation.url}/uaa/passcode \\)`));

    const reused = await runCli(tempHome(), ['login', '-a', foundation.url, '--sso-passcode', 'deadbeef']);
    assert.equal(reused.code, 1);
    assert.match(reused.stderr, /The passcode was rejected/);
  });

  it('logs in with client credentials and refreshes by granting again', async () => {
    const home = tempHome();
    const r = await runCli(home, ['login', '-a', foundation.url, '--client-credentials', '-u', 'ci-client', '-p', 'ci-secret', '-o', 'demo-org', '-s', 'demo-space']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /user:\s+ci-client/);
    foundation.tokens.rotateKey();
    const status = await runCli(home, ['ssh-enabled', 'demo-app']);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /enabled for app 'demo-app'/);
  });

  it('refuses flags that cannot go together', async () => {
    const r = await runCli(tempHome(), ['login', '--sso', '--sso-passcode', 'x']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'Incorrect Usage: The following arguments cannot be used together: --sso, --sso-passcode\n');
    assert.match(r.stdout, /^FAILED\n\nNAME:\n   login - Log user in/);
  });

  it('target switches org and space, names what is missing, and says when a space does not exist', async () => {
    const home = await loggedIn(foundation.url);
    const bad = await runCli(home, ['target', '-s', 'nowhere']);
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr, "Space 'nowhere' not found.\n");
    const badOrg = await runCli(home, ['target', '-o', 'no-org']);
    assert.equal(badOrg.stderr, "Organization 'no-org' not found.\n");

    const locked = await expectRequests(foundation, ['GET /v3/spaces?names=locked-space&organization_guids=:org&order_by=name', 'GET /v3/spaces/:guid/features/ssh'], () =>
      runCli(home, ['target', '-s', 'locked-space', '--json']),
    );
    assert.equal(locked.code, 0, locked.stderr);
    assert.deepEqual(JSON.parse(locked.stdout), { api: foundation.url, apiVersion: '3.180.0', user: 'developer', org: 'demo-org', space: 'locked-space' });

    const orgOnly = await runCli(home, ['target', '-o', 'demo-org']);
    assert.match(orgOnly.stdout, /space:\s+No space targeted, use 'cf-ssh-tools target -s SPACE'/);
    const noSpace = await runCli(home, ['enable-ssh', 'demo-app']);
    assert.equal(noSpace.code, 1);
    assert.equal(noSpace.stderr, "No space targeted, use 'cf-ssh-tools target -s SPACE' to target a space.\n");
  });

  it('says when no org is targeted', async () => {
    const home = tempHome();
    const r = await runCli(home, ['login', '-a', foundation.url, '-u', 'admin', '-p', 'admin-pass']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /No org or space targeted, use 'cf-ssh-tools target -o ORG -s SPACE'/);
    const ssh = await runCli(home, ['ssh-enabled', 'demo-app']);
    assert.equal(ssh.code, 1);
    assert.equal(ssh.stderr, "No org targeted, use 'cf-ssh-tools target -o ORG' to target an org.\n");
  });

  it('ssh-code prints a one-time code that the SSH proxy can redeem exactly once', async () => {
    const home = await loggedIn(foundation.url);
    const r = await runCli(home, ['ssh-code']);
    assert.equal(r.code, 0, r.stderr);
    const code = r.stdout.trim();
    assert.match(code, /^[\w-]{6,}$/);
    const redeem = () =>
      fetch(`${foundation.url}/uaa/oauth/token`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          Authorization: `Basic ${Buffer.from('ssh-proxy:ssh-proxy-secret').toString('base64')}`,
        },
        body: new URLSearchParams({ grant_type: 'authorization_code', code }).toString(),
      });
    assert.equal((await redeem()).status, 200);
    assert.equal((await redeem()).status, 400);
    const second = await runCli(home, ['ssh-code']);
    assert.notEqual(second.stdout.trim(), code);
  });

  it('logout revokes the tokens at UAA and forgets our own session', async () => {
    const home = await loggedIn(foundation.url);
    const { refreshToken } = JSON.parse(readFileSync(path.join(home, '.cf-ssh-tools', 'tokens.json'), 'utf8'));
    const r = await runCli(home, ['logout']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, 'Logging out developer...\nOK\n\n');
    const refresh = await fetch(`${foundation.url}/uaa/oauth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: `Basic ${Buffer.from('cf:').toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }).toString(),
    });
    assert.equal(refresh.status, 401, 'the refresh token was revoked');
    const after = await runCli(home, ['ssh-code']);
    assert.equal(after.code, 1);
    assert.equal(after.stderr, "No API endpoint set. Use 'cf-ssh-tools login -a API_URL' to set one.\n");
  });

  it('not logged in, with an API set in cf config', async () => {
    const home = tempHome();
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(path.join(home, '.cf'));
    writeFileSync(path.join(home, '.cf', 'config.json'), JSON.stringify({ ConfigVersion: 4, Target: foundation.url }));
    const r = await runCli(home, ['ssh-code']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, "Not logged in. Use 'cf-ssh-tools login' or 'cf-ssh-tools login --sso' to log in.\n");
    assert.equal(r.stdout, 'FAILED\n');
  });
});
