// Runs the built cf-ssh-tools as a user would, in a process and a home of its own: for what
// needs a real process (signals, terminals, packaging, cf's launches). Everything else runs the
// CLI in-process with run-cli.ts, which returns the same result in a fraction of the time.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './foundation.js';

export const BIN = path.join(ROOT, 'build/src/bin.js');

export interface CliResult {
  /** null when a signal ended the process (`signal`). */
  code: number | null;
  signal?: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  input?: string;
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
}

export interface ProgramOptions extends CliOptions {
  cwd?: string;
}

/** Whether `program` is on this process's PATH: for tests that skip without it, saying so. */
export function onPath(program: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => dir !== '' && existsSync(path.join(dir, program)));
}

/** A throwaway CF_HOME, so each test has its own cf config and our own session. */
export function tempHome(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'cf-ssh-tools-test-'));
}

export function cli(home: string, args: string[], options: CliOptions = {}): Promise<CliResult> {
  const env = { PATH: process.env.PATH, HOME: home, CF_HOME: home, CF_SSH_TOOLS_NO_KEYCHAIN: 'true', ...options.env };
  return runProgram(process.execPath, [BIN, ...args], { ...options, env });
}

/** Any program (a packaged executable, one under qemu) run to its end, with exactly the environment given; killed and failed past the timeout. */
export function runProgram(file: string, args: string[], options: ProgramOptions = {}): Promise<CliResult> {
  const child = spawn(file, args, { env: options.env as NodeJS.ProcessEnv, cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  child.stdin.on('error', () => undefined); // a program that exits without reading its input
  child.stdin.end(options.input ?? '');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${path.basename(file)} ${args.join(' ')} did not finish in time\n${stdout}\n${stderr}`));
    }, options.timeoutMs ?? 20_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Logs a seeded user in to the foundation and targets demo-org / demo-space. */
export async function loggedIn(api: string, user = 'developer', space = 'demo-space'): Promise<string> {
  const home = tempHome();
  const result = await cli(home, ['login', '-a', api, '-u', user, '-p', `${user}-pass`, '-o', 'demo-org', '-s', space]);
  if (result.code !== 0) throw new Error(`login failed: ${result.stdout}${result.stderr}`);
  return home;
}
