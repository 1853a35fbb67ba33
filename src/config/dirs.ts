// The folders we create: our state, cf's config folder, temp folders. Each knows the setting
// it comes from, so that a folder we cannot use is one line naming that setting and the path.
import { mkdir, mkdtemp, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { getSystemErrorMap } from 'node:util';
import { UserError } from '../errors.js';

type Env = Readonly<Record<string, string | undefined>>;

/** A folder and the setting it comes from. */
export interface Place {
  readonly dir: string;
  /** What the user can change, as messages show it: "CF_HOME=/x", or "/root (HOME is not set)". */
  readonly setting: string;
}

/** A place we keep something in. */
export interface Folder extends Place {
  /** What we keep there, for messages: "cf-ssh-tools' state". */
  readonly use: string;
}

/** The folder `variable` names, or `fallback`'s where it is not set. */
export function placeFrom(env: Env, variable: string, fallback: () => string): Place {
  const value = env[variable];
  return value ? { dir: value, setting: `${variable}=${value}` } : { dir: fallback(), setting: `${fallback()} (${variable} is not set)` };
}

/** A folder below a place, from the same setting. */
export function subfolder(parent: Place, name: string, use: string): Folder {
  return { dir: path.join(parent.dir, name), setting: parent.setting, use };
}

/**
 * mkdir -p, one level at a time. Node 20's recursive mkdir loops forever at 100 % CPU where
 * the system answers ENOENT for a parent that exists (anywhere under /proc); this walk is
 * bounded by the path's depth.
 */
export async function makeDirectory(dir: string, mode = 0o700): Promise<void> {
  const missing: string[] = [];
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    const found = await stat(current).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    if (found?.isDirectory()) break;
    if (found) throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${dir}'`), { code: 'ENOTDIR', errno: -os.constants.errno.ENOTDIR, syscall: 'mkdir', path: dir });
    missing.unshift(current);
    if (path.dirname(current) === current) break;
  }
  for (const each of missing) {
    await mkdir(each, { mode }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
  }
}

/** Runs `work` on files in `folder`; a file system error becomes the one line naming the folder's setting. */
export async function inFolder<T>(folder: Folder, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw folderError(folder, err);
  }
}

/**
 * `err` unchanged unless it is a file system error, which becomes "Cannot use SETTING for USE:
 * cannot create PATH (REASON)." `attempt` says what failed where the system call does not.
 */
export function folderError(folder: Folder, err: unknown, attempt?: string): unknown {
  const failure = err as NodeJS.ErrnoException;
  if (err instanceof UserError || !failure?.syscall) return err;
  const reason = (failure.errno !== undefined && getSystemErrorMap().get(failure.errno)?.[1]) || failure.code || failure.message;
  return new UserError(`Cannot use ${folder.setting} for ${folder.use}: ${attempt ?? attempted(folder, failure)} (${reason}).`);
}

function attempted(folder: Folder, failure: NodeJS.ErrnoException): string {
  switch (failure.syscall) {
    case 'mkdir':
    case 'stat': // makeDirectory's look at what exists
      return `cannot create ${failure.path ?? folder.dir}`;
    case 'mkdtemp':
      return `cannot create a folder in ${folder.dir}`;
    default:
      return `cannot write in ${folder.dir}`;
  }
}

/** A new 0700 folder under TMPDIR (the environment's, else the system's), for files a local program reads. */
export async function makePrivateTempDir(env: Env, prefix: string): Promise<string> {
  const temp: Folder = { ...placeFrom(env, 'TMPDIR', os.tmpdir), use: 'temporary files' };
  return inFolder(temp, () => mkdtemp(path.join(temp.dir, prefix)));
}
