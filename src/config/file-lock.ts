// One run at a time: a lock file, created exclusively (O_EXCL, on every platform), holding who
// took it. Runs that share a session take it to refresh and save the session's tokens in turn.
// A lock whose process is gone, or that is older than any refresh takes, is taken over.
import { randomUUID } from 'node:crypto';
import { open, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Folder, inFolder } from './dirs.js';

interface LockTiming {
  /** A lock this old is taken over: its holder died or hangs. */
  staleMs: number;
  /** How often a waiting run looks again. */
  pollMs: number;
}

/** Longer than a token request may take (its timeout), so a live holder keeps its lock. */
const TIMING: LockTiming = { staleMs: 90_000, pollMs: 25 };

/** False when `pid` is certainly gone; a process we may not signal (EPERM) is alive. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function isStale(file: string, staleMs: number): Promise<boolean> {
  const [info, owner] = await Promise.all([stat(file).catch(() => undefined), readFile(file, 'utf8').catch(() => '')]);
  if (!info) return false; // released meanwhile: try again
  const pid = Number(owner.split(' ')[0]);
  // An empty file is one being written by its taker, and not stale unless old.
  return Date.now() - info.mtimeMs > staleMs || (Number.isInteger(pid) && pid > 0 && !alive(pid));
}

/** Takes the lock, waiting while another run holds it; returns what it wrote, to release only its own. */
async function acquire(file: string, timing: LockTiming): Promise<string> {
  const owner = `${process.pid} ${randomUUID()}`;
  for (;;) {
    try {
      const handle = await open(file, 'wx', 0o600);
      try {
        await handle.writeFile(owner);
      } finally {
        await handle.close();
      }
      return owner;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (await isStale(file, timing.staleMs)) await rm(file, { force: true });
    else await sleep(timing.pollMs);
  }
}

/** Removes the lock if it is still ours (a run that outlived staleMs may have lost it). */
async function release(file: string, owner: string): Promise<void> {
  if ((await readFile(file, 'utf8').catch(() => '')) === owner) await rm(file, { force: true });
}

/** Runs `work` holding the lock file `name` in `folder`; a folder we cannot write in is one line naming its setting. */
export async function withFileLock<T>(folder: Folder, name: string, work: () => Promise<T>, timing: LockTiming = TIMING): Promise<T> {
  const file = path.join(folder.dir, name);
  const owner = await inFolder(folder, () => acquire(file, timing));
  try {
    return await work();
  } finally {
    await release(file, owner);
  }
}
