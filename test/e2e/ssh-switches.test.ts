// enable-ssh, disable-ssh, ssh-enabled, allow-space-ssh, disallow-space-ssh and
// space-ssh-allowed against the test foundation, as developer, auditor, manager and admin.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { cli, loggedIn } from '../helpers/cli.js';
import { type RunningFoundation, startFoundationProcess } from '../helpers/foundation.js';

interface FoundationState {
  global_ssh: boolean;
  spaces: { name: string; allow_ssh: boolean }[];
  apps: { name: string; ssh_enabled: boolean }[];
}

describe('SSH switches', () => {
  let foundation: RunningFoundation;
  let developer: string;
  let auditor: string;
  let manager: string;

  const state = () => foundation.control<FoundationState>('GET', '/foundation/state');
  const appSsh = async (name: string) => (await state()).apps.find((a) => a.name === name)?.ssh_enabled;
  const spaceSsh = async (name: string) => (await state()).spaces.find((s) => s.name === name)?.allow_ssh;
  const requests = () => foundation.control<{ method: string; path: string }[]>('GET', '/foundation/requests');

  before(async () => {
    foundation = await startFoundationProcess();
    [developer, auditor, manager] = await Promise.all([
      loggedIn(foundation.url, 'developer'),
      loggedIn(foundation.url, 'auditor'),
      loggedIn(foundation.url, 'manager'),
    ]);
  });
  after(() => foundation.stop());
  beforeEach(() => foundation.control('DELETE', '/foundation/requests'));

  it('enable-ssh turns the app switch on and says a restart is needed', async () => {
    const r = await cli(developer, ['enable-ssh', 'no-ssh-app']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      'Enabling ssh support for app no-ssh-app as developer...\nOK\n\nTIP: An app restart is required for the change to take effect.\n',
    );
    assert.equal(await appSsh('no-ssh-app'), true);
    const again = await cli(developer, ['enable-ssh', 'no-ssh-app']);
    assert.match(again.stdout, /ssh support for app 'no-ssh-app' is already enabled\.\nOK\n\nTIP: An app restart may be required/);
    await cli(developer, ['disable-ssh', 'no-ssh-app']);
  });

  it('disable-ssh is safe to run twice: exit 0, no prompt, no second PATCH', async () => {
    const first = await cli(developer, ['disable-ssh', 'demo-app']);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, 'Disabling ssh support for app demo-app as developer...\nOK\n\n');
    assert.equal(await appSsh('demo-app'), false);
    await foundation.control('DELETE', '/foundation/requests');
    const second = await cli(developer, ['disable-ssh', 'demo-app']);
    assert.equal(second.code, 0);
    assert.equal(second.stdout, "Disabling ssh support for app demo-app as developer...\nssh support for app 'demo-app' is already disabled.\nOK\n\n");
    assert.equal((await requests()).filter((r) => r.method === 'PATCH').length, 0);
    await cli(developer, ['enable-ssh', 'demo-app']);
    assert.equal(await appSsh('demo-app'), true);
  });

  it('enable-ssh names the space that still blocks SSH', async () => {
    const r = await cli(developer, ['enable-ssh', 'locked-app'], {});
    // locked-app lives in locked-space; target it first
    assert.equal(r.code, 1);
    assert.match(r.stderr, /App 'locked-app' not found\./);
    const home = await loggedIn(foundation.url, 'developer', 'locked-space');
    const locked = await cli(home, ['enable-ssh', 'locked-app']);
    assert.equal(locked.code, 0, locked.stderr);
    assert.match(locked.stdout, /TIP: SSH is not allowed in space 'locked-space': an org manager can run 'cf-ssh-tools allow-space-ssh locked-space'\./);
  });

  it('ssh-enabled reports each level, in text and JSON', async () => {
    const on = await cli(developer, ['ssh-enabled', 'demo-app']);
    assert.equal(on.stdout, "ssh support is enabled for app 'demo-app'.\n");
    const off = await cli(developer, ['ssh-enabled', 'no-ssh-app']);
    assert.equal(off.code, 0);
    assert.equal(
      off.stdout,
      "ssh support is disabled for app 'no-ssh-app'.\nDisabled for app\nSSH is disabled for app 'no-ssh-app': a space developer can run 'cf-ssh-tools enable-ssh no-ssh-app'.\n",
    );
    const json = JSON.parse((await cli(auditor, ['ssh-enabled', 'no-ssh-app', '--json'])).stdout);
    assert.deepEqual(json, {
      app: 'no-ssh-app',
      space: 'demo-space',
      enabled: false,
      reason: 'Disabled for app',
      levels: { global: true, space: true, app: false },
      blockedBy: 'app',
    });
  });

  it('the global switch is named when it is the one that is off', async () => {
    await foundation.control('PUT', '/foundation/global-ssh', { enabled: false });
    try {
      const r = await cli(developer, ['ssh-enabled', 'demo-app']);
      assert.match(r.stdout, /ssh support is disabled for app 'demo-app'\.\nDisabled globally\nSSH is disabled globally/);
      const enable = await cli(developer, ['enable-ssh', 'demo-app']);
      assert.match(enable.stdout, /TIP: SSH is disabled globally on this Cloud Foundry: only its operators can enable it\./);
      const json = JSON.parse((await cli(developer, ['ssh-enabled', 'demo-app', '--json'])).stdout);
      assert.deepEqual(json.levels, { global: false, space: true, app: true });
    } finally {
      await foundation.control('PUT', '/foundation/global-ssh', { enabled: true });
    }
  });

  it('an auditor may read but not change the switches: 403 in cf words', async () => {
    const r = await cli(auditor, ['disable-ssh', 'demo-app']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'You are not authorized to perform the requested action\n');
    assert.equal(r.stdout, 'Disabling ssh support for app demo-app as auditor...\nFAILED\n');
    assert.equal(await appSsh('demo-app'), true);
  });

  it('app not found', async () => {
    const r = await cli(developer, ['ssh-enabled', 'no-such-app']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, "App 'no-such-app' not found.\n");
    assert.equal(r.stdout, 'FAILED\n');
  });

  it('space switches: only org managers and admins may change them; disallow twice is fine', async () => {
    const denied = await cli(developer, ['allow-space-ssh', 'locked-space']);
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /You are not authorized to perform the requested action/);
    assert.equal(await spaceSsh('locked-space'), false);

    const allow = await cli(manager, ['allow-space-ssh', 'locked-space']);
    assert.equal(allow.code, 0, allow.stderr);
    assert.equal(allow.stdout, 'Enabling ssh support for space locked-space as manager...\nOK\n\n');
    assert.equal(await spaceSsh('locked-space'), true);
    assert.equal((await cli(developer, ['space-ssh-allowed', 'locked-space'])).stdout, "ssh support is enabled in space 'locked-space'.\n");

    const disallow = await cli(manager, ['disallow-space-ssh', 'locked-space']);
    assert.equal(disallow.stdout, 'Disabling ssh support for space locked-space as manager...\nOK\n\n');
    await foundation.control('DELETE', '/foundation/requests');
    const twice = await cli(manager, ['disallow-space-ssh', 'locked-space']);
    assert.equal(twice.code, 0);
    assert.equal(twice.stdout, "Disabling ssh support for space locked-space as manager...\nssh support for space 'locked-space' is already disabled.\nOK\n\n");
    assert.equal((await requests()).filter((r) => r.method === 'PATCH').length, 0);
    assert.equal(await spaceSsh('locked-space'), false);
  });

  it('space not found, and --json for space-ssh-allowed', async () => {
    const r = await cli(manager, ['allow-space-ssh', 'no-such-space']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, "Space 'no-such-space' not found.\n");
    const json = JSON.parse((await cli(auditor, ['space-ssh-allowed', 'demo-space', '--json'])).stdout);
    assert.deepEqual(json, { space: 'demo-space', enabled: true });
  });

  it('shows Cloud Controller warnings on stderr', async () => {
    await foundation.control('PUT', '/foundation/settings', { warning: 'This API is deprecated, soon, really' });
    try {
      const r = await cli(developer, ['ssh-enabled', 'demo-app']);
      assert.equal(r.code, 0);
      assert.match(r.stderr, /This API is deprecated, soon, really/);
      assert.doesNotMatch(r.stdout, /deprecated/);
    } finally {
      await foundation.control('PUT', '/foundation/settings', { warning: null });
    }
  });

  it('follows pagination when the foundation pages one item at a time', async () => {
    await foundation.control('PUT', '/foundation/settings', { page_size: 1 });
    try {
      const home = await loggedIn(foundation.url, 'admin');
      const r = await cli(home, ['target', '-o', 'demo-org', '--json']);
      assert.equal(r.code, 0, r.stderr);
      // demo-org has two spaces: with one per page, only a client that follows `next` sees both and targets neither.
      assert.equal(JSON.parse(r.stdout).space, null);
      const spaces = (await requests()).filter((q) => q.path === '/v3/spaces');
      assert.ok(spaces.length >= 2, `expected a request per page, saw ${spaces.length}`);
    } finally {
      await foundation.control('PUT', '/foundation/settings', { page_size: 50 });
    }
  });
});
