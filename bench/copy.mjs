#!/usr/bin/env node
// @ts-check
// copy's throughput against OpenSSH's: the test foundation as a process of its own, a file of
// --size random bytes downloaded and uploaded through its SSH proxy to an instance's real sshd
// (whose sftp-server answers all three clients), interleaved runs of
//   - cf-ssh-tools copy demo-app:PATH ./here (and back up),
//   - scp -s (SFTP protocol, OpenSSH's default since 9.0) with a one-time code through SSH_ASKPASS,
//   - sftp -b - (batch mode, with -o BatchMode=no: -b alone would refuse to ask for the code),
// each run checked byte for byte (SHA-256 against the source's). Time runs from the start of
// the command to its exit, so it includes the setup (about 0.1–0.3 s for ours); OpenSSH's code
// is fetched beforehand and not timed. MB/s with 1 MB = 10^6 bytes. See bench/README.md.
//
//   npm run build && node bench/copy.mjs [--size 1G] [--runs 5] [--deadline SECONDS] [--help]
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, closeSync, createReadStream, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BIN, FOUNDATION_MAIN, ROOT, gitState, startFoundation } from './lib/foundation.mjs';
import { canTimeCpu, cleanup, cleanups, run, runBench, stopChild, stopAtDeadline, timedLog } from './lib/processes.mjs';
import { fmt, fmtSummary, median, summary } from './lib/stats.mjs';

const USAGE = `node bench/copy.mjs [--size 1G] [--runs 5] [--deadline 900]
  --size      bytes moved each way: 1G (default), 256M for a quick run, or a number of bytes
  --runs      runs of each client and direction, interleaved (default 5)
  --deadline  stop everything after this many seconds (default 900)`;

const APP = 'demo-app';
const MIB = 1024 * 1024;

/** @param {string} text 1G, 256M, 100K or bytes */
function parseSize(text) {
  const m = /^(\d+)([KMG]?)$/i.exec(text);
  if (!m) throw new Error(`--size takes a number of bytes with an optional K, M or G, not '${text}'`);
  return Number(m[1]) * 1024 ** ' KMG'.indexOf((m[2] || ' ').toUpperCase());
}

/**
 * A file of `size` bytes: one random 1 MiB block, each copy of it starting with its index (so no two are alike).
 * @param {string} file
 * @param {number} size
 */
function randomFile(file, size) {
  const block = randomBytes(MIB);
  const fd = openSync(file, 'w');
  try {
    for (let written = 0, i = 0; written < size; written += MIB, i++) {
      const chunk = Buffer.from(block.subarray(0, Math.min(MIB, size - written)));
      chunk.writeUInt32LE(i, 0);
      writeSync(fd, chunk);
    }
  } finally {
    closeSync(fd);
  }
}

/** @param {string} file */
async function sha256(file) {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(/** @type {Buffer} */ (chunk));
  return hash.digest('hex');
}

async function main() {
  const { values } = parseArgs({
    options: {
      size: { type: 'string', default: '1G' },
      runs: { type: 'string', default: '5' },
      deadline: { type: 'string', default: '900' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const size = parseSize(values.size);
  const runs = Math.max(1, Number(values.runs) || 1);
  for (const file of [BIN, FOUNDATION_MAIN]) if (!existsSync(file)) throw new Error(`${path.relative(ROOT, file)} is missing: run \`npm run build\` first`);
  for (const tool of ['scp', 'sftp'])
    if (!existsSync(`/usr/bin/${tool}`) && spawnSync('which', [tool]).status !== 0) throw new Error(`${tool} is missing: the bench compares with OpenSSH's`);

  const doneWithDeadline = stopAtDeadline(Number(values.deadline));
  const startedAt = Date.now();
  const log = timedLog();

  // The instances run on this machine as this user: their side of a copy is a folder here.
  const work = mkdtempSync(path.join(os.tmpdir(), 'cf-ssh-tools-copy-bench-'));
  cleanups.push(() => rmSync(work, { recursive: true, force: true }));
  const home = path.join(work, 'home');
  const remote = path.join(work, 'remote');
  const local = path.join(work, 'local');
  for (const dir of [home, remote, local]) mkdirSync(dir, { mode: 0o700 });

  const foundation = await startFoundation();
  cleanups.push(() => stopChild(foundation.child));
  log(`foundation ${foundation.api}, SSH proxy on port ${foundation.sshPort}`);

  const env = { PATH: process.env.PATH, HOME: home, CF_HOME: home, CF_SSH_TOOLS_NO_KEYCHAIN: 'true' };
  /** @param {string[]} args @param {string} [input] */
  const ours = (args, input, cpu = false) => run(process.execPath, [BIN, ...args], { env, input, timeoutMs: 600_000, cpu });
  /**
   * @param {string} what
   * @param {import('./lib/processes.mjs').RunResult} r
   */
  const check = (what, r) => {
    if (r.code !== 0) throw new Error(`${what} exited with ${r.code ?? r.signal}: ${r.stderr.trim() || r.stdout.trim()}`);
    return r;
  };
  check('login', await ours(['login', '-a', foundation.api, '-u', 'developer', '-o', 'demo-org', '-s', 'demo-space'], 'developer-pass\n'));

  // OpenSSH: the code through SSH_ASKPASS (never on its argv), no config, no known hosts.
  const askpass = path.join(work, 'askpass');
  writeFileSync(askpass, '#!/bin/sh\nprintf "%s\\n" "$CF_BENCH_CODE"\n');
  chmodSync(askpass, 0o700);
  const login = check('ssh-code --openssh', await ours(['ssh-code', '--openssh', APP]));
  const m = /^ssh -p (\d+) (cf:[0-9a-f-]{36}\/0)@(\S+)$/m.exec(login.stdout);
  if (!m) throw new Error(`ssh-code --openssh did not print an ssh command: ${login.stdout}`);
  const [, port, user, host] = m;
  const opensshOptions = ['-F', '/dev/null', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR'];
  opensshOptions.push('-o', 'PubkeyAuthentication=no', '-o', 'PreferredAuthentications=password', '-o', `User=${user}`, '-P', port);
  const freshCode = async () => check('ssh-code', await ours(['ssh-code'])).stdout.trim();
  /** @param {string} tool @param {string[]} args @param {string} [input] */
  const openssh = async (tool, args, input) =>
    run(tool, [...opensshOptions, ...args], {
      env: { ...env, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', CF_BENCH_CODE: await freshCode() },
      input,
      timeoutMs: 600_000,
      cpu: true,
    });

  const source = { down: path.join(remote, 'source'), up: path.join(local, 'source') };
  log(`writing two files of ${fmt(size / MIB)} MiB`);
  randomFile(source.down, size);
  randomFile(source.up, size);
  const expected = { down: await sha256(source.down), up: await sha256(source.up) };

  /** @typedef {'down' | 'up'} Direction */
  /** @type {{ id: string, label: string, copy: (direction: Direction, to: string) => Promise<import('./lib/processes.mjs').RunResult> }[]} */
  const clients = [
    {
      id: 'ours',
      label: 'cf-ssh-tools copy',
      copy: (direction, to) => ours(['copy', '-q', ...(direction === 'down' ? [`${APP}:${source.down}`, to] : [source.up, `${APP}:${to}`])], undefined, true),
    },
    {
      id: 'scp',
      label: 'OpenSSH scp (SFTP protocol)',
      copy: (direction, to) => openssh('scp', ['-q', '-s', ...(direction === 'down' ? [`${host}:${source.down}`, to] : [source.up, `${host}:${to}`])]),
    },
    {
      id: 'sftp',
      label: 'OpenSSH sftp -b -',
      copy: (direction, to) => openssh('sftp', ['-q', '-o', 'BatchMode=no', '-b', '-', host], direction === 'down' ? `get ${source.down} ${to}\n` : `put ${source.up} ${to}\n`),
    },
  ];

  /** @type {Record<string, number[]>} */
  const seconds = {};
  /** CPU seconds (user + system) of each timed copy, the client's own process and its children. @type {Record<string, number[]>} */
  const cpuSeconds = {};
  /** One run: a fresh target, timed, then its every byte checked and removed. @param {(typeof clients)[number]} client @param {Direction} direction */
  const once = async (client, direction) => {
    const to = path.join(direction === 'down' ? local : remote, `${client.id}-${direction}`);
    const r = check(`${client.label} (${direction})`, await client.copy(direction, to));
    if (statSync(to).size !== size || (await sha256(to)) !== expected[direction]) throw new Error(`${client.label} (${direction}): ${to} differs from its source`);
    rmSync(to);
    return { seconds: r.ms / 1000, cpuSeconds: r.cpuSeconds };
  };
  // One of each first: the first connection starts the instance's sshd, and the page cache warms.
  for (const direction of /** @type {Direction[]} */ (['down', 'up'])) for (const client of clients) await once(client, direction);
  const loadBefore = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  for (let i = 0; i < runs; i++) {
    // A rotating order, so that no client always follows another.
    for (const direction of /** @type {Direction[]} */ (['down', 'up'])) {
      for (const client of clients.map((_, j) => clients[(i + j) % clients.length])) {
        const timed = await once(client, direction);
        (seconds[`${client.id}-${direction}`] ??= []).push(timed.seconds);
        if (timed.cpuSeconds !== undefined) (cpuSeconds[`${client.id}-${direction}`] ??= []).push(timed.cpuSeconds);
      }
    }
    log(`run ${i + 1}/${runs} done`);
  }
  const loadAfter = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  doneWithDeadline();
  await cleanup();

  /** @param {string} key */
  const mbps = (key) => summary(seconds[key].map((s) => size / 1e6 / s));
  const sshV = spawnSync('ssh', ['-V'], { encoding: 'utf8' }).stderr.trim();
  const p = (/** @type {string} */ line = '') => console.log(line);
  p(`# cf-ssh-tools copy benchmark, ${new Date().toISOString()}`);
  p();
  p(`command: node bench/copy.mjs ${process.argv.slice(2).join(' ')}`.trimEnd());
  p(`code: commit ${gitState()}; build/src/bin.js compiled ${new Date(statSync(BIN).mtimeMs).toISOString()}`);
  p(`machine: nproc ${os.availableParallelism()}; ${os.cpus()[0]?.model ?? 'unknown CPU'}; node ${process.version}; ${sshV}; Linux ${os.release()}`);
  p(`load average (1, 5, 15 min): ${loadBefore} before the timed runs, ${loadAfter} after`);
  p(`${fmt(size / MIB)} MiB each way through the foundation's SSH proxy to the instance's sftp-server; every copy checked by SHA-256`);
  p();
  p(`## ${runs} runs each, interleaved: median (min–max) MB/s, command start to exit`);
  p();
  p('| client | download | upload |');
  p('|---|---|---|');
  for (const client of clients) p(`| ${client.label} | ${fmtSummary(mbps(`${client.id}-down`), 1)} | ${fmtSummary(mbps(`${client.id}-up`), 1)} |`);
  p();
  for (const other of clients.slice(1)) {
    const ratio = (/** @type {Direction} */ d) => fmt(median(seconds[`${other.id}-${d}`]) / median(seconds[`ours-${d}`]), 2);
    p(`ours / ${other.label}: ${ratio('down')}× download, ${ratio('up')}× upload (median time theirs / ours)`);
  }
  p();
  if (canTimeCpu) {
    // The client's CPU is what this code decides; wall time shares two cores with the proxy and sshd.
    p('## client CPU seconds (user + system, the client and its children): median (min–max)');
    p();
    p('| client | download | upload |');
    p('|---|---|---|');
    for (const client of clients) p(`| ${client.label} | ${fmtSummary(summary(cpuSeconds[`${client.id}-down`]), 2)} | ${fmtSummary(summary(cpuSeconds[`${client.id}-up`]), 2)} |`);
    p();
    for (const other of clients.slice(1)) {
      const ratio = (/** @type {Direction} */ d) => fmt(median(cpuSeconds[`ours-${d}`]) / median(cpuSeconds[`${other.id}-${d}`]), 2);
      p(`ours / ${other.label}: ${ratio('down')}× the CPU downloading, ${ratio('up')}× uploading`);
    }
  } else p('client CPU: not measured (GNU time, /usr/bin/time, is not installed)');
  p();
  p(`total bench time: ${fmt((Date.now() - startedAt) / 1000)} s`);
}

await runBench(main);
