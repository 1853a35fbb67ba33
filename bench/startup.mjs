// @ts-check
// Start-up of the CLI, unbundled and packaged, against `node -e 0` in the same run:
//   npx tsc -p . && scripts/pkg --out /tmp/pkgout && node bench/startup.mjs /tmp/pkgout/cf-ssh-tools-linux64 [MORE_BINARIES...] [--runs 15]
// Each round runs every case once, in turn (so drift on the machine hits all alike); the
// report gives each case's median and fastest run and their ratios to `node -e 0`'s. Give more
// packaged binaries to compare builds (e.g. one from scripts/pkg --no-code-cache). The
// children get a bare environment: NODE_EXTRA_CA_CERTS, for one, costs node ~40 ms at start.
// Starts the test foundation as its own process (the timed commands block this one) and logs
// `developer` in to a throwaway CF_HOME.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values, positionals: packaged } = parseArgs({ allowPositionals: true, options: { runs: { type: 'string', default: '15' } } });
const runs = Number(values.runs);
const foundationProcess = spawn(process.execPath, [path.join(root, 'build/test/foundation/main.js'), '--port', '0', '--no-databases'], { stdio: ['ignore', 'pipe', 'ignore'] });
/** @type {string} */
const api = await new Promise((resolve) => {
  let out = '';
  foundationProcess.stdout.on('data', (d) => {
    out += d;
    const match = /^api=(\S+)$/m.exec(out);
    if (match) resolve(match[1]);
  });
});
const home = mkdtempSync(path.join(os.tmpdir(), 'cf-ssh-tools-startup-'));
const env = { PATH: process.env.PATH, HOME: home, CF_HOME: home, CF_SSH_TOOLS_NO_KEYCHAIN: 'true' };
const unbundled = [process.execPath, path.join(root, 'build/src/bin.js')];
const loadBefore = os.loadavg()[0] ?? NaN;
try {
  execFileSync(unbundled[0], [unbundled[1], 'login', '-a', api, '-u', 'developer', '-o', 'demo-org', '-s', 'demo-space'], {
    env,
    input: 'developer-pass\n',
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  /** @type {[string, string, string[]][]} what, command, arguments */
  const cases = [
    ['node -e 0 (reference)', process.execPath, ['-e', '0']],
    ['unbundled --help', unbundled[0], [unbundled[1], '--help']],
    ['unbundled ssh demo-app -c true', unbundled[0], [unbundled[1], 'ssh', 'demo-app', '-c', 'true']],
  ];
  for (const binary of packaged) {
    const name = packaged.length > 1 ? `packaged ${binary}` : 'packaged';
    cases.push(
      [`${name} --help`, binary, ['--help']],
      [`${name} ssh-enabled demo-app`, binary, ['ssh-enabled', 'demo-app']],
      [`${name} ssh demo-app -c true`, binary, ['ssh', 'demo-app', '-c', 'true']],
    );
  }
  /** @type {number[][]} */
  const times = cases.map(() => []);
  // Round 0 warms the file cache and starts the instance's sshd; it is not counted.
  for (let round = 0; round <= runs; round += 1) {
    cases.forEach(([, command, args], i) => {
      const started = process.hrtime.bigint();
      execFileSync(command, args, { env, stdio: 'ignore' });
      if (round > 0) times[i]?.push(Number(process.hrtime.bigint() - started) / 1e6);
    });
  }
  /** @type {(list: number[]) => { median: number, fastest: number }} */
  const stats = (list) => {
    const sorted = [...list].sort((a, b) => a - b);
    return { median: sorted[Math.floor(sorted.length / 2)] ?? NaN, fastest: sorted[0] ?? NaN };
  };
  const [reference, ...rest] = times.map(stats);
  if (!reference) throw new Error('no reference case');
  const width = Math.max(...cases.map(([what]) => what.length));
  console.log(`start-up, ${runs} interleaved runs each, ms, node ${process.version}, ${os.cpus().length} cores, load average ${loadBefore.toFixed(2)} before the runs`);
  console.log(`${''.padEnd(width)}  median  fastest  (ratio to node -e 0: median, fastest)`);
  for (const [i, { median, fastest }] of [reference, ...rest].entries()) {
    const ratios = `${(median / reference.median).toFixed(2)}x, ${(fastest / reference.fastest).toFixed(2)}x`;
    console.log(`${(cases[i]?.[0] ?? '').padEnd(width)}  ${median.toFixed(0).padStart(6)}  ${fastest.toFixed(0).padStart(7)}  (${ratios})`);
  }
} finally {
  foundationProcess.kill('SIGTERM');
  rmSync(home, { recursive: true, force: true });
}
