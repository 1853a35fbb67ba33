// The two ends of a copy behind one interface: this computer's files (node:fs) and an
// instance's (SFTP, with sha256sum run there). Every failure names its side and path, as
// `my-app/0: /home/vcap/app/x: no such file` or `local: ./x: no such file`.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Client } from 'ssh2';
import { UserError } from '../errors.js';
import { type Entry, FileError, type Sftp } from '../ssh/sftp.js';
import { remoteSha256 } from '../ssh/sftp-checksum.js';

/** An open file: positioned reads and in-order writes (see sftp-pipeline.ts). */
export interface OpenFile {
  /** The most bytes one read or write takes in one request (Infinity for a local file). */
  readonly largestRead: number;
  readonly largestWrite: number;
  /** Fills `into` from `position`; fails if the file ends first. */
  read(position: number, into: Buffer): Promise<void>;
  write(data: Buffer, position: number): Promise<void>;
  close(): Promise<void>;
}

export interface Side {
  /** `local` or `my-app/0`: the start of each message about this side. */
  readonly name: string;
  readonly path: typeof path.posix;
  entry(file: string, follow: boolean): Promise<Entry | undefined>;
  /** The absolute path, for the name a folder or file keeps when copied into a folder. */
  absolute(file: string): Promise<string>;
  list(folder: string): Promise<{ name: string; entry: Entry }[]>;
  mkdir(folder: string): Promise<void>;
  open(file: string, how: 'read' | 'write' | 'continue'): Promise<OpenFile>;
  setAttributes(file: string, attributes: Pick<Entry, 'mode' | 'atime' | 'mtime'>): Promise<void>;
  /** The SHA-256 (hex) of the file or its first `length` bytes; undefined when this side cannot tell. */
  sha256(file: string, length?: number): Promise<string | undefined>;
}

/** A failure on `side` at `file`, in the user's words. */
export class CopyError extends UserError {
  constructor(side: Side, file: string, what: string) {
    super(`${side.name}: ${file}: ${what}`);
  }
}

/** Runs `work` on `file`; a file system's failure comes out as a CopyError naming the side and path. */
export async function onFile<T>(side: Side, file: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof FileError) throw new CopyError(side, file, err.message);
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CopyError(side, file, 'no such file');
    if (code === 'EACCES' || code === 'EPERM') throw new CopyError(side, file, 'permission denied');
    if (code === 'EISDIR') throw new CopyError(side, file, 'is a folder');
    if (code === 'ENOTDIR') throw new CopyError(side, file, 'not a folder');
    if (code === 'ENOSPC') throw new CopyError(side, file, 'no space left on the device');
    throw err;
  }
}

function localKind(stats: import('node:fs').Stats): Entry['kind'] {
  if (stats.isSymbolicLink()) return 'link';
  if (stats.isDirectory()) return 'folder';
  return stats.isFile() ? 'file' : 'other';
}

const localEntry = (stats: import('node:fs').Stats): Entry => ({
  kind: localKind(stats),
  size: stats.size,
  mode: stats.mode & 0o7777,
  atime: Math.floor(stats.atimeMs / 1000),
  mtime: Math.floor(stats.mtimeMs / 1000),
});

export const localSide: Side = {
  name: 'local',
  // Windows takes forward slashes too; joins use the platform's own.
  path: path as unknown as typeof path.posix,
  async entry(file, follow) {
    try {
      return localEntry(await (follow ? fs.stat(file) : fs.lstat(file)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  },
  absolute: async (file) => path.resolve(file),
  async list(folder) {
    const names = await fs.readdir(folder);
    return Promise.all(names.map(async (name) => ({ name, entry: localEntry(await fs.lstat(path.join(folder, name))) })));
  },
  mkdir: (folder) => fs.mkdir(folder),
  async open(file, how) {
    const handle = await fs.open(file, { read: 'r', write: 'w', continue: 'r+' }[how]);
    // One write at a time, in the order given: a run cut short leaves a whole prefix.
    let writes = Promise.resolve();
    return {
      largestRead: Infinity,
      largestWrite: Infinity,
      async read(position, into) {
        for (let filled = 0; filled < into.length;) {
          const { bytesRead } = await handle.read(into, filled, into.length - filled, position + filled);
          if (bytesRead === 0) throw new FileError(`the file ended at ${position + filled} bytes while being read (changed meanwhile?)`);
          filled += bytesRead;
        }
      },
      write(data, position) {
        const written = writes.then(async () => void (await handle.write(data, 0, data.length, position)));
        writes = written.catch(() => undefined);
        return written;
      },
      async close() {
        await writes;
        await handle.close();
      },
    };
  },
  async setAttributes(file, { mode, atime, mtime }) {
    await fs.chmod(file, mode);
    await fs.utimes(file, atime, mtime);
  },
  async sha256(file, length) {
    const hash = createHash('sha256');
    if (length === 0) return hash.digest('hex');
    for await (const chunk of createReadStream(file, length === undefined ? {} : { end: length - 1 })) hash.update(chunk as Buffer);
    return hash.digest('hex');
  },
};

export function remoteSide(name: string, sftp: Sftp, connection: Client): Side {
  return {
    name,
    path: path.posix,
    entry: (file, follow) => sftp.entry(file, follow),
    absolute: (file) => sftp.realpath(file),
    list: (folder) => sftp.list(folder),
    mkdir: (folder) => sftp.mkdir(folder),
    open: (file, how) => sftp.openFile(file, how),
    setAttributes: (file, attributes) => sftp.setAttributes(file, attributes),
    sha256: (file, length) => remoteSha256(connection, file, length),
  };
}
