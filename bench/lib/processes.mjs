// @ts-check
// Child processes for the benches: each one started is tracked, so that cleanup() stops
// whatever is left at the end, on Ctrl-C, on error or at a deadline; and timed runs of commands.
import { spawn } from 'node:child_process';
import net from 'node:net';

/** @typedef {import('node:child_process').ChildProcess} ChildProcess */
/** @typedef {import('node:net').AddressInfo} AddressInfo */
/** @typedef {{ code: number | null, signal: NodeJS.Signals | null, stdout: string, stderr: string, ms: number }} RunResult */

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
 * @param {{ env?: NodeJS.ProcessEnv, cwd?: string, timeoutMs?: number, input?: string }} [options] input: written to its stdin (else it has none)
 * @returns {Promise<RunResult>}
 */
export function run(command, args, { env, cwd, timeoutMs = 30_000, input } = {}) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = track(spawn(command, args, { env, cwd, stdio: ['pipe', 'pipe', 'pipe'] }));
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
      resolve({ code, signal, stdout, stderr, ms });
    });
  });
}
