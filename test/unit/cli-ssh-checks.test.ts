// `ssh` refusing before it connects: which level turned SSH off, and an app, process or instance
// that cannot be reached. The CLI and the foundation in-process; the SSH proxy runs (its address
// is in the API root) but no one may connect to it, and no one-time code is asked for.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Foundation, startFoundation } from '../foundation/server.js';
import { expectRequests } from '../helpers/expect-requests.js';
import { loggedIn, runCli } from '../helpers/run-cli.js';

describe('ssh before connecting', () => {
  let foundation: Foundation;
  let developer: string;

  /** Nothing reached the SSH proxy. */
  const assertNoSshConnection = () => assert.deepEqual(foundation.ssh?.proxy.log, []);

  before(async () => {
    foundation = await startFoundation({ ssh: true, sshBackend: 'builtin' });
    developer = await loggedIn(foundation.url);
  });
  after(() => foundation.stop());

  it('says which level turned SSH off, before connecting', async () => {
    const app = await expectRequests(
      foundation,
      [
        'GET /',
        'GET /v3/apps?names=no-ssh-app&space_guids=:space',
        'GET /v3/apps/:guid/processes',
        'GET /v3/processes/:guid/stats',
        'GET /v3/apps/:guid/ssh_enabled',
        // Which level it is.
        'GET /v3/apps/:guid/ssh_enabled',
        'GET /v3/apps/:guid/features/ssh',
        'GET /v3/spaces/:guid/features/ssh',
      ],
      () => runCli(developer, ['ssh', 'no-ssh-app', '-c', 'true']),
    );
    assert.equal(app.code, 1);
    assert.equal(app.stderr, "SSH is disabled for app 'no-ssh-app': a space developer can run 'cf-ssh-tools enable-ssh no-ssh-app'.\n");
    const locked = await runCli(await loggedIn(foundation.url, 'developer', 'locked-space'), ['ssh', 'locked-app', '-c', 'true']);
    assert.equal(locked.stderr, "SSH is not allowed in space 'locked-space': a space or org manager can run 'cf-ssh-tools allow-space-ssh locked-space'.\n");
    foundation.world.globalSsh = false;
    try {
      const global = await runCli(developer, ['ssh', 'demo-app', '-c', 'true']);
      assert.equal(global.stderr, 'SSH is disabled globally on this Cloud Foundry: only its operators can enable it.\n');
    } finally {
      foundation.world.globalSsh = true;
    }
    assertNoSshConnection();
  });

  it('names the state of an app or instance that cannot be reached, and the valid indexes', async () => {
    const stopped = await runCli(developer, ['ssh', 'stopped-app']);
    assert.equal(stopped.stderr, "Application 'stopped-app' is not in the STARTED state\n");
    const range = await runCli(developer, ['ssh', 'demo-app', '-i', '5']);
    assert.equal(range.stderr, 'Instance 5 of process web not found: demo-app has 2 web instances (indexes 0 to 1 are valid).\n');
    const process = await runCli(developer, ['ssh', 'demo-app', '--process', 'clock']);
    assert.equal(process.stderr, 'Process clock not found: demo-app has web, worker.\n');
    const missing = await runCli(developer, ['ssh', 'no-such-app']);
    assert.equal(missing.stderr, "App 'no-such-app' not found.\n");
    const web = foundation.world.apps.find((a) => a.name === 'demo-app')?.processes.find((p) => p.type === 'web');
    assert.ok(web);
    foundation.world.setInstanceState(web, 1, 'CRASHED');
    try {
      const crashed = await runCli(developer, ['ssh', 'demo-app', '-i', '1', '-c', 'true']);
      assert.equal(crashed.code, 1);
      assert.match(crashed.stderr, /^Instance 1 of process web not running: it is CRASHED/);
    } finally {
      foundation.world.setInstanceState(web, 1, 'RUNNING');
    }
    assertNoSshConnection();
  });
});
