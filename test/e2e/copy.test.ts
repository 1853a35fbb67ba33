// copy with the built CLI against the foundation's process: 100 MiB each way through the SSH
// proxy to a real sshd's SFTP server, and a connection dropped mid-transfer (each way) that
// --resume then completes. The instances run on this machine as this user, so remote paths in
// the test's own temporary folder are checked with node:fs.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as tick } from 'node:timers/promises';
import { cli, loggedIn } from '../helpers/cli.js';
import { type RunningFoundation, startFoundationProcess } from '../helpers/foundation.js';

const MIB = 1024 * 1024;
const BIG = 100 * MIB;

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** A file of `size` random bytes, written in 1 MiB blocks. */
function randomFile(file: string, size: number): void {
  const block = randomBytes(MIB);
  writeFileSync(file, Buffer.alloc(0));
  for (let written = 0; written < size; written += MIB) writeFileSync(file, block.subarray(0, Math.min(MIB, size - written)), { flag: 'a' });
}

/** Resolves once `file` holds at least `bytes` (checked every few milliseconds). */
async function grownTo(file: string, bytes: number): Promise<void> {
  while (!existsSync(file) || statSync(file).size < bytes) await tick(5);
}

describe('copy end to end', () => {
  let foundation: RunningFoundation;
  let developer: string;
  let work: string;
  let remote: string;
  let local: string;

  before(async () => {
    foundation = await startFoundationProcess();
    developer = await loggedIn(foundation.url);
    work = mkdtempSync(path.join(os.tmpdir(), 'cf-ssh-tools-copy-e2e-'));
    remote = path.join(work, 'remote');
    local = path.join(work, 'local');
    mkdirSync(remote);
    mkdirSync(local);
    randomFile(path.join(local, 'big'), BIG);
  });
  after(async () => {
    await foundation.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('moves 100 MiB up and down unchanged, --verify agreeing', async () => {
    const up = await cli(developer, ['copy', '--verify', path.join(local, 'big'), `demo-app:${remote}/big`], { timeoutMs: 120_000 });
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stderr, /^Copied 1 file \(100\.0 MiB\) in [\d.]+ s, [\d.]+ MiB\/s, SHA-256 verified\.\n$/);
    const down = await cli(developer, ['copy', '-q', `demo-app:${remote}/big`, path.join(local, 'big.down')], { timeoutMs: 120_000 });
    assert.deepEqual([down.code, down.stdout, down.stderr], [0, '', '']);
    const expected = await sha256(path.join(local, 'big'));
    assert.equal(await sha256(path.join(remote, 'big')), expected);
    assert.equal(await sha256(path.join(local, 'big.down')), expected);
  });

  for (const direction of ['download', 'upload'] as const) {
    it(`a ${direction} cut by a lost connection says how far it got; --resume completes it`, async () => {
      const source = direction === 'download' ? path.join(remote, 'big') : path.join(local, 'big');
      if (!existsSync(source)) randomFile(source, BIG);
      const target = path.join(direction === 'download' ? local : remote, `cut-${direction}`);
      const [from, to] = direction === 'download' ? [`demo-app:${source}`, target] : [source, `demo-app:${target}`];
      const side = direction === 'download' ? 'local' : 'demo-app/0';

      const cut = cli(developer, ['copy', from, to], { timeoutMs: 120_000 });
      await grownTo(target, 4 * MIB);
      await foundation.control('POST', '/foundation/ssh/drop');
      const { code, stderr } = await cut;
      assert.equal(code, 255, stderr);
      const held = statSync(target).size;
      assert.ok(held > 0 && held < BIG, `${held} bytes`);
      assert.match(stderr, new RegExp(`^${side}: ${target} is incomplete: run the same copy with --resume to continue it\\.$`, 'm'));
      assert.match(stderr, /^Connection to the app instance was lost after \d+ s \(.+\)\.$/m);

      const resumed = await cli(developer, ['copy', '--resume', '--verify', from, to], { timeoutMs: 120_000 });
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.match(resumed.stderr, /^Copied 1 file \([\d.]+ MiB, 1 resumed\) in .*, SHA-256 verified\.\n$/);
      assert.equal(await sha256(target), await sha256(source));
    });
  }

  it('an instance without sha256sum: --resume refuses to guess, --verify says it could not check', async () => {
    // The app's own PATH (cf set-env) reaches instances started after it: instance 1 starts here, without sha256sum.
    const { access_token: token } = await foundation.tokens('developer', 'developer-pass');
    const cc = async (method: string, route: string, body?: unknown) => {
      const res = await fetch(`${foundation.url}${route}`, {
        method,
        headers: { Authorization: `bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      return (await res.json()) as { resources: { guid: string }[] };
    };
    const [app] = (await cc('GET', '/v3/apps?names=demo-app')).resources;
    await cc('PATCH', `/v3/apps/${app!.guid}/environment_variables`, { var: { PATH: path.join(work, 'no-tools') } });
    try {
      const source = path.join(local, 'small');
      randomFile(source, 2 * MIB);
      const partial = path.join(remote, 'partial');
      writeFileSync(partial, readFileSync(source).subarray(0, MIB));

      const resumed = await cli(developer, ['copy', '--resume', '-i', '1', source, `demo-app:${partial}`]);
      assert.deepEqual(
        [resumed.code, resumed.stderr],
        [1, `demo-app/1: cannot check that ${partial} is the start of ${source}: the instance has no sha256sum. Copy with -f to start over.\n`],
      );
      assert.equal(statSync(partial).size, MIB, 'the partial file is left as it was');

      const verified = await cli(developer, ['copy', '--verify', '-q', '-i', '1', `demo-app:${partial}`, path.join(local, 'unverified')]);
      assert.deepEqual([verified.code, verified.stderr], [1, `demo-app/1: cannot verify ${path.join(local, 'unverified')}: the instance has no sha256sum.\n`]);
    } finally {
      await cc('PATCH', `/v3/apps/${app!.guid}/environment_variables`, { var: { PATH: null } });
    }
  });
});
