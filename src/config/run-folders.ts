// Private folders under TMPDIR for a run's files, secrets among them (a client's option file,
// the run's CA). A run removes its own at teardown, but SIGKILL skips every clean-up: so each
// folder holds the liveness socket of the run that made it (liveness.ts), and a later run
// removes the folders whose socket no longer answers. A folder without one is left alone:
// nobody can tell whether its run still lives (one just made, one of another user's).
import { lstat, readdir, rm, writeFile } from 'node:fs/promises';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { makePrivateTempDir, placeFrom } from './dirs.js';
import { holdLiveness, probeLiveness, releaseLiveness, SOCKET_PATH_LIMIT } from './liveness.js';

type Env = Readonly<Record<string, string | undefined>>;

const PREFIX = 'cf-ssh-tools-';
/** What mkdtemp makes of PREFIX: six more characters. */
const FOLDER_NAME = /^cf-ssh-tools-[A-Za-z0-9]{6}$/;
/** The socket in the folder; on Windows a file that says its named pipe listens. */
const LIVENESS_ENTRY = '.alive';

export interface RunFolder {
  readonly dir: string;
  /** Removes the folder and everything in it, then lets go of its socket. */
  remove(): Promise<void>;
}

const isWindows = process.platform === 'win32';

/** Where the run that made `dir` listens: named after the folder, so a later run finds it from the name alone. */
function livenessSocket(dir: string): string | undefined {
  if (isWindows) return `\\\\.\\pipe\\${path.basename(dir)}`;
  const socket = path.join(dir, LIVENESS_ENTRY);
  return Buffer.byteLength(socket) <= SOCKET_PATH_LIMIT ? socket : undefined;
}

/** A new 0700 folder for this run's files, with the socket that shows the run lives. */
export async function makeRunFolder(env: Env): Promise<RunFolder> {
  const dir = await makePrivateTempDir(env, PREFIX);
  const socket = livenessSocket(dir);
  // Without its socket (TMPDIR too long for one) the folder is still removed by its own run; only a killed run's stays.
  const server: net.Server | undefined = socket ? await holdLiveness(socket).catch(() => undefined) : undefined;
  if (server && isWindows) await writeFile(path.join(dir, LIVENESS_ENTRY), '');
  return {
    dir,
    async remove() {
      await rm(dir, { recursive: true, force: true });
      if (server) await releaseLiveness(server);
    },
  };
}

/** Removes the run folders in TMPDIR whose runs were killed; returns their paths. */
export async function removeFoldersOfKilledRuns(env: Env): Promise<string[]> {
  const temp = placeFrom(env, 'TMPDIR', os.tmpdir).dir;
  const removed: string[] = [];
  for (const name of await readdir(temp).catch(() => [])) {
    if (!FOLDER_NAME.test(name)) continue;
    const dir = path.join(temp, name);
    if (!(await isOwnFolder(dir))) continue;
    const socket = livenessSocket(dir);
    const entry = await lstat(path.join(dir, LIVENESS_ENTRY)).catch(() => undefined);
    const hasLiveness = isWindows ? entry?.isFile() : entry?.isSocket();
    // A killed run's socket file stays and refuses; one gone meanwhile is a run removing its own folder now. A
    // named pipe goes with its process: on Windows, gone while the marker stays is killed (the owner lets go last).
    if (!socket || !hasLiveness || (await probeLiveness(socket)) !== (isWindows ? 'gone' : 'refuses')) continue;
    // One that cannot be removed (a file in it not ours) stays, for the user to see to.
    await rm(dir, { recursive: true, force: true }).then(
      () => removed.push(dir),
      () => undefined,
    );
  }
  return removed;
}

/** A real folder (not a link to one) of this user's. */
async function isOwnFolder(dir: string): Promise<boolean> {
  const info = await lstat(dir).catch(() => undefined);
  return Boolean(info?.isDirectory() && (process.getuid === undefined || info.uid === process.getuid()));
}
