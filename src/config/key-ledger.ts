// A record of the service keys this machine's runs made, so that a later run deletes the
// keys a killed run left behind, and only those: never a concurrent run's live key, never a
// key someone made by hand with a name like ours.
//
// Each run holds a listening local socket for as long as it lives (liveness.ts). A run whose
// socket refuses connections is gone, and its records are orphans for a later run to claim.
// Records name their host: in a home folder shared over the network, another machine's
// sockets refuse us even while its runs live.
//
// <state>/service-keys/
//   <run>.json          the run's own record: where its socket is, and the keys it made
//   <run>.sock          its socket (in the temp folder when this path is too long for one)
//   <run>+<tag>.json    keys the run claimed from a dead run: alive iff <run>.json is
import { randomBytes } from 'node:crypto';
import { lstat, readdir, readFile, rename, rm } from 'node:fs/promises';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../errors.js';
import { list, object, optional, type Shape, string, wholeNumber } from '../net/shape.js';
import { writeFileAtomic } from './atomic.js';
import { makeDirectory } from './dirs.js';
import { alive } from './file-lock.js';
import { holdLiveness, probeLiveness, releaseLiveness, SOCKET_PATH_LIMIT } from './liveness.js';

/** A service key as the run that makes it records it. */
export interface LedgerKey {
  /** The Cloud Controller the key lives on. */
  api: string;
  serviceInstanceGuid: string;
  serviceName: string;
  keyName: string;
  /** Set once the Cloud Controller answered the create; without it the create may or may not have happened. */
  keyGuid?: string;
}

/** A record file of a run that is gone. Its keys become the claiming run's. */
export interface Orphan {
  readonly file: string;
  readonly keys: readonly LedgerKey[];
}

interface RecordFile {
  version: number;
  host: string;
  pid: number;
  socket: string;
  keys: LedgerKey[];
}

const recordFile: Shape<RecordFile> = object<RecordFile>({
  version: wholeNumber,
  host: string,
  pid: wholeNumber,
  socket: string,
  keys: list(object<LedgerKey>({ api: string, serviceInstanceGuid: string, serviceName: string, keyName: string, keyGuid: optional(string) })),
});

const RECORD_NAME = /^([0-9a-f]{16})(\+[0-9a-f]{8})?\.json$/;

export class KeyLedger {
  readonly dir: string;

  /** `stateDir` is the per-user state folder (`ownStateDir(env)`); the records go in a folder of their own inside it. */
  constructor(stateDir: string) {
    this.dir = path.join(stateDir, 'service-keys');
  }

  /** Starts a run: its socket listens before its record exists, so no one takes a starting run for a dead one. */
  async openRun(): Promise<LedgerRun> {
    try {
      await makeDirectory(this.dir);
      return await LedgerRun.start(this.dir);
    } catch (err) {
      if (err instanceof UserError) throw err;
      throw new UserError(`Cannot keep the record of service keys in ${this.dir}: ${(err as Error).message}`);
    }
  }

  /**
   * The records of runs on this machine that are gone (crashed or killed). Files that are
   * not records we can read (corrupt, foreign) are left alone, and so are the files of a
   * run whose own record cannot be read: nobody can tell whether it still lives. An orphan
   * may hold no keys; claiming it still tidies up its files.
   */
  async orphans(): Promise<Orphan[]> {
    const filesByRun = new Map<string, string[]>();
    for (const name of await readdir(this.dir).catch(() => [])) {
      const run = RECORD_NAME.exec(name)?.[1];
      if (run) filesByRun.set(run, [...(filesByRun.get(run) ?? []), name]);
    }
    const orphans: Orphan[] = [];
    for (const [run, names] of filesByRun) {
      const own = await readRecord(path.join(this.dir, `${run}.json`));
      if (own === 'unreadable') continue;
      // Without its own record a run is gone: it is written first and removed last.
      if (own !== 'missing' && (own.host !== os.hostname() || (await isAlive(own)))) continue;
      for (const name of names) {
        const file = path.join(this.dir, name);
        const record = await readRecord(file);
        if (typeof record === 'object') orphans.push({ file, keys: record.keys });
      }
    }
    return orphans;
  }
}

/** One run's part of the ledger, from `KeyLedger.openRun()` to `close()`. */
export class LedgerRun {
  readonly ownFile: string;
  /** Each record file this run holds (its own and those it claimed) and the keys in it. */
  private readonly held = new Map<string, LedgerKey[]>();
  /** Writes happen one at a time, so a later one never loses an earlier one's change. */
  private queue: Promise<unknown> = Promise.resolve();
  private closing: Promise<void> | undefined;

  /** Use `KeyLedger.openRun()`. */
  static async start(dir: string): Promise<LedgerRun> {
    const id = randomBytes(8).toString('hex');
    const socket = socketPath(dir, id);
    const run = new LedgerRun(dir, id, { version: 1, host: os.hostname(), pid: process.pid, socket, keys: [] }, await holdLiveness(socket));
    try {
      await run.save(run.ownFile, []);
    } catch (err) {
      await run.close();
      throw err;
    }
    return run;
  }

  private constructor(
    private readonly dir: string,
    readonly id: string,
    private readonly owner: RecordFile,
    private readonly server: net.Server,
  ) {
    this.ownFile = path.join(dir, `${id}.json`);
    this.held.set(this.ownFile, []);
  }

  /** The keys this run holds: those it made and those it claimed. */
  get keys(): LedgerKey[] {
    return [...this.held.values()].flat();
  }

  /** Call before asking for the key, so that a crash while it is made cannot lose it. */
  record(key: LedgerKey): Promise<void> {
    return this.change(async () => {
      const keys = [...this.ownKeys().filter((k) => k.keyName !== key.keyName), { ...key }];
      await this.save(this.ownFile, keys);
    });
  }

  /** Call once the Cloud Controller has answered the create with the key's guid. */
  created(keyName: string, keyGuid: string): Promise<void> {
    return this.change(async () => {
      const keys = this.ownKeys();
      if (!keys.some((k) => k.keyName === keyName)) throw new Error(`Service key ${keyName} was never recorded`);
      await this.save(
        this.ownFile,
        keys.map((k) => (k.keyName === keyName ? { ...k, keyGuid } : k)),
      );
    });
  }

  /** Call once the key is deleted, or found gone. A key this run does not hold is ignored. */
  forget(keyName: string): Promise<void> {
    return this.change(async () => {
      for (const [file, keys] of this.held) {
        if (!keys.some((k) => k.keyName === keyName)) continue;
        const rest = keys.filter((k) => k.keyName !== keyName);
        if (rest.length === 0 && file !== this.ownFile) {
          await rm(file, { force: true });
          this.held.delete(file);
        } else {
          await this.save(file, rest);
        }
      }
    });
  }

  /**
   * Takes an orphan over by renaming its file into this run's name: of two runs claiming
   * it at once, one wins and the other gets `undefined`. Returns the keys now held here,
   * to be deleted and then forgotten; those that are not stay recorded under this run.
   */
  claim(orphan: Orphan): Promise<LedgerKey[] | undefined> {
    return this.change(async () => {
      const file = path.join(this.dir, `${this.id}+${randomBytes(4).toString('hex')}.json`);
      try {
        await rename(orphan.file, file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
      const record = await readRecord(file);
      // Read moments ago, so this cannot happen; if it does, the file stays, left alone like any unreadable one.
      if (typeof record !== 'object') return [];
      const [, deadRun, claimTag] = RECORD_NAME.exec(path.basename(orphan.file)) ?? [];
      // A run's own record names its socket, which SIGKILL left behind.
      if (deadRun && !claimTag) await removeStaleSocket(record.socket, deadRun);
      if (record.keys.length === 0) await rm(file, { force: true });
      else this.held.set(file, record.keys);
      return record.keys;
    });
  }

  /**
   * Ends the run. Its record goes if it holds no keys; otherwise it stays, for a later run
   * to retry. Safe to call more than once.
   */
  close(): Promise<void> {
    this.closing ??= this.queue.then(async () => {
      try {
        // Removed before the socket closes, so no one sees a dead run with nothing to clean.
        if (this.keys.length === 0) await rm(this.ownFile, { force: true });
      } finally {
        await releaseLiveness(this.server);
      }
    });
    return this.closing;
  }

  private async save(file: string, keys: LedgerKey[]): Promise<void> {
    const record: RecordFile = { ...this.owner, keys };
    await writeFileAtomic(file, `${JSON.stringify(record, null, 2)}\n`);
    this.held.set(file, keys);
  }

  private ownKeys(): LedgerKey[] {
    return this.held.get(this.ownFile) ?? [];
  }

  private change<T>(work: () => Promise<T>): Promise<T> {
    if (this.closing) return Promise.reject(new Error('The service key ledger run is closed'));
    const done = this.queue.then(work);
    this.queue = done.catch(() => undefined);
    return done;
  }
}

/** The socket's path: beside the records when that is short enough, else in the temp folder. */
function socketPath(dir: string, id: string): string {
  if (process.platform === 'win32') return `\\\\.\\pipe\\cf-ssh-tools-${id}`;
  const candidates = [path.join(dir, `${id}.sock`), path.join(os.tmpdir(), `cf-ssh-tools-${id}.sock`)];
  const fitting = candidates.find((candidate) => Buffer.byteLength(candidate) <= SOCKET_PATH_LIMIT);
  if (!fitting) throw new UserError(`Both ${dir} and ${os.tmpdir()} are too long for a local socket's path: set TMPDIR to a shorter folder.`);
  return fitting;
}

/** Alive unless its process is gone or its socket refuses us; a pid in use proves nothing, pids are reused. */
async function isAlive(record: RecordFile): Promise<boolean> {
  // An open question keeps the keys.
  if (!alive(record.pid)) return false;
  const said = await probeLiveness(record.socket);
  return said !== 'refuses' && said !== 'gone';
}

/** The socket file a killed run left behind, if it is one of ours by name and kind. */
async function removeStaleSocket(socket: string, run: string): Promise<void> {
  if (![`${run}.sock`, `cf-ssh-tools-${run}.sock`].includes(path.basename(socket))) return;
  const stat = await lstat(socket).catch(() => undefined);
  if (stat?.isSocket()) await rm(socket, { force: true });
}

/** The record in `file`, or why there is none. */
async function readRecord(file: string): Promise<RecordFile | 'missing' | 'unreadable'> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'unreadable';
  }
  try {
    const parsed = recordFile(JSON.parse(text), '');
    return parsed.version === 1 ? parsed : 'unreadable';
  } catch {
    return 'unreadable';
  }
}
