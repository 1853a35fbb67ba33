// `ssh --all-instances` end to end: the built CLI against the foundation process, each instance
// behind its real sshd, with its own one-time code; one failing, one not running.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cli, loggedIn } from '../helpers/cli.js';
import { type RunningFoundation, startFoundationProcess } from '../helpers/foundation.js';

describe('ssh --all-instances with the built CLI', () => {
  let foundation: RunningFoundation;
  let developer: string;

  before(async () => {
    foundation = await startFoundationProcess();
    developer = await loggedIn(foundation.url);
  });
  after(() => foundation.stop());

  /** Output lines sorted: instances run in parallel, each line whole and prefixed. */
  const lines = (text: string) => text.split('\n').filter(Boolean).sort();

  it('runs on every instance, lines prefixed, the lowest failing status its own', async () => {
    const r = await cli(developer, ['ssh', 'demo-app', '--all-instances', '-c', 'echo "hello from $CF_INSTANCE_INDEX"; [ $CF_INSTANCE_INDEX = 0 ] || exit 2']);
    assert.deepEqual(lines(r.stdout), ['[web/0] hello from 0', '[web/1] hello from 1']);
    assert.equal(r.stderr, 'demo-app: 1 of 2 instances succeeded; failed: web/1 (exit 2)\n');
    assert.equal(r.code, 2);
  });

  it('an instance that is not running is skipped and named; --json has one entry per instance that ran', async () => {
    await foundation.control('PUT', '/foundation/instances', { app: 'demo-app', process: 'web', index: 1, state: 'CRASHED' });
    try {
      const r = await cli(developer, ['ssh', 'demo-app', '--all-instances', '--json', '-c', 'echo $CF_INSTANCE_INDEX']);
      const report = JSON.parse(r.stdout) as { instances: { index: number; exitStatus?: number; stdout: string }[] };
      const ran = report.instances.filter((instance) => instance.exitStatus !== undefined);
      assert.deepEqual(
        ran.map(({ index, exitStatus, stdout }) => ({ index, exitStatus, stdout })),
        [{ index: 0, exitStatus: 0, stdout: '0\n' }],
      );
      assert.match(r.stderr, /^demo-app: 1 of 1 instances? succeeded; not running: web\/1 \(CRASHED\)\n$/);
      assert.equal(r.code, 0);
    } finally {
      await foundation.control('PUT', '/foundation/instances', { app: 'demo-app', process: 'web', index: 1, state: 'RUNNING' });
    }
  });
});
