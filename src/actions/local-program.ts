// Starting a local program (a database client, or the user's own command) beside a tunnel:
// its secrets in its environment or in 0600 files of a 0700 folder that is removed afterwards,
// the terminal handed to it, and its exit status returned.
import { constants } from 'node:fs';
import { access, chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Context } from '../context.js';
import { UserError } from '../errors.js';
import type { LocalProgram } from '../services/clients.js';
import { signalExitCode } from '../ssh/session.js';

export class MissingProgramError extends UserError {}

async function onPath(program: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  if (program.includes('/')) return program;
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

export async function runLocalProgram(ctx: Context, program: LocalProgram): Promise<number> {
  const executable = await findProgram(program.programs, ctx.env);
  if (!executable) throw new MissingProgramError(`${program.programs.join(' or ')} is not installed.`);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cf-ssh-tools-'));
  try {
    await chmod(dir, 0o700);
    const fill = (value: string) => value.replaceAll('{dir}', dir);
    for (const file of program.files) await writeFile(path.join(dir, file.name), fill(file.content), { mode: file.executable ? 0o700 : 0o600 });
    const env = Object.fromEntries(Object.entries(program.env).map(([k, v]) => [k, fill(v)]));
    const child = ctx.spawn(executable, program.args.map(fill), { stdio: 'inherit', env: { ...ctx.env, ...env } });
    // Ctrl-C reaches the program from the terminal itself (psql cancels its query): we stay up.
    // Other stop signals are passed on, and cleaning up follows its exit.
    const stopSignals = ctx.onSignals((signal) => {
      if (signal !== 'SIGINT') child.kill(signal);
    });
    try {
      return await new Promise<number>((resolve, reject) => {
        child.once('error', reject);
        child.once('exit', (code, signal) => resolve(code ?? signalExitCode(signal ?? 'TERM')));
      });
    } finally {
      stopSignals();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
