// @ts-check
// Start-up of the CLI, unbundled and packaged, against `node -e 0` in the same run:
//   npx tsc -p . && scripts/pkg --out /tmp/pkgout && node bench/startup.mjs /tmp/pkgout/cf-ssh-tools-linux64 [--runs 9]
// Starts the test foundation as its own process (the timed commands block this one) and logs
// `developer` in to a throwaway CF_HOME.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values, positionals } = parseArgs({ allowPositionals: true, options: { runs: { type: 'string', default: '9' } } });
const [packaged] = positionals;
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
try {
  execFileSync(unbundled[0], [unbundled[1], 'login', '-a', api, '-u', 'developer', '-o', 'demo-org', '-s', 'demo-space'], {
    env,
    input: 'developer-pass\n',
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  /** @type {(command: string, args: string[]) => number} */
  const median = (command, args) => {
    const times = [];
    for (let i = 0; i < runs; i += 1) {
      const started = process.hrtime.bigint();
      execFileSync(command, args, { env, stdio: 'ignore' });
      times.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    return times.sort((a, b) => a - b)[Math.floor(runs / 2)];
  };
  const reference = median(process.execPath, ['-e', '0']);
  /** @type {[string, number][]} */
  const rows = [
    ['node -e 0 (reference)', reference],
    ['unbundled --help', median(unbundled[0], [unbundled[1], '--help'])],
    ['unbundled ssh demo-app -c true', median(unbundled[0], [unbundled[1], 'ssh', 'demo-app', '-c', 'true'])],
  ];
  if (packaged) rows.push(['packaged --help', median(packaged, ['--help'])], ['packaged ssh demo-app -c true', median(packaged, ['ssh', 'demo-app', '-c', 'true'])]);
  console.log(`start-up, ${runs} runs each, median ms, node ${process.version}, ${os.cpus().length} cores`);
  for (const [what, ms] of rows) console.log(`${what.padEnd(34)} ${ms.toFixed(0).padStart(5)}  (${(ms / reference).toFixed(2)}x node -e 0)`);
} finally {
  foundationProcess.kill('SIGTERM');
  rmSync(home, { recursive: true, force: true });
}
