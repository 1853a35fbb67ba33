// The private folders of runs under TMPDIR: a killed run's is removed by a later run, a live
// run's never, and nothing that is not a run folder of ours with a socket that refuses.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { after, describe, it } from 'node:test';
import { makeRunFolder, removeFoldersOfKilledRuns } from '../../src/config/run-folders.js';
import { tempHome } from '../helpers/run-cli.js';

const RUN_FOLDERS = new URL('../../src/config/run-folders.js', import.meta.url).href;

/** A process of its own that makes a run folder with a secret in it and lives until killed. */
async function runInChild(tmp: string): Promise<{ dir: string; kill(): Promise<void> }> {
  const script = `
    const { makeRunFolder } = await import(${JSON.stringify(RUN_FOLDERS)});
    const { writeFileSync } = await import('node:fs');
    const folder = await makeRunFolder({ TMPDIR: ${JSON.stringify(tmp)} });
    writeFileSync(folder.dir + '/my.cnf', 'password="secret"\\n', { mode: 0o600 });
    console.log(folder.dir);
    setInterval(() => undefined, 60_000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  after(() => child.kill('SIGKILL'));
  const [dir] = (await once(readline.createInterface({ input: child.stdout }), 'line')) as [string];
  return {
    dir,
    async kill() {
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    },
  };
}

describe('run folders', () => {
  it('a killed run’s folder goes, with its secret; a live run’s stays, whether in this process or another', async () => {
    const tmp = tempHome();
    const killed = await runInChild(tmp);
    const living = await runInChild(tmp);
    const own = await makeRunFolder({ TMPDIR: tmp });
    await killed.kill();
    assert.deepEqual(await removeFoldersOfKilledRuns({ TMPDIR: tmp }), [killed.dir]);
    assert.equal(existsSync(killed.dir), false);
    assert.deepEqual(readdirSync(tmp).sort(), [path.basename(living.dir), path.basename(own.dir)].sort());
    await own.remove();
    assert.equal(existsSync(own.dir), false);
    // Gone from the next sweep as well: nothing is reported twice.
    assert.deepEqual(await removeFoldersOfKilledRuns({ TMPDIR: tmp }), []);
  });

  it('leaves alone what it cannot prove is a killed run’s folder', async () => {
    const tmp = tempHome();
    const killed = await runInChild(tmp);
    await killed.kill();
    // A folder just made, before its socket listens; one whose .alive is no socket; other names.
    const starting = mkdtempSync(path.join(tmp, 'cf-ssh-tools-'));
    const noSocket = mkdtempSync(path.join(tmp, 'cf-ssh-tools-'));
    writeFileSync(path.join(noSocket, '.alive'), '');
    mkdirSync(path.join(tmp, 'cf-ssh-tools-databases-abcdef'));
    mkdirSync(path.join(tmp, 'cf-ssh-tools-x'));
    // A link named like a run folder, to a killed run's folder: never followed.
    const link = path.join(tmp, 'cf-ssh-tools-L1nk00');
    symlinkSync(killed.dir, link);
    assert.deepEqual(await removeFoldersOfKilledRuns({ TMPDIR: tmp }), [killed.dir]);
    assert.deepEqual(readdirSync(tmp).sort(), [path.basename(starting), path.basename(noSocket), 'cf-ssh-tools-databases-abcdef', 'cf-ssh-tools-x', 'cf-ssh-tools-L1nk00'].sort());
  });

  it('a TMPDIR that cannot be read: nothing removed, no error', async () => {
    assert.deepEqual(await removeFoldersOfKilledRuns({ TMPDIR: path.join(tempHome(), 'missing') }), []);
  });
});
