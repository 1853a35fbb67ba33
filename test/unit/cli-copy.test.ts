// copy through the foundation's SSH proxy to a real OpenSSH sshd serving SFTP, the CLI
// in-process. The instances run on this machine as this user, so a remote path in a test's
// own temporary folder is seen from both sides and checked with node:fs.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseOperand, parseOperands } from '../../src/actions/copy-operands.js';
import { type Foundation, startFoundation } from '../foundation/server.js';
import { loggedIn, runCli } from '../helpers/run-cli.js';

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Every file under `dir` (folders as name/), sorted. */
function tree(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => (entry.isDirectory() ? [`${prefix}${entry.name}/`, ...tree(path.join(dir, entry.name), `${prefix}${entry.name}/`)] : [`${prefix}${entry.name}`]))
    .sort();
}

describe('copy operands', () => {
  it('APP:PATH is remote; ./a:b, /a:b and Windows drives are local', () => {
    assert.deepEqual(parseOperand('my-app:/home/vcap/app/log.txt'), { side: 'remote', appName: 'my-app', path: '/home/vcap/app/log.txt' });
    assert.deepEqual(parseOperand('my-app:'), { side: 'remote', appName: 'my-app', path: '.' });
    assert.deepEqual(parseOperand('a:b'), { side: 'remote', appName: 'a', path: 'b' });
    for (const local of ['./a:b', '/tmp/a:b', 'C:\\dump.sql', 'c:/dump.sql', 'dump.sql', '.', 'dir/x:y']) {
      assert.deepEqual(parseOperand(local), { side: 'local', path: local }, local);
    }
  });

  it('exactly one side is an app', () => {
    assert.equal(parseOperands('./x', 'my-app:/tmp/').appName, 'my-app');
    assert.throws(() => parseOperands('a:x', 'b:y'), { name: 'UsageError', message: /between this computer and one app instance, not from 'a' to 'b'/ });
    assert.throws(() => parseOperands('./x', 'C:\\y'), { name: 'UsageError', message: /neither '.\/x' nor 'C:\\y' names an app/ });
  });
});

describe('copy through the SSH proxy', () => {
  let foundation: Foundation;
  let developer: string;
  let work: string;

  before(async () => {
    foundation = await startFoundation({ ssh: true, sshBackend: 'openssh' });
    developer = await loggedIn(foundation.url);
  });
  after(async () => {
    await foundation.stop();
  });

  const fresh = () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'cf-ssh-tools-copy-'));
    mkdirSync(path.join(work, 'remote'));
    mkdirSync(path.join(work, 'local'));
    return { remote: path.join(work, 'remote'), local: path.join(work, 'local') };
  };
  const copy = (...args: string[]) => runCli(developer, ['copy', ...args]);

  it('uploads and downloads 0 B, 1 B and a few MiB unchanged, quietly when asked', async () => {
    const { remote, local } = fresh();
    try {
      for (const [name, size] of [
        ['empty', 0],
        ['one', 1],
        ['few-mib', 5 * 1024 * 1024 + 7],
      ] as const) {
        writeFileSync(path.join(local, name), randomBytes(size));
        const up = await copy(path.join(local, name), `demo-app:${remote}/`);
        assert.equal(up.code, 0, up.stderr);
        assert.equal(up.stdout, '');
        assert.match(up.stderr, new RegExp(`^Copied 1 file \\(${size < 1024 ? `${size} B` : '5.0 MiB'}\\) in [\\d.]+ s, .*/s\\.\\n$`));
        assert.equal(sha256(path.join(remote, name)), sha256(path.join(local, name)), name);
        const down = await copy('-q', `demo-app:${remote}/${name}`, path.join(local, `${name}.back`));
        assert.deepEqual([down.code, down.stdout, down.stderr], [0, '', '']);
        assert.equal(sha256(path.join(local, `${name}.back`)), sha256(path.join(local, name)), name);
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('refuses to overwrite without -f, names side and path of what is missing', async () => {
    const { remote, local } = fresh();
    try {
      writeFileSync(path.join(local, 'x'), 'new');
      writeFileSync(path.join(remote, 'x'), 'old');
      const refused = await copy(path.join(local, 'x'), `demo-app:${remote}/x`);
      assert.equal(refused.code, 1);
      assert.equal(refused.stderr, `demo-app/0: ${remote}/x: exists: add -f to overwrite it (or --resume to continue a partial copy)\n`);
      assert.equal(readFileSync(path.join(remote, 'x'), 'utf8'), 'old');
      const forced = await copy('-f', '-q', path.join(local, 'x'), `demo-app:${remote}/x`);
      assert.equal(forced.code, 0, forced.stderr);
      assert.equal(readFileSync(path.join(remote, 'x'), 'utf8'), 'new');

      const missing = await copy(`demo-app:${remote}/nothing`, local);
      assert.deepEqual([missing.code, missing.stderr], [1, `demo-app/0: ${remote}/nothing: no such file\n`]);
      const missingLocal = await copy(path.join(local, 'nothing'), `demo-app:${remote}`);
      assert.deepEqual([missingLocal.code, missingLocal.stderr], [1, `local: ${local}/nothing: no such file\n`]);
      const folder = await copy(`demo-app:${remote}`, local);
      assert.deepEqual([folder.code, folder.stderr], [1, `demo-app/0: ${remote}: is a folder: copy it with -r\n`]);
      assert.deepEqual(tree(local), ['x']);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('-r copies a tree with odd names both ways; links are skipped; -p keeps modes and times', async () => {
    const { remote, local } = fresh();
    try {
      const source = path.join(local, 'tree');
      const odd = ['with space', "quote'd", 'ünïcødé', '-dash', 'new\nline', 'a:b'];
      mkdirSync(path.join(source, 'sub dir', 'deeper'), { recursive: true });
      for (const [i, name] of odd.entries()) writeFileSync(path.join(source, 'sub dir', name), `content ${i}`);
      writeFileSync(path.join(source, 'sub dir', 'deeper', 'script.sh'), '#!/bin/sh\n');
      chmodSync(path.join(source, 'sub dir', 'deeper', 'script.sh'), 0o750);
      utimesSync(path.join(source, 'sub dir', 'deeper', 'script.sh'), 1_000_000_000, 1_000_000_000);
      symlinkSync('/etc/passwd', path.join(source, 'link'));

      const up = await copy('-r', '-p', source, `demo-app:${remote}`);
      assert.equal(up.code, 0, up.stderr);
      assert.match(up.stderr, new RegExp(`^Skipped local: ${source}/link: a symbolic link \\(--follow-symlinks copies what it points to\\)\\nCopied 7 files`));
      const expected = ['sub dir/', 'sub dir/deeper/', 'sub dir/deeper/script.sh', ...odd.map((n) => `sub dir/${n}`)].sort();
      assert.deepEqual(tree(path.join(remote, 'tree')), expected);
      const script = statSync(path.join(remote, 'tree', 'sub dir', 'deeper', 'script.sh'));
      assert.equal(script.mode & 0o777, 0o750);
      assert.equal(script.mtimeMs, 1_000_000_000_000);

      const down = await copy('-r', '-q', `demo-app:${remote}/tree`, path.join(local, 'back'));
      assert.equal(down.code, 0, down.stderr);
      assert.deepEqual(tree(path.join(local, 'back')), expected);
      for (const name of odd) assert.equal(readFileSync(path.join(local, 'back', 'sub dir', name), 'utf8'), readFileSync(path.join(source, 'sub dir', name), 'utf8'));
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('--resume continues a partial file whose start matches, refuses one that does not; --verify checks the whole', async () => {
    const { remote, local } = fresh();
    try {
      const data = randomBytes(3 * 1024 * 1024);
      writeFileSync(path.join(remote, 'big'), data);
      writeFileSync(path.join(local, 'big'), data.subarray(0, 1_234_567));
      const resumed = await copy('--resume', '--verify', `demo-app:${remote}/big`, path.join(local, 'big'));
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.match(resumed.stderr, /^Copied 1 file \(1\.8 MiB, 1 resumed\) in .*, SHA-256 verified\.\n$/);
      assert.equal(sha256(path.join(local, 'big')), sha256(path.join(remote, 'big')));

      writeFileSync(path.join(local, 'other'), Buffer.concat([Buffer.from('X'), data.subarray(1, 1000)]));
      writeFileSync(path.join(remote, 'other'), data);
      const refused = await copy('--resume', `demo-app:${remote}/other`, path.join(local, 'other'));
      assert.equal(refused.code, 1);
      assert.equal(refused.stderr, `local: ${local}/other: its 1000 bytes differ from the start of demo-app/0: ${remote}/other: copy with -f to start over\n`);
      assert.equal(statSync(path.join(local, 'other')).size, 1000);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
