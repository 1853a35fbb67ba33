// The record of service keys our runs made: a run that lives is never an orphan, a run that
// is gone is, once, to exactly one later run; with real files, sockets and processes.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { KeyLedger, type LedgerKey } from '../../src/config/key-ledger.js';
import { ROOT } from '../helpers/foundation.js';

const HOLDER = path.join(ROOT, 'build/test/helpers/ledger-holder.js');
const service = { api: 'https://api.example.com', serviceInstanceGuid: 'instance-guid', serviceName: 'db' };
const key = (keyName: string): LedgerKey => ({ ...service, keyName });

const stateDir = () => mkdtemp(path.join(os.tmpdir(), 'cf-ssh-tools-ledger-'));

/** A state folder whose socket path would not fit in a Unix socket address. */
async function longStateDir(): Promise<string> {
  const dir = path.join(await stateDir(), 'a-state-folder-with-a-name-long-enough-to-push-the-socket-path-past-what-macos-allows');
  mkdirSync(dir);
  assert.ok(dir.length > 110, dir);
  return dir;
}

interface RecordOnDisk {
  pid: number;
  socket: string;
  keys: LedgerKey[];
}

const readRecord = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as RecordOnDisk;

/** The holder script in a process of its own, once it has said "ready". */
function holder(dir: string, mode: 'hold' | 'return'): Promise<ChildProcess> {
  const child = spawn(process.execPath, [HOLDER, dir, mode], { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out === 'ready\n') resolve(child);
    });
    child.once('exit', (code, signal) => reject(new Error(`holder ended before ready: ${code ?? signal}, printed ${JSON.stringify(out)}`)));
  });
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });

describe('key ledger', () => {
  it('a live run is no orphan; closed with keys left it is; closed with none it leaves nothing', async () => {
    const ledger = new KeyLedger(await stateDir());
    const kept = await ledger.openRun();
    await kept.record(key('kept'));
    await kept.created('kept', 'kept-guid');
    const emptied = await ledger.openRun();
    await emptied.record(key('emptied'));
    assert.equal(readdirSync(ledger.dir).filter((name) => name.endsWith('.json')).length, 2);
    assert.deepEqual(await ledger.orphans(), []);

    await emptied.forget('emptied');
    await emptied.close();
    await emptied.close();
    await kept.close();
    // The process that wrote it still runs: only the closed socket says the run is gone.
    assert.deepEqual(await ledger.orphans(), [{ file: kept.ownFile, keys: [{ ...key('kept'), keyGuid: 'kept-guid' }] }]);
    assert.deepEqual(readdirSync(ledger.dir), [path.basename(kept.ownFile)]);
    await assert.rejects(kept.record(key('late')), /The service key ledger run is closed/);

    const next = await ledger.openRun();
    const [orphan] = await ledger.orphans();
    assert.ok(orphan);
    assert.deepEqual(await next.claim(orphan), [{ ...key('kept'), keyGuid: 'kept-guid' }]);
    await next.forget('kept');
    await next.close();
    assert.deepEqual(readdirSync(ledger.dir), []);
  });

  for (const [label, makeDir] of [
    ['beside its records', stateDir],
    ['in the temp folder when the state folder is too long for a socket path', longStateDir],
  ] as const) {
    it(`a run in another process is no orphan while it lives, and is once killed; its socket (${label}) goes with the claim`, async () => {
      const dir = await makeDir();
      const ledger = new KeyLedger(dir);
      const child = await holder(dir, 'hold');
      const [recordName] = readdirSync(ledger.dir).filter((name) => name.endsWith('.json'));
      assert.ok(recordName);
      const record = readRecord(path.join(ledger.dir, recordName));
      assert.equal(record.pid, child.pid);
      const expectedSocketDir = label === 'beside its records' ? ledger.dir : os.tmpdir();
      assert.equal(path.dirname(record.socket), expectedSocketDir);
      assert.ok(statSync(record.socket).isSocket());
      assert.deepEqual(await ledger.orphans(), []);

      child.kill('SIGKILL');
      await exited(child);
      const orphans = await ledger.orphans();
      assert.deepEqual(orphans, [{ file: path.join(ledger.dir, recordName), keys: [{ ...key('held-created'), keyGuid: 'key-guid' }, key('held-uncreated')] }]);
      assert.ok(statSync(record.socket).isSocket(), 'SIGKILL leaves the socket file');

      const claimer = await ledger.openRun();
      assert.deepEqual(await claimer.claim(orphans[0]!), orphans[0]!.keys);
      assert.equal(existsSync(record.socket), false);
      assert.deepEqual(await ledger.orphans(), [], 'the claimer lives: what it claimed is no orphan');
      await claimer.forget('held-created');
      await claimer.close();
      const [left] = await ledger.orphans();
      assert.deepEqual(left?.keys, [key('held-uncreated')], 'what the claimer could not delete is retried later');
      assert.match(path.basename(left.file), new RegExp(`^${claimer.id}\\+[0-9a-f]{8}\\.json$`));
    });
  }

  it('an open run does not keep its process alive, and the run it leaves is an orphan', async () => {
    const dir = await stateDir();
    const child = await holder(dir, 'return');
    assert.equal(await exited(child), 0);
    const orphans = await new KeyLedger(dir).orphans();
    assert.deepEqual(
      orphans.map((o) => o.keys.map((k) => k.keyName)),
      [['held-created', 'held-uncreated']],
    );
  });

  it('of two runs claiming at once, exactly one gets each orphan', async () => {
    const ledger = new KeyLedger(await stateDir());
    const names = ['a', 'b', 'c', 'd', 'e', 'f'];
    for (const name of names) {
      const dead = await ledger.openRun();
      await dead.record(key(name));
      await dead.close();
    }
    const orphans = await ledger.orphans();
    assert.equal(orphans.length, names.length);
    const [first, second] = [await ledger.openRun(), await ledger.openRun()];
    const claims = await Promise.all(orphans.flatMap((orphan) => [first.claim(orphan), second.claim(orphan)]));
    const won = claims.filter((keys) => keys !== undefined).map((keys) => keys.map((k) => k.keyName));
    assert.deepEqual(won.flat().sort(), names);
    assert.equal(claims.filter((keys) => keys === undefined).length, names.length);
    assert.deepEqual([...first.keys, ...second.keys].map((k) => k.keyName).sort(), names);
    assert.deepEqual(await ledger.orphans(), []);
  });

  it('keeps its folder 0700 and its records 0600', { skip: process.platform === 'win32' && 'no POSIX modes' }, async () => {
    const ledger = new KeyLedger(await stateDir());
    const run = await ledger.openRun();
    await run.record(key('one'));
    await run.record(key('two'));
    await run.forget('one');
    assert.equal(statSync(ledger.dir).mode & 0o777, 0o700);
    assert.equal(statSync(run.ownFile).mode & 0o777, 0o600);
    await run.close();
    const claimer = await ledger.openRun();
    const [orphan] = await ledger.orphans();
    await claimer.claim(orphan!);
    await claimer.record(key('three'));
    for (const name of readdirSync(ledger.dir).filter((n) => n.endsWith('.json'))) assert.equal(statSync(path.join(ledger.dir, name)).mode & 0o777, 0o600, name);
    await claimer.close();
  });

  it('skips and keeps files it cannot read, and a dead run whose own record is unreadable', async () => {
    const ledger = new KeyLedger(await stateDir());
    const dead = await ledger.openRun();
    await dead.record(key('real'));
    await dead.close();
    const corrupt = {
      '0123456789abcdef.json': '{"version": 1, "keys": [',
      '1123456789abcdef.json': JSON.stringify({ version: 1, host: os.hostname(), pid: 1, socket: '/nowhere', keys: [{ keyName: 'no api' }] }),
      '2123456789abcdef.json': JSON.stringify({ version: 2 }),
      // Keys claimed by a run whose own record is corrupt: nobody can tell whether it lives.
      '0123456789abcdef+00000000.json': JSON.stringify({ version: 1, host: os.hostname(), pid: 1, socket: '/nowhere', keys: [key('unowned')] }),
      'notes.txt': 'mine',
    };
    for (const [name, text] of Object.entries(corrupt)) writeFileSync(path.join(ledger.dir, name), text);
    assert.deepEqual(await ledger.orphans(), [{ file: dead.ownFile, keys: [key('real')] }]);
    assert.deepEqual(readdirSync(ledger.dir).sort(), [...Object.keys(corrupt), path.basename(dead.ownFile)].sort());
  });

  it('takes a run whose socket neither answers nor refuses for alive', async () => {
    const ledger = new KeyLedger(await stateDir());
    const dead = await ledger.openRun();
    await dead.record(key('unsure'));
    await dead.close();
    const notAFolder = path.join(ledger.dir, 'notes.txt');
    writeFileSync(notAFolder, 'mine');
    // Connecting gives ENOTDIR: neither proof of a listener nor of its absence.
    writeFileSync(dead.ownFile, JSON.stringify({ ...readRecord(dead.ownFile), socket: path.join(notAFolder, 'run.sock') }));
    assert.deepEqual(await ledger.orphans(), []);
  });

  it('leaves the records of runs on another host alone', async () => {
    const ledger = new KeyLedger(await stateDir());
    const dead = await ledger.openRun();
    await dead.record(key('elsewhere'));
    await dead.close();
    const record = readRecord(dead.ownFile);
    writeFileSync(dead.ownFile, JSON.stringify({ ...record, host: `not-${os.hostname()}` }));
    assert.deepEqual(await ledger.orphans(), []);
  });
});
