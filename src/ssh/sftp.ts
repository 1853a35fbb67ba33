// The SFTP subsystem on an instance's connection (Diego's container sshd serves it itself), as
// promises: what a path is, a folder's entries, folders made, attributes set, and files opened
// for positioned reads and writes. What failed is told apart by SFTP's status codes.
import type { Client, SFTPWrapper, Stats } from 'ssh2';

/** SFTP's status codes (draft-ietf-secsh-filexfer-02, as OpenSSH speaks it). */
const NO_SUCH_FILE = 2;
const PERMISSION_DENIED = 3;

export type EntryKind = 'file' | 'folder' | 'link' | 'other';

/** What a path is, on either side of a copy. */
export interface Entry {
  kind: EntryKind;
  size: number;
  /** Permission bits only. */
  mode: number;
  /** Seconds since the epoch. */
  atime: number;
  mtime: number;
}

/** A failure in the words a copy's error message ends with: "no such file", "permission denied". */
export class FileError extends Error {
  constructor(
    message: string,
    readonly missing = false,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** An open remote file: positioned reads (short ones retried) and writes. */
export interface RemoteFile {
  /** The most bytes one read or write request carries; ssh2 splits a larger one into requests made in turn. */
  readonly largestRead: number;
  readonly largestWrite: number;
  /** Fills `into` from `position`; fails if the file ends first. */
  read(position: number, into: Buffer): Promise<void>;
  write(data: Buffer, position: number): Promise<void>;
  close(): Promise<void>;
}

function sftpFailure(err: Error & { code?: unknown }): FileError {
  if (err.code === NO_SUCH_FILE) return new FileError('no such file', true);
  if (err.code === PERMISSION_DENIED) return new FileError('permission denied');
  return new FileError(err.message.toLowerCase());
}

function kindOf(stats: Stats): EntryKind {
  if (stats.isSymbolicLink()) return 'link';
  if (stats.isDirectory()) return 'folder';
  return stats.isFile() ? 'file' : 'other';
}

const entryOf = (stats: Stats): Entry => ({ kind: kindOf(stats), size: stats.size, mode: stats.mode & 0o7777, atime: stats.atime, mtime: stats.mtime });

/**
 * The request sizes ssh2 settled on: the server's limits@openssh.com answer (OpenSSH's
 * sftp-server takes 256 KiB less headers), or its defaults without one (a little under 32 KiB
 * for servers not known to be OpenSSH). ssh2 keeps them on the wrapper without exposing them.
 */
interface Ssh2RequestLimits {
  _maxReadLen?: number;
  _maxWriteLen?: number;
}

/** What every SFTP server takes (draft-ietf-secsh-filexfer-02: 32768-byte reads), when ssh2 does not say. */
const SAFE_REQUEST_BYTES = 32 * 1024;

export class Sftp {
  private constructor(private readonly wrapper: SFTPWrapper) {}

  private requestLimit(which: keyof Ssh2RequestLimits): number {
    const bytes = (this.wrapper as unknown as Ssh2RequestLimits)[which];
    return typeof bytes === 'number' && bytes > 0 ? bytes : SAFE_REQUEST_BYTES;
  }

  /** Opens the `sftp` subsystem on the connection. */
  static open(connection: Client): Promise<Sftp> {
    return new Promise((resolve, reject) => connection.sftp((err, wrapper) => (err ? reject(err) : resolve(new Sftp(wrapper)))));
  }

  end(): void {
    this.wrapper.end();
  }

  /** What is at `path` (through links with `follow`), or undefined when nothing is. */
  async entry(path: string, follow: boolean): Promise<Entry | undefined> {
    try {
      return entryOf(await this.call<Stats>((done) => (follow ? this.wrapper.stat(path, done) : this.wrapper.lstat(path, done))));
    } catch (err) {
      if (err instanceof FileError && err.missing) return undefined;
      throw err;
    }
  }

  /** An absolute path, as the server resolves it (a relative one is from the home folder). */
  realpath(path: string): Promise<string> {
    return this.call((done) => this.wrapper.realpath(path, done));
  }

  /** A folder's entries by name (links as links), without . and .. */
  async list(path: string): Promise<{ name: string; entry: Entry }[]> {
    const listing = await this.call<{ filename: string; attrs: Stats }[]>((done) => this.wrapper.readdir(path, done));
    return listing.filter(({ filename }) => filename !== '.' && filename !== '..').map(({ filename, attrs }) => ({ name: filename, entry: entryOf(attrs) }));
  }

  mkdir(path: string): Promise<void> {
    return this.call((done) => this.wrapper.mkdir(path, done));
  }

  async setAttributes(path: string, { mode, atime, mtime }: Pick<Entry, 'mode' | 'atime' | 'mtime'>): Promise<void> {
    await this.call((done) => this.wrapper.setstat(path, { mode, atime, mtime }, done));
  }

  /** Opened for reading, or for writing: truncated and created, or as it is to write on from its end (resume). */
  async openFile(path: string, how: 'read' | 'write' | 'continue'): Promise<RemoteFile> {
    const flags = { read: 'r', write: 'w', continue: 'r+' } as const;
    const handle = await this.call<Buffer>((done) => this.wrapper.open(path, flags[how], done));
    const { wrapper } = this;
    const readOnce = (buffer: Buffer, offset: number, position: number) =>
      new Promise<number>((resolve, reject) =>
        wrapper.read(handle, buffer, offset, buffer.length - offset, position, (err, bytesRead) => (err ? reject(sftpFailure(err)) : resolve(bytesRead))),
      );
    return {
      largestRead: this.requestLimit('_maxReadLen'),
      largestWrite: this.requestLimit('_maxWriteLen'),
      read: async (position, into) => {
        for (let filled = 0; filled < into.length;) {
          // ssh2 answers a read at the end of the file with 0 bytes.
          const got = await readOnce(into, filled, position + filled);
          if (got === 0) throw new FileError(`the file ended at ${position + filled} bytes while being read (changed meanwhile?)`);
          filled += got;
        }
      },
      write: (data, position) => this.call((done) => wrapper.write(handle, data, 0, data.length, position, done)),
      close: () => this.call((done) => wrapper.close(handle, done)),
    };
  }

  /** ssh2's callback style as a promise, its errors in a copy's words. */
  private call<T = void>(start: (done: (err: Error | undefined | null, value: T) => void) => void): Promise<T> {
    return new Promise((resolve, reject) => start((err, value) => (err ? reject(sftpFailure(err)) : resolve(value))));
  }
}
