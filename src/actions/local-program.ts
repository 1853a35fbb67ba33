// Starting a local program (a database client, the system ssh, or the user's own command) as
// part of a lifecycle: its secrets in its environment or in 0600 files of a 0700 folder removed
// at teardown (or once read), the terminal handed to it, ended if the run ends first, its exit
// status returned. Its files' paths are given to the program's own `prepare`: no value is a template.
import type { ChildProcess } from 'node:child_process';
import { constants } from 'node:fs';
import { access, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Context } from '../context.js';
import type { LocalProgram } from '../services/clients.js';
import { signalExitCode, StoppedError, UserError } from '../errors.js';
import type { Lifecycle } from './lifecycle.js';

export class MissingProgramError extends UserError {}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function onPath(program: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  if (program.includes('/')) return (await isExecutable(program)) ? program : undefined;
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, program);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

export async function findProgram(programs: string[], env: NodeJS.ProcessEnv): Promise<string | undefined> {
  for (const program of programs) {
    const found = await onPath(program, env);
    if (found) return found;
  }
  return undefined;
}

/** How long a program asked to end (SIGTERM, or the signal we got) has before SIGKILL. */
const END_GRACE_MS = 2000;

function exitOf(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode ?? signalExitCode(child.signalCode ?? 'SIGTERM'));
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? signalExitCode(signal ?? 'SIGTERM')));
  });
}

/** Ends a program that outlives its run (a lost tunnel, a stop): the stop's signal or SIGTERM, then SIGKILL. */
async function endProgram(child: ChildProcess, exited: Promise<number>, stop: unknown): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = exited.then(
    () => true,
    () => true,
  );
  child.kill(stop instanceof StoppedError && stop.signal !== 'SIGPIPE' ? stop.signal : 'SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const waited = await Promise.race([gone, new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), END_GRACE_MS)))]);
  clearTimeout(timer);
  if (!waited) {
    child.kill('SIGKILL');
    await gone;
  }
}

/**
 * Runs the program to its end as part of `life`: its files and the program itself are cleaned up
 * on every way out. Files it reads at its start (holding a password) go as soon as `connected`
 * settles: the program has connected, so it has read them.
 */
export async function runLocalProgram(ctx: Context, program: LocalProgram, life: Lifecycle, connected?: Promise<unknown>): Promise<number> {
  const executable = await findProgram(program.programs, ctx.env);
  if (!executable) {
    const [given] = program.programs.filter((p) => p.includes('/'));
    throw new MissingProgramError(given ? `${given} cannot be run: there is no such file, or it is not executable.` : `${program.programs.join(' or ')} is not installed.`);
  }
  const dir = await life.privateFolder();
  const { args, env, files } = program.prepare((file) => path.join(dir, file));
  for (const file of files) await writeFile(path.join(dir, file.name), file.content, { mode: file.executable ? 0o700 : 0o600 });
  life.signal.throwIfAborted();
  const child = ctx.spawn(executable, args, { stdio: 'inherit', env: { ...ctx.env, ...env } });
  const exited = exitOf(child);
  life.defer(path.basename(executable), () => endProgram(child, exited, life.signal.reason));
  const readAtStart = files.filter((file) => file.readAtStart).map((file) => path.join(dir, file.name));
  if (connected && readAtStart.length > 0) {
    const removeSecrets = () => Promise.all(readAtStart.map((file) => rm(file, { force: true })));
    void connected.then(removeSecrets, () => undefined);
  }
  // Ctrl-C reaches the program from the terminal itself (psql cancels its query): we stay up.
  const takeCtrlCBack = life.handCtrlCToProgram();
  try {
    return await life.until(exited);
  } finally {
    takeCtrlCBack();
  }
}
