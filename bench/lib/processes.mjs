// @ts-check
// Child processes for the benches: each one started is tracked, so that cleanup() stops
// whatever is left at the end, on Ctrl-C, on error or at a deadline; and timed runs of commands.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** @typedef {import('node:child_process').ChildProcess} ChildProcess */
/** @typedef {import('node:net').AddressInfo} AddressInfo */
/** @typedef {{ code: number | null, signal: NodeJS.Signals | null, stdout: string, stderr: string, ms: number, cpuSeconds?: number }} RunResult */

/** GNU time, which reports a command's CPU time with that of the children it waited for (scp's ssh). */
const GNU_TIME = '/usr/bin/time';
export const canTimeCpu = existsSync(GNU_TIME);

/** @type {Set<ChildProcess>} */
export const children = new Set();
/** @type {(() => unknown)[]} */
export const cleanups = [];

/**
 * @template {ChildProcess} T
 * @param {T} child
 * @returns {T}
 */
export function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/**
 * @param {ChildProcess} child
 * @param {NodeJS.Signals} [signal]
 */
export function killChild(child, signal = 'SIGTERM') {
  try {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  } catch {
    // Gone already.
  }
}

/**
 * @param {ChildProcess} child
 * @returns {Promise<void>}
 */
export function exited(child, timeoutMs = 10_000) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      killChild(child, 'SIGKILL');
      resolve();
    }, timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * @param {ChildProcess} child
 * @param {NodeJS.Signals} [signal]
 */
export async function stopChild(child, signal = 'SIGTERM') {
  killChild(child, signal);
  await exited(child);
}

export async function cleanup() {
  for (const fn of cleanups.reverse()) {
    try {
      await fn();
    } catch (err) {
      console.error(`cleanup: ${/** @type {Error} */ (err).message}`);
    }
  }
  cleanups.length = 0;
  for (const child of children) killChild(child, 'SIGKILL');
}

/**
 * A bench's entry: runs `main`; an error is one line on stderr, the children stopped, exit 1.
 * @param {() => Promise<unknown>} main
 */
export async function runBench(main) {
  try {
    await main();
  } catch (err) {
    console.error(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    await cleanup();
    process.exit(1);
  }
}

/**
 * Cleans up and exits 2 if the bench is not done within `seconds`, and 130 on Ctrl-C or SIGTERM.
 * Returns what ends the watch once the bench is done.
 * @param {number} seconds
 */
export function stopAtDeadline(seconds) {
  const deadline = setTimeout(() => {
    console.error(`bench: not done within ${seconds} s; stopping everything`);
    void cleanup().finally(() => process.exit(2));
  }, seconds * 1000);
  for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => void cleanup().finally(() => process.exit(130)));
  return () => clearTimeout(deadline);
}

/** Progress lines on stderr, each with the seconds since the bench started. */
export function timedLog() {
  const startedAt = Date.now();
  /** @param {string} line */
  return (line) => console.error(`[${((Date.now() - startedAt) / 1000).toFixed(1).padStart(6)} s] ${line}`);
}

/** @returns {Promise<number>} */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {AddressInfo} */ (probe.address());
      probe.close(() => resolve(port));
    });
  });
}

/** @param {import('node:stream').Readable | null} stream */
export function collect(stream) {
  let text = '';
  stream?.on('data', (d) => (text += d));
  return () => text.trim().slice(-2000);
}

/**
 * @param {string} command
 * @param {string[]} args
 * @param {{ env?: NodeJS.ProcessEnv, cwd?: string, timeoutMs?: number, input?: string, cpu?: boolean }} [options] input: written to its stdin (else it has none); cpu: measure its CPU seconds (cpuSeconds, where GNU time is installed)
 * @returns {Promise<RunResult>}
 */
export function run(command, args, { env, cwd, timeoutMs = 30_000, input, cpu = false } = {}) {
  // With cpu, the command runs under GNU time, which writes user and system seconds to a file of its own.
  const cpuFile = cpu && canTimeCpu ? path.join(mkdtempSync(path.join(os.tmpdir(), 'cf-ssh-tools-bench-cpu-')), 'cpu') : undefined;
  const [file, argv] = cpuFile ? [GNU_TIME, ['-f', '%U %S', '-o', cpuFile, command, ...args]] : [command, args];
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = track(spawn(file, argv, { env, cwd, stdio: ['pipe', 'pipe', 'pipe'] }));
    // Without input, an empty stdin: no command waits for a terminal. One that exits before
    // the write (a quick one can, on a loaded machine) makes it fail with EPIPE: its exit
    // status says what it did.
    child.stdin.on('error', (err) => /** @type {NodeJS.ErrnoException} */ (err).code !== 'EPIPE' && reject(err));
    child.stdin.end(input ?? '');
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      killChild(child, 'SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('error', reject);
    // Timed to the exit; resolved once its output is read too.
    let ms = 0;
    child.once('exit', () => (ms = Number(process.hrtime.bigint() - started) / 1e6));
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      let cpuSeconds;
      if (cpuFile) {
        // GNU time writes nothing for a command it could not wait for (killed at the timeout).
        const said = existsSync(cpuFile) ? readFileSync(cpuFile, 'utf8').trim().split('\n').at(-1) : undefined;
        const [user = NaN, system = NaN] = said?.split(' ').map(Number) ?? [];
        cpuSeconds = user + system;
        rmSync(path.dirname(cpuFile), { recursive: true, force: true });
      }
      resolve({ code, signal, stdout, stderr, ms, cpuSeconds });
    });
  });
}
