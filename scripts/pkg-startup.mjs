// @ts-check
// Start-up time of a packaged binary against bare node: node scripts/pkg-startup.mjs [BINARY] [RUNS]
// Runs `node -e 0` and `BINARY --help` alternately (so both see the same machine load) and
// prints the median and the fastest run of each, and their ratio.
import { spawnSync } from 'node:child_process';

const binary = process.argv[2] ?? 'dist/cf-ssh-tools-linux64';
const runs = Number(process.argv[3] ?? 30);
/** @type {Record<string, [string, string[]]>} */
const cases = { 'node -e 0': [process.execPath, ['-e', '0']], [`${binary} --help`]: [binary, ['--help']] };
/** @type {Record<string, number[]>} */
const times = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (let i = 0; i <= runs; i += 1) {
  for (const [name, [file, args]] of Object.entries(cases)) {
    const start = process.hrtime.bigint();
    const r = spawnSync(file, args, { stdio: 'ignore' });
    if (r.status !== 0) throw new Error(`${name} exited ${r.status}`);
    if (i > 0) times[name].push(Number(process.hrtime.bigint() - start) / 1e6); // run 0 warms the caches
  }
}
/** @param {number[]} list */
const stats = (list) => {
  const sorted = [...list].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)], min: sorted[0] };
};
const [base, bin] = Object.values(times).map(stats);
for (const [name, list] of Object.entries(times)) {
  const s = stats(list);
  console.log(`${name}: median ${s.median.toFixed(1)} ms, fastest ${s.min.toFixed(1)} ms (${list.length} runs)`);
}
console.log(`ratio: median ${(bin.median / base.median).toFixed(2)}, fastest ${(bin.min / base.min).toFixed(2)}`);
