// @ts-check
// connect-to-service benchmarks (run after `npm run build`):
//   node bench/connect.mjs [--runs N] [--concurrent N]
// 1. Time from command start to the first query result: `connect-to-service db-app demo-pg -- -tAc 'select 1'`
//    against the same steps by hand (`ssh -N -L`, wait until the port answers, then `psql`), in one run.
// 2. Many client connections at once through one tunnel (Redis: AUTH + PING on each), none may fail.
// Everything runs on 127.0.0.1: the test foundation with its SSH proxy, sshd backends and databases.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BIN, ROOT } from './lib/foundation.mjs';
import { freePort } from './lib/processes.mjs';
import { median } from './lib/stats.mjs';

const { startFoundation } = await import(path.join(ROOT, 'build/test/foundation/server.js'));

const { values } = parseArgs({ options: { runs: { type: 'string', default: '7' }, concurrent: { type: 'string', default: '100' } } });
const runs = Number(values.runs);
const concurrent = Number(values.concurrent);

/** @param {number[]} xs */
const range = (xs) => `${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)}`;

/** @typedef {{ input?: string, env?: NodeJS.ProcessEnv }} RunOptions */
/** @typedef {{ child: import('node:child_process').ChildProcessWithoutNullStreams, output: () => string }} Running */
/** @typedef {{ code: number | null, stdout: string, stderr: string }} Finished */
/**
 * The CLI in `home`: a running process (wait: false), else its result.
 * @overload
 * @param {string} home
 * @param {string[]} args
 * @param {RunOptions & { wait: false }} options
 * @returns {Running}
 */
/**
 * @overload
 * @param {string} home
 * @param {string[]} args
 * @param {RunOptions & { wait?: true }} [options]
 * @returns {Promise<Finished>}
 */
/**
 * @param {string} home
 * @param {string[]} args
 * @param {RunOptions & { wait?: boolean }} [options]
 * @returns {Running | Promise<Finished>}
 */
function run(home, args, { input = '', env = {}, wait = true } = {}) {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH, HOME: home, CF_HOME: home, CF_SSH_TOOLS_NO_KEYCHAIN: 'true', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin.end(input);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  if (!wait) return { child, output: () => stdout };
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

/**
 * @param {string} command
 * @param {string[]} args
 * @param {NodeJS.ProcessEnv} env
 * @returns {Promise<{ code: number | null, stdout: string }>}
 */
function spawnWait(command, args, env) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.once('close', (code) => resolve({ code, stdout }));
  });
}

/**
 * @param {number} port
 * @returns {Promise<boolean>}
 */
async function portAnswers(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

const foundation = await startFoundation({ databases: ['postgres', 'redis'] });
const home = mkdtempSync(path.join(os.tmpdir(), 'cf-ssh-tools-bench-'));
try {
  const login = await run(home, ['login', '-a', foundation.url, '-u', 'developer', '-o', 'demo-org', '-s', 'demo-space'], { input: 'developer-pass\n' });
  if (login.code !== 0) throw new Error(`login failed: ${login.stderr}`);
  // Credentials for the by-hand path, as a user would copy them from `--no-client --show-password`.
  const details = run(home, ['connect-to-service', 'db-app', 'demo-pg', '--no-client', '--show-password'], { wait: false });
  while (!/url:/.test(details.output())) await new Promise((r) => setTimeout(r, 50));
  /** @param {string} name */
  const field = (name) => /** @type {RegExpExecArray} */ (new RegExp(`${name}:\\s+(\\S+)`).exec(details.output()))[1];
  const [user, password, database] = [field('username'), field('password'), field('database')];
  details.child.kill('SIGINT');
  const pgPort = foundation.databases.status().find((/** @type {{ kind: string, port: number }} */ d) => d.kind === 'postgres').port;

  /** @type {number[]} */
  const tool = [];
  /** @type {number[]} */
  const byHand = [];
  for (let i = 0; i < runs; i += 1) {
    let started = performance.now();
    const r = await run(home, ['connect-to-service', 'db-app', 'demo-pg', '--', '-tAc', 'select 1']);
    if (r.stdout.trim() !== '1') throw new Error(`connect-to-service: ${r.stderr}`);
    tool.push(performance.now() - started);

    started = performance.now();
    const local = await freePort();
    const tunnel = run(home, ['ssh', 'db-app', '-N', '-L', `${local}:127.0.0.1:${pgPort}`], { wait: false });
    while (!(await portAnswers(local))) await new Promise((r) => setTimeout(r, 20));
    const q = await spawnWait('psql', ['-h', '127.0.0.1', '-p', String(local), '-U', user, '-d', database, '-tAc', 'select 1'], { PGPASSWORD: password });
    if (q.stdout.trim() !== '1') throw new Error('psql by hand failed');
    byHand.push(performance.now() - started);
    tunnel.child.kill('SIGINT');
    await new Promise((r) => tunnel.child.once('close', r));
  }

  // Many connections at once through one tunnel.
  const redis = run(home, ['connect-to-service', 'db-app', 'demo-redis', '--no-client', '--show-password'], { wait: false });
  while (!/url:/.test(redis.output())) await new Promise((r) => setTimeout(r, 50));
  const redisPort = Number(/** @type {RegExpExecArray} */ (/port:\s+(\d+)/.exec(redis.output()))[1]);
  const redisPassword = /** @type {RegExpExecArray} */ (/password:\s+(\S+)/.exec(redis.output()))[1];
  const started = performance.now();
  const answers = await Promise.all(
    Array.from(
      { length: concurrent },
      () =>
        new Promise((resolve) => {
          const s = net.connect(redisPort, '127.0.0.1', () => s.write(`AUTH ${redisPassword}\r\nPING\r\n`));
          let got = '';
          s.on('data', (d) => {
            got += d;
            if (got.includes('+PONG')) {
              s.end();
              resolve(got.startsWith('+OK') ? 'ok' : got);
            }
          });
          s.once('error', (e) => resolve(e.message));
          setTimeout(() => {
            s.destroy();
            resolve(`timeout: ${got}`);
          }, 20_000);
        }),
    ),
  );
  const failed = answers.filter((a) => a !== 'ok');
  const concurrentMs = performance.now() - started;
  redis.child.kill('SIGINT');

  console.log(`connect-to-service benchmark, ${runs} runs each, ${os.cpus().length} cores, node ${process.version}`);
  console.log(
    `time to the first query result (ms): connect-to-service median ${median(tool).toFixed(0)} (range ${range(tool)}), by hand (ssh -N -L, wait for the port, psql) median ${median(byHand).toFixed(0)} (range ${range(byHand)})`,
  );
  console.log(`ratio connect-to-service / by hand: ${(median(tool) / median(byHand)).toFixed(2)}`);
  console.log(
    `${concurrent} concurrent Redis connections through one tunnel: ${concurrent - failed.length} answered, ${failed.length} failed, in ${concurrentMs.toFixed(0)} ms${failed.length ? `; first failure: ${failed[0]}` : ''}`,
  );
  process.exitCode = failed.length === 0 ? 0 : 1;
} finally {
  await foundation.stop();
  rmSync(home, { recursive: true, force: true });
}
