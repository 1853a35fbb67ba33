// The built binary launched by a fake cf, each run a process of its own as cf starts it: bin.ts
// tells cf's launches from standalone runs, and the process ends with the command's exit status
// (no RPC socket or keep-alive connection holds it). What the launches do is tested in-process
// in test/unit/plugin.test.ts; the Go cf-host runs the packaged binary in package.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Foundation, startFoundation } from '../foundation/server.js';
import { cli, tempHome } from '../helpers/cli.js';
import { answersFor, FakeCf } from '../helpers/fake-cf.js';
import { freePort } from '../helpers/net.js';

describe('the built binary launched by cf', () => {
  let foundation: Foundation;
  let cf: FakeCf;
  let port: number;

  before(async () => {
    foundation = await startFoundation({ ssh: false });
    cf = new FakeCf(await answersFor(foundation));
    port = await cf.listen();
  });
  after(async () => {
    await cf.close();
    await foundation.stop();
  });

  it('SendMetadata: exit 0, nothing written, one SetPluginMetadata call', async () => {
    cf.calls.length = 0;
    const r = await cli(tempHome(), [String(port), 'SendMetadata']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout + r.stderr, '');
    assert.deepEqual(cf.calls, ['CliRpcCmd.SetPluginMetadata']);
    assert.equal(cf.metadata?.Name, 'cf-ssh-tools');
  });

  it("a plugin command runs with cf's session and its exit status is the process's", async () => {
    const ok = await cli(tempHome(), [String(port), 'xssh-enabled', 'demo-app']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, "ssh support is enabled for app 'demo-app'.\n");
    assert.ok(cf.calls.includes('CliRpcCmd.GetCurrentSpace'));
    const missing = await cli(tempHome(), [String(port), 'xssh-enabled', 'no-such-app']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, "App 'no-such-app' not found.\n");
  });

  it('ends with a message, not a hang, when cf is gone', async () => {
    const closed = await freePort();
    const r = await cli(tempHome(), [String(closed), 'xssh-code']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^The plugin could not talk to cf \(CliRpcCmd.ApiEndpoint\): connect ECONNREFUSED/);
  });
});
