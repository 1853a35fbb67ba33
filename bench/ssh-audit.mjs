// @ts-check
// ssh-audit over an org of 5,000 apps (run after `npm run build`):
//   node bench/ssh-audit.mjs [--apps N] [--runs N] [--json FILE]
// Starts the test foundation in its own process (`--seed-apps N --no-ssh --no-databases`, no
// rate limiting), logs in as developer, and times `cf-ssh-tools ssh-audit -o perf-org-1 --json`
// from process start to exit, each run a fresh process. It reports the median and range and
// checks each report has every app; it does not fail on a target.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(root, 'build/src/bin.js');
const FOUNDATION = path.join(root, 'build/test/foundation/main.js');
/** The foundation puts 100 apps in a space and 50 spaces in an org: perf-org-1 holds the first 5,000. */
const APPS_PER_ORG = 5000;

const { values } = parseArgs({ options: { apps: { type: 'string', default: '5000' }, runs: { type: 'string', default: '5' }, json: { type: 'string' } } });
const apps = Number(values.apps);
const runs = Number(values.runs);

/** @param {number[]} xs */
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

/**
 * @param {string} home
 * @param {string[]} args
 * @returns {Promise<{ code: number | null, stdout: string, stderr: string, ms: number }>}
 */
function cli(home, args) {
  const started = performance.now();
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH, HOME: home, CF_HOME: home, CF_SSH_TOOLS_NO_KEYCHAIN: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr, ms: performance.now() - started })));
}

/** The foundation in a child process, and its API URL once it says it is ready. */
async function foundation() {
  const started = performance.now();
  const child = spawn(process.execPath, [FOUNDATION, '--port', '0', '--no-ssh', '--no-databases', '--seed-apps', String(apps)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const api = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const found = /^api=(\S+)$/m.exec(out);
      if (found) resolve(found[1]);
    });
    child.once('exit', (code) => reject(new Error(`the foundation exited (${code}) before it was ready`)));
  });
  return { child, api: String(api), readyMs: performance.now() - started };
}

const home = mkdtempSync(path.join(os.tmpdir(), 'bench-ssh-audit-'));
const { child, api, readyMs } = await foundation();
try {
  const login = await cli(home, ['login', '-a', api, '-u', 'developer', '-p', 'developer-pass', '-o', 'perf-org-1', '-s', 'perf-space-1']);
  if (login.code !== 0) throw new Error(`login failed: ${login.stdout}${login.stderr}`);
  /** @type {number[]} */
  const times = [];
  for (let i = 0; i < runs; i += 1) {
    const r = await cli(home, ['ssh-audit', '-o', 'perf-org-1', '--json']);
    if (r.code !== 0) throw new Error(`ssh-audit exited ${r.code}: ${r.stderr}`);
    const report = JSON.parse(r.stdout.slice(r.stdout.indexOf('\n\n') + 2));
    const expected = Math.min(apps, APPS_PER_ORG);
    if (report.apps.length !== expected) throw new Error(`the report has ${report.apps.length} apps, not ${expected}`);
    times.push(r.ms);
    process.stderr.write(`run ${i + 1}/${runs}: ${r.ms.toFixed(0)} ms\n`);
  }
  const result = {
    apps: Math.min(apps, APPS_PER_ORG),
    runs,
    foundationReadyMs: Math.round(readyMs),
    medianMs: Math.round(median(times)),
    minMs: Math.round(Math.min(...times)),
    maxMs: Math.round(Math.max(...times)),
    node: process.version,
    cpus: os.cpus().length,
  };
  process.stdout.write(
    `ssh-audit -o perf-org-1 --json, ${result.apps} apps, ${runs} runs: median ${result.medianMs} ms (${result.minMs}-${result.maxMs}); foundation ready in ${result.foundationReadyMs} ms; node ${result.node}, ${result.cpus} CPUs\n`,
  );
  if (values.json) writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
} finally {
  child.kill();
  rmSync(home, { recursive: true, force: true });
}
