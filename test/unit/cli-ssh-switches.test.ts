// enable-ssh, disable-ssh, ssh-enabled, allow-space-ssh, disallow-space-ssh and
// space-ssh-allowed against the test foundation, as developer, space auditor, space manager,
// org manager, org auditor and admin: the CLI and the foundation in-process, with the exact
// requests where they matter.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Foundation, startFoundation } from '../foundation/server.js';
import { expectRequests } from '../helpers/expect-requests.js';
import { passwordGrant } from '../helpers/foundation.js';
import { loggedIn, runCli, tempHome } from '../helpers/run-cli.js';

describe('SSH switches', () => {
  let foundation: Foundation;
  let developer: string;
  let auditor: string;
  let manager: string;
  let spaceManager: string;

  const appSsh = (name: string) => foundation.world.apps.find((a) => a.name === name)?.sshEnabled;
  const spaceSsh = (name: string) => foundation.world.spaces.find((s) => s.name === name)?.allowSsh;

  before(async () => {
    foundation = await startFoundation({ ssh: false });
    [developer, auditor, manager, spaceManager] = await Promise.all([
      loggedIn(foundation.url, 'developer'),
      loggedIn(foundation.url, 'auditor'),
      loggedIn(foundation.url, 'manager'),
      loggedIn(foundation.url, 'space-manager'),
    ]);
  });
  after(() => foundation.stop());

  it('enable-ssh turns the app switch on with one PATCH and says a restart is needed', async () => {
    const r = await expectRequests(
      foundation,
      [
        'GET /v3/apps?names=no-ssh-app&space_guids=:space',
        'GET /v3/apps/:guid/features/ssh',
        'PATCH /v3/apps/:guid/features/ssh',
        // What the TIP says depends on every level.
        'GET /v3/apps/:guid/ssh_enabled',
        'GET /v3/apps/:guid/features/ssh',
        'GET /v3/spaces/:guid/features/ssh',
      ],
      () => runCli(developer, ['enable-ssh', 'no-ssh-app']),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Enabling ssh support for app no-ssh-app as developer...\nOK\n\nTIP: An app restart is required for the change to take effect.\n');
    assert.equal(appSsh('no-ssh-app'), true);
    const again = await runCli(developer, ['enable-ssh', 'no-ssh-app']);
    assert.match(again.stdout, /ssh support for app 'no-ssh-app' is already enabled\.\nOK\n\nTIP: An app restart may be required/);
    assert.equal((await runCli(developer, ['disable-ssh', 'no-ssh-app'])).code, 0);
    assert.equal(appSsh('no-ssh-app'), false);
  });

  it('disable-ssh is safe to run twice: exit 0, no prompt, and CC still asked each time', async () => {
    const first = await expectRequests(foundation, ['GET /v3/apps?names=demo-app&space_guids=:space', 'GET /v3/apps/:guid/features/ssh', 'PATCH /v3/apps/:guid/features/ssh'], () =>
      runCli(developer, ['disable-ssh', 'demo-app']),
    );
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, 'Disabling ssh support for app demo-app as developer...\nOK\n\n');
    assert.equal(appSsh('demo-app'), false);
    const second = await expectRequests(
      foundation,
      ['GET /v3/apps?names=demo-app&space_guids=:space', 'GET /v3/apps/:guid/features/ssh', 'PATCH /v3/apps/:guid/features/ssh'],
      () => runCli(developer, ['disable-ssh', 'demo-app']),
    );
    assert.equal(second.code, 0);
    assert.equal(second.stdout, "Disabling ssh support for app demo-app as developer...\nssh support for app 'demo-app' is already disabled.\nOK\n\n");
    assert.equal((await runCli(developer, ['enable-ssh', 'demo-app'])).code, 0);
    assert.equal(appSsh('demo-app'), true);
  });

  it('enable-ssh names the space that still blocks SSH', async () => {
    // locked-app lives in locked-space: not found from demo-space.
    const r = await runCli(developer, ['enable-ssh', 'locked-app']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /App 'locked-app' not found\./);
    const home = await loggedIn(foundation.url, 'developer', 'locked-space');
    const locked = await runCli(home, ['enable-ssh', 'locked-app']);
    assert.equal(locked.code, 0, locked.stderr);
    assert.match(locked.stdout, /TIP: SSH is not allowed in space 'locked-space': a space or org manager can run 'cf-ssh-tools allow-space-ssh locked-space'\./);
  });

  it('ssh-enabled reports each level, in text and JSON, and only reads', async () => {
    const on = await expectRequests(
      foundation,
      ['GET /v3/apps?names=demo-app&space_guids=:space', 'GET /v3/apps/:guid/ssh_enabled', 'GET /v3/apps/:guid/features/ssh', 'GET /v3/spaces/:guid/features/ssh'],
      () => runCli(developer, ['ssh-enabled', 'demo-app']),
    );
    assert.equal(on.stdout, "ssh support is enabled for app 'demo-app'.\n");
    const off = await runCli(developer, ['ssh-enabled', 'no-ssh-app']);
    assert.equal(off.code, 0);
    assert.equal(
      off.stdout,
      "ssh support is disabled for app 'no-ssh-app'.\nssh is disabled for app\nSSH is disabled for app 'no-ssh-app': a space developer can run 'cf-ssh-tools enable-ssh no-ssh-app'.\n",
    );
    const json: unknown = JSON.parse((await runCli(auditor, ['ssh-enabled', 'no-ssh-app', '--json'])).stdout);
    assert.deepEqual(json, {
      app: 'no-ssh-app',
      space: 'demo-space',
      enabled: false,
      reason: 'ssh is disabled for app',
      levels: { global: true, space: true, app: false },
      blockedBy: 'app',
    });
  });

  it('the global switch is named when it is the one that is off', async () => {
    foundation.world.globalSsh = false;
    try {
      const r = await runCli(developer, ['ssh-enabled', 'demo-app']);
      assert.match(r.stdout, /ssh support is disabled for app 'demo-app'\.\nssh is disabled globally\nSSH is disabled globally/);
      const enable = await runCli(developer, ['enable-ssh', 'demo-app']);
      assert.match(enable.stdout, /TIP: SSH is disabled globally on this Cloud Foundry: only its operators can enable it\./);
      const json = JSON.parse((await runCli(developer, ['ssh-enabled', 'demo-app', '--json'])).stdout) as { levels: unknown };
      assert.deepEqual(json.levels, { global: false, space: true, app: true });
    } finally {
      foundation.world.globalSsh = true;
    }
  });

  it('a Cloud Controller older than October 2019 words its reasons otherwise: each level is still named', async () => {
    foundation.world.sshReasonWording = 'pre-2019';
    try {
      const status = async (home: string, app: string) => JSON.parse((await runCli(home, ['ssh-enabled', app, '--json'])).stdout) as { reason: string; blockedBy: string };
      const locked = await status(await loggedIn(foundation.url, 'developer', 'locked-space'), 'locked-app');
      assert.deepEqual([locked.reason, locked.blockedBy], ['Disabled for space locked-space', 'space']);
      const off = await runCli(developer, ['ssh-enabled', 'no-ssh-app']);
      assert.equal(
        off.stdout,
        "ssh support is disabled for app 'no-ssh-app'.\nDisabled for app\nSSH is disabled for app 'no-ssh-app': a space developer can run 'cf-ssh-tools enable-ssh no-ssh-app'.\n",
      );
      foundation.world.globalSsh = false;
      const global = await runCli(developer, ['ssh-enabled', 'demo-app', '--json']);
      assert.deepEqual(JSON.parse(global.stdout), {
        app: 'demo-app',
        space: 'demo-space',
        enabled: false,
        reason: 'Disabled globally',
        levels: { global: false, space: true, app: true },
        blockedBy: 'global',
      });
    } finally {
      foundation.world.globalSsh = true;
      foundation.world.sshReasonWording = 'current';
    }
  });

  it('an auditor may read but not change the switches: 403 in cf words', async () => {
    const r = await runCli(auditor, ['disable-ssh', 'demo-app']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'You are not authorized to perform the requested action\n');
    assert.equal(r.stdout, 'Disabling ssh support for app demo-app as auditor...\nFAILED\n');
    assert.equal(appSsh('demo-app'), true);
  });

  it('a switch already as asked is no OK for whoever may not set it: CC is asked all the same', async () => {
    for (const [home, user] of [
      [auditor, 'auditor'],
      [spaceManager, 'space-manager'],
    ] as const) {
      const enable = await expectRequests(
        foundation,
        ['GET /v3/apps?names=demo-app&space_guids=:space', 'GET /v3/apps/:guid/features/ssh', 'PATCH /v3/apps/:guid/features/ssh'],
        () => runCli(home, ['enable-ssh', 'demo-app']),
      );
      assert.equal(enable.code, 1, user);
      assert.equal(enable.stdout, `Enabling ssh support for app demo-app as ${user}...\nFAILED\n`);
      assert.equal(enable.stderr, 'You are not authorized to perform the requested action\n');
      const disable = await runCli(home, ['disable-ssh', 'no-ssh-app']);
      assert.equal(disable.code, 1, user);
      assert.equal(disable.stdout, `Disabling ssh support for app no-ssh-app as ${user}...\nFAILED\n`);
      assert.equal(disable.stderr, 'You are not authorized to perform the requested action\n');
    }
    assert.equal(appSsh('demo-app'), true);
    assert.equal(appSsh('no-ssh-app'), false);
  });

  it('the foundation refuses as CC does: 403 CF-NotAuthorized, code 10003', async () => {
    const { access_token } = await passwordGrant(foundation.url, 'auditor', 'auditor-pass');
    const app = foundation.world.apps.find((a) => a.name === 'demo-app');
    const res = await fetch(`${foundation.url}/v3/apps/${app?.guid}/features/ssh`, {
      method: 'PATCH',
      headers: { Authorization: `bearer ${access_token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ enabled: true }),
    });
    assert.equal(res.status, 403);
    assert.deepEqual(await res.json(), { errors: [{ code: 10003, title: 'CF-NotAuthorized', detail: 'You are not authorized to perform the requested action' }] });
  });

  it('app not found', async () => {
    const r = await expectRequests(foundation, ['GET /v3/apps?names=no-such-app&space_guids=:space'], () => runCli(developer, ['ssh-enabled', 'no-such-app']));
    assert.equal(r.code, 1);
    assert.equal(r.stderr, "App 'no-such-app' not found.\n");
    assert.equal(r.stdout, 'FAILED\n');
  });

  it('space switches: only space and org managers and admins may change them; disallow twice is fine', async () => {
    const denied = await runCli(developer, ['allow-space-ssh', 'locked-space']);
    assert.equal(denied.code, 1);
    assert.equal(denied.stderr, 'You are not authorized to perform the requested action\n');
    assert.equal(spaceSsh('locked-space'), false);

    const allow = await expectRequests(
      foundation,
      ['GET /v3/spaces?names=locked-space&organization_guids=:org&order_by=name', 'GET /v3/spaces/:guid/features/ssh', 'PATCH /v3/spaces/:guid/features/ssh'],
      () => runCli(manager, ['allow-space-ssh', 'locked-space']),
    );
    assert.equal(allow.code, 0, allow.stderr);
    assert.equal(allow.stdout, 'Enabling ssh support for space locked-space as manager...\nOK\n\n');
    assert.equal(spaceSsh('locked-space'), true);
    assert.equal((await runCli(developer, ['space-ssh-allowed', 'locked-space'])).stdout, "ssh support is enabled in space 'locked-space'.\n");

    const disallow = await runCli(spaceManager, ['disallow-space-ssh', 'locked-space']);
    assert.equal(disallow.stdout, 'Disabling ssh support for space locked-space as space-manager...\nOK\n\n');
    const twice = await expectRequests(
      foundation,
      ['GET /v3/spaces?names=locked-space&organization_guids=:org&order_by=name', 'GET /v3/spaces/:guid/features/ssh', 'PATCH /v3/spaces/:guid/features/ssh'],
      () => runCli(manager, ['disallow-space-ssh', 'locked-space']),
    );
    assert.equal(twice.code, 0);
    assert.equal(twice.stdout, "Disabling ssh support for space locked-space as manager...\nssh support for space 'locked-space' is already disabled.\nOK\n\n");
    assert.equal(spaceSsh('locked-space'), false);
  });

  it('a space switch already as asked is no OK for a developer or auditor; an org auditor sees no space', async () => {
    for (const [home, user] of [
      [developer, 'developer'],
      [auditor, 'auditor'],
    ] as const) {
      const r = await expectRequests(
        foundation,
        ['GET /v3/spaces?names=demo-space&organization_guids=:org&order_by=name', 'GET /v3/spaces/:guid/features/ssh', 'PATCH /v3/spaces/:guid/features/ssh'],
        () => runCli(home, ['allow-space-ssh', 'demo-space']),
      );
      assert.equal(r.code, 1, user);
      assert.equal(r.stdout, `Enabling ssh support for space demo-space as ${user}...\nFAILED\n`);
      assert.equal(r.stderr, 'You are not authorized to perform the requested action\n');
    }
    const orgAuditor = tempHome();
    const login = await runCli(orgAuditor, ['login', '-a', foundation.url, '-u', 'org-auditor', '-p', 'org-auditor-pass', '-o', 'demo-org']);
    assert.equal(login.code, 0, login.stderr);
    const r = await expectRequests(foundation, ['GET /v3/spaces?names=demo-space&organization_guids=:org&order_by=name'], () =>
      runCli(orgAuditor, ['allow-space-ssh', 'demo-space']),
    );
    assert.equal(r.code, 1);
    assert.equal(r.stdout, 'Enabling ssh support for space demo-space as org-auditor...\nFAILED\n');
    assert.equal(r.stderr, "Space 'demo-space' not found.\n");
    assert.equal(spaceSsh('demo-space'), true);
  });

  it('space not found, and --json for space-ssh-allowed', async () => {
    const r = await runCli(manager, ['allow-space-ssh', 'no-such-space']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, "Space 'no-such-space' not found.\n");
    const json: unknown = JSON.parse((await runCli(auditor, ['space-ssh-allowed', 'demo-space', '--json'])).stdout);
    assert.deepEqual(json, { space: 'demo-space', enabled: true });
  });

  it('shows Cloud Controller warnings on stderr', async () => {
    foundation.settings.warning = 'This API is deprecated, soon, really';
    try {
      const r = await runCli(developer, ['ssh-enabled', 'demo-app']);
      assert.equal(r.code, 0);
      assert.match(r.stderr, /This API is deprecated, soon, really/);
      assert.doesNotMatch(r.stdout, /deprecated/);
    } finally {
      foundation.settings.warning = undefined;
    }
  });

  it('follows pagination when the foundation pages one item at a time', async () => {
    foundation.settings.pageSize = 1;
    try {
      const home = await loggedIn(foundation.url, 'admin');
      const from = foundation.requests.length;
      const r = await runCli(home, ['target', '-o', 'demo-org', '--json']);
      assert.equal(r.code, 0, r.stderr);
      // demo-org has two spaces: with one per page, only a client that follows `next` sees both and targets neither.
      assert.equal((JSON.parse(r.stdout) as { space: unknown }).space, null);
      const spaces = foundation.requests.slice(from).filter((q) => q.path === '/v3/spaces');
      assert.ok(spaces.length >= 2, `expected a request per page, saw ${spaces.length}`);
    } finally {
      foundation.settings.pageSize = 50;
    }
  });
});
