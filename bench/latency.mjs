#!/usr/bin/env node
// @ts-check
// Setup time at real-world latency: the test foundation over HTTPS behind three delaying relays
// (bench/lib/delay-relay.mjs: API, UAA on a host:port of its own, SSH proxy), which it
// publishes as its addresses; then, interleaved at each round trip time (RTT):
//   - cf-ssh-tools ssh demo-app -c true, unbundled and packaged (scripts/pkg's binary),
//   - the same by hand: cf-ssh-tools ssh-code, then OpenSSH with the code through SSH_ASKPASS,
//   - connect-to-service db-app demo-pg -- -tAc 'select 1' to its exit, and by hand
//     (ssh-code, ssh -f -N -L, psql),
//   - with --cf PATH, a real cf CLI's `cf ssh demo-app -c true`.
// It prints the median and range per RTT, the round trips each client needs (the least-squares
// slope of time over RTT, ms per ms), and the HTTP requests and TCP connections per host of one
// run of each. Everything runs on 127.0.0.1 and is stopped at the end. See bench/README.md.
//
//   npm run build && node bench/latency.mjs [--rtt 0,50,100] [--runs 9] [--cf PATH] [--help]
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startDelayRelay } from './lib/delay-relay.mjs';
import { BIN, control, FOUNDATION_MAIN, gitState, ROOT, startFoundation } from './lib/foundation.mjs';
import { cleanup, cleanups, exited, freePort, run, runBench, stopChild, track, stopAtDeadline, timedLog } from './lib/processes.mjs';
import { fmt, fmtSummary, slope, summary } from './lib/stats.mjs';

/** @typedef {import('./lib/stats.mjs').Summary} Summary */
/** @typedef {{ ms: number, parts?: Record<string, number> }} Timing */
/**
 * One way of getting the job done, timed from its first process's start to its last's exit.
 * @typedef {object} Client
 * @property {string} id
 * @property {string} label
 * @property {() => Promise<Timing>} run throws when the job was not done
 * @property {Record<string, string>} [parts] labels of the parts it also times, by key
 */
/** @typedef {{ host: string, method: string, path: string, query: string }} RecordedRequest */

const APP = 'demo-app';
const DB_APP = 'db-app';
const PACKAGED = path.join(ROOT, 'dist/cf-ssh-tools-linux64');
const USER = 'developer';
const PASSWORD = 'developer-pass';

const USAGE = `usage: node bench/latency.mjs [options]   (after npm run build)
  --rtt LIST          round trip times in ms (default 0,50,100)
  --runs N            runs per client and RTT, interleaved (default 9)
  --packaged PATH     scripts/pkg's binary (default dist/cf-ssh-tools-linux64; skipped if absent)
  --cf PATH           also a real cf CLI (cf api/auth/target against the foundation, then cf ssh)
  --json FILE         also write the raw results as JSON
  --deadline SECONDS  stop everything and exit 2 after this long (default 900)`;

async function main() {
  const { values } = parseArgs({
    options: {
      rtt: { type: 'string', default: '0,50,100' },
      runs: { type: 'string', default: '9' },
      packaged: { type: 'string', default: PACKAGED },
      cf: { type: 'string' },
      json: { type: 'string' },
      deadline: { type: 'string', default: '900' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const rtts = values.rtt.split(',').map(Number);
  if (rtts.length < 2 || rtts.some((r) => !Number.isFinite(r) || r < 0)) throw new Error(`--rtt takes two or more round trip times in ms, such as 0,50,100, not '${values.rtt}'`);
  const runs = Math.max(1, Number(values.runs) || 1);
  for (const file of [BIN, FOUNDATION_MAIN]) if (!existsSync(file)) throw new Error(`${path.relative(ROOT, file)} is missing: run \`npm run build\` first`);
  for (const tool of ['ssh', 'psql']) if (spawnSync(tool, ['-V']).error) throw new Error(`${tool} is missing: the by-hand steps need OpenSSH's ssh and PostgreSQL's psql`);
  const packaged = existsSync(values.packaged) ? path.resolve(values.packaged) : undefined;

  const doneWithDeadline = stopAtDeadline(Number(values.deadline));

  const startedAt = Date.now();
  const log = timedLog();
  const work = mkdtempSync(path.join(os.tmpdir(), 'cf-ssh-tools-latency-'));
  cleanups.push(() => rmSync(work, { recursive: true, force: true }));

  // The relays first: the foundation publishes their addresses, and they learn its own.
  const relays = { api: await startDelayRelay(), uaa: await startDelayRelay(), ssh: await startDelayRelay() };
  cleanups.push(() => Promise.all(Object.values(relays).map((r) => r.close())));
  const caFile = path.join(work, 'ca.pem');
  const publicApi = `https://${relays.api.address}`;
  const foundation = await startFoundation({
    args: [
      '--https',
      '--ca-out',
      caFile,
      '--databases',
      'postgres',
      '--public-url',
      publicApi,
      '--public-uaa-url',
      `https://${relays.uaa.address}`,
      '--public-ssh',
      relays.ssh.address,
    ],
  });
  cleanups.push(() => stopChild(foundation.child));
  const listening = { host: '127.0.0.1', port: Number(new URL(foundation.api).port) };
  relays.api.target = listening;
  relays.uaa.target = listening;
  relays.ssh.target = { host: '127.0.0.1', port: foundation.sshPort };
  const ca = readFileSync(caFile, 'utf8');
  /** @param {number} rtt */
  const setRtt = (rtt) => Object.values(relays).forEach((r) => (r.rttMs = rtt));
  log(`foundation ${foundation.api} behind relays: API ${relays.api.address}, UAA ${relays.uaa.address}, SSH ${relays.ssh.address}`);

  /** A private home per client kind, logged in once. @param {string} name */
  const newHome = (name) => {
    const home = path.join(work, name);
    mkdirSync(home, { mode: 0o700 });
    return home;
  };
  /** @param {string} home */
  const cliEnv = (home) => ({ PATH: process.env.PATH, HOME: home, CF_HOME: home, CF_SSH_TOOLS_NO_KEYCHAIN: 'true', NODE_EXTRA_CA_CERTS: caFile });
  /**
   * @param {string} what
   * @param {import('./lib/processes.mjs').RunResult} r
   * @param {RegExp} [expected] what its stdout must show
   */
  const check = (what, r, expected) => {
    if (r.code !== 0 || (expected && !expected.test(r.stdout))) throw new Error(`${what} exited ${r.code ?? r.signal}: ${r.stdout.slice(-500)}${r.stderr.slice(-1000)}`);
    return r;
  };
  /**
   * cf-ssh-tools, unbundled or packaged, in `home`.
   * @param {string | undefined} binary the packaged one, else node build/src/bin.js
   * @param {string} home
   */
  const ourCli = (binary, home) => {
    const env = cliEnv(home);
    /** @param {string[]} args @param {string} [input] */
    return (args, input) => (binary ? run(binary, args, { env, input, timeoutMs: 60_000 }) : run(process.execPath, [BIN, ...args], { env, input, timeoutMs: 60_000 }));
  };
  const logIn = async (/** @type {ReturnType<typeof ourCli>} */ cli, /** @type {string} */ what) =>
    check(`${what} login`, await cli(['login', '-a', publicApi, '-u', USER, '-o', 'demo-org', '-s', 'demo-space'], `${PASSWORD}\n`));

  const unbundled = ourCli(undefined, newHome('unbundled'));
  await logIn(unbundled, 'unbundled');
  const ofPackaged = packaged ? ourCli(packaged, newHome('packaged')) : undefined;
  if (ofPackaged) await logIn(ofPackaged, 'packaged');
  const byHandHome = newHome('by-hand');
  const byHand = ourCli(undefined, byHandHome);
  await logIn(byHand, 'by-hand');

  // OpenSSH: the code through SSH_ASKPASS (never on its argv), no config, no known hosts.
  const askpass = path.join(work, 'askpass');
  writeFileSync(askpass, '#!/bin/sh\nprintf "%s\\n" "$CF_BENCH_CODE"\n');
  chmodSync(askpass, 0o700);
  const askpassEnv = { PATH: process.env.PATH, HOME: byHandHome, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force' };
  /** @param {string} app the login cf:PROCESS_GUID/0@HOST that `ssh-code --openssh` prints */
  const opensshLogin = async (app) => {
    const r = check(`ssh-code --openssh ${app}`, await byHand(['ssh-code', '--openssh', app]));
    const m = /^ssh -p (\d+) (cf:[0-9a-f-]{36}\/0@\S+)$/m.exec(r.stdout);
    if (!m || Number(m[1]) !== relays.ssh.port) throw new Error(`ssh-code --openssh ${app} does not name the SSH relay: ${r.stdout}`);
    return m[2];
  };
  const opensshArgs = ['-F', '/dev/null', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR'];
  opensshArgs.push('-o', 'PubkeyAuthentication=no', '-o', 'PreferredAuthentications=password', '-p', String(relays.ssh.port));
  const appLogin = await opensshLogin(APP);
  const dbLogin = await opensshLogin(DB_APP);
  const freshCode = async () => check('ssh-code', await byHand(['ssh-code']), /^\S+\s*$/).stdout.trim();

  // The database's credentials, copied beforehand as a user would (not timed), and where it
  // listens as the app sees it.
  const details = spawn(process.execPath, [BIN, 'connect-to-service', DB_APP, 'demo-pg', '--no-client', '--show-password'], {
    env: cliEnv(byHandHome),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  track(details);
  const detailText = await new Promise((resolve, reject) => {
    let text = '';
    details.stdout.on('data', (d) => {
      text += d;
      if (/url:/.test(text)) resolve(text);
    });
    details.once('exit', (code) => reject(new Error(`connect-to-service --no-client exited ${code}: ${text}`)));
  });
  await stopChild(details, 'SIGINT');
  /** @param {string} name */
  const field = (name) => {
    const m = new RegExp(`^\\s*${name}:\\s+(\\S+)`, 'm').exec(detailText);
    if (!m) throw new Error(`connect-to-service --no-client printed no ${name}`);
    return m[1];
  };
  const pg = { user: field('username'), password: field('password'), database: field('database') };
  const databases = /** @type {{ databases: { kind: string, port: number }[] }} */ (await control(foundation.api, 'GET', '/foundation/databases', ca));
  const pgPort = databases.databases.find((d) => d.kind === 'postgres')?.port;
  if (!pgPort) throw new Error('the foundation runs no PostgreSQL');

  /** @type {Client[]} */
  const clients = [];
  for (const [name, cli] of /** @type {const} */ ([
    ['unbundled', unbundled],
    ['packaged', ofPackaged],
  ])) {
    if (!cli) continue;
    clients.push({
      id: `ssh-${name}`,
      label: `cf-ssh-tools ssh ${APP} -c true (${name})`,
      run: async () => ({ ms: check(`ssh (${name})`, await cli(['ssh', APP, '-c', 'true'])).ms }),
    });
  }
  clients.push({
    id: 'ssh-by-hand',
    label: 'by hand: cf-ssh-tools ssh-code, then OpenSSH ssh … true',
    parts: { ssh: 'OpenSSH ssh … true alone, the code already in hand' },
    run: async () => {
      const started = performance.now();
      const code = await freshCode();
      const codeMs = performance.now() - started;
      const r = check('OpenSSH ssh true', await run('ssh', [...opensshArgs, '-T', appLogin, 'true'], { env: { ...askpassEnv, CF_BENCH_CODE: code } }));
      return { ms: performance.now() - started, parts: { ssh: r.ms, code: codeMs } };
    },
  });
  if (values.cf) clients.push(await realCf(path.resolve(values.cf), newHome('cf'), caFile, publicApi, check));
  for (const [name, cli] of /** @type {const} */ ([
    ['unbundled', unbundled],
    ['packaged', ofPackaged],
  ])) {
    if (!cli) continue;
    clients.push({
      id: `cts-${name}`,
      label: `cf-ssh-tools connect-to-service ${DB_APP} demo-pg -- -tAc 'select 1' (${name})`,
      run: async () => ({ ms: check(`connect-to-service (${name})`, await cli(['connect-to-service', DB_APP, 'demo-pg', '--', '-tAc', 'select 1']), /^1$/m).ms }),
    });
  }
  const controlSocket = path.join(work, 'master.sock');
  const tunnelLog = path.join(work, 'ssh-tunnel.log');
  // A run cut short leaves the backgrounded tunnel: its master socket stops it.
  cleanups.push(() => existsSync(controlSocket) && spawnSync('ssh', ['-S', controlSocket, '-O', 'exit', 'bench']));
  clients.push({
    id: 'cts-by-hand',
    label: 'by hand: cf-ssh-tools ssh-code, ssh -f -N -L, psql -tAc "select 1"',
    run: async () => {
      const local = await freePort();
      const started = performance.now();
      const code = await freshCode();
      // -f returns once logged in with the forward listening (ExitOnForwardFailure): no polling.
      // The master socket (-M -S) lets it be stopped afterwards; its stderr goes to a file,
      // since the process that stays holds it open.
      const errors = openSync(tunnelLog, 'w');
      const tunnel = track(
        spawn('ssh', [...opensshArgs, '-f', '-N', '-M', '-S', controlSocket, '-o', 'ExitOnForwardFailure=yes', '-L', `127.0.0.1:${local}:127.0.0.1:${pgPort}`, dbLogin], {
          env: { ...askpassEnv, CF_BENCH_CODE: code },
          stdio: ['ignore', 'ignore', errors],
        }),
      );
      closeSync(errors);
      await exited(tunnel, 30_000);
      if (tunnel.exitCode !== 0) throw new Error(`ssh -f -N -L exited ${tunnel.exitCode ?? tunnel.signalCode}: ${readFileSync(tunnelLog, 'utf8')}`);
      try {
        const q = await run('psql', ['-h', '127.0.0.1', '-p', String(local), '-U', pg.user, '-d', pg.database, '-tAc', 'select 1'], {
          env: { PATH: process.env.PATH, HOME: byHandHome, PGPASSWORD: pg.password },
        });
        check('psql by hand', q, /^1$/m);
        return { ms: performance.now() - started };
      } finally {
        await run('ssh', ['-S', controlSocket, '-O', 'exit', 'bench'], { env: askpassEnv });
      }
    },
  });

  // Warm-up at the first RTT: the first connection starts each instance's sshd and the database.
  setRtt(rtts[0]);
  for (const client of clients) await client.run();
  // One run of each at the first RTT, its requests and connections counted per host.
  /** @type {Record<string, { requests: RecordedRequest[], connections: Record<string, number> }>} */
  const traffic = {};
  for (const client of clients) {
    await control(foundation.api, 'DELETE', '/foundation/requests', ca);
    const before = Object.fromEntries(Object.entries(relays).map(([k, r]) => [k, r.connections]));
    await client.run();
    traffic[client.id] = {
      requests: /** @type {RecordedRequest[]} */ (await control(foundation.api, 'GET', '/foundation/requests', ca)),
      connections: Object.fromEntries(Object.entries(relays).map(([k, r]) => [k, r.connections - before[k]])),
    };
  }

  // The relays at work: the SSH proxy speaks first, so its banner should come 2 RTT after the connect.
  /** @type {number[]} */
  const bannerMs = [];
  for (const rtt of rtts) {
    setRtt(rtt);
    bannerMs.push(await firstBytes(relays.ssh.port));
  }

  const loadBefore = loadAverage();
  log(`${clients.length} clients × ${rtts.length} RTTs × ${runs} runs, interleaved`);
  /** @type {Record<string, Record<number, number[]>>} */
  const times = {};
  /** @param {string} id @param {number} rtt @param {number} ms */
  const record = (id, rtt, ms) => ((times[id] ??= {})[rtt] ??= []).push(ms);
  for (let i = 0; i < runs; i++) {
    // The RTTs in a rotating order, so that no RTT always follows another.
    for (const rtt of rtts.map((_, j) => rtts[(i + j) % rtts.length])) {
      setRtt(rtt);
      for (const client of clients) {
        const t = await client.run();
        record(client.id, rtt, t.ms);
        for (const [part, ms] of Object.entries(t.parts ?? {})) record(`${client.id}:${part}`, rtt, ms);
      }
    }
    log(`run ${i + 1}/${runs} done`);
  }
  const loadAfter = loadAverage();
  doneWithDeadline();
  await cleanup();

  const cfVersion = values.cf ? spawnSync(values.cf, ['version'], { encoding: 'utf8' }).stdout.trim() : undefined;
  const rows = clients.flatMap((c) => [{ id: c.id, label: c.label }, ...Object.entries(c.parts ?? {}).map(([part, label]) => ({ id: `${c.id}:${part}`, label: `  ${label}` }))]);
  const results = rows.map(({ id, label }) => {
    const perRtt = rtts.map((rtt) => summary(times[id][rtt]));
    return {
      id,
      label,
      perRtt,
      roundTrips: slope(
        rtts,
        perRtt.map((s) => s.median),
      ),
    };
  });
  const hostNames = { ...Object.fromEntries(Object.entries(relays).map(([name, r]) => [r.address, name.toUpperCase()])), [new URL(foundation.api).host]: 'proxy→UAA' };
  const report = formatReport({
    rtts,
    runs,
    results,
    traffic,
    clients,
    hostNames,
    bannerMs,
    packaged,
    cfVersion,
    load: { before: loadBefore, after: loadAfter },
    seconds: (Date.now() - startedAt) / 1000,
  });
  console.log(report);
  if (values.json) writeFileSync(values.json, `${JSON.stringify({ rtts, runs, times, results, traffic }, null, 2)}\n`);
}

/** The 1, 5 and 15 min load averages: the machine may be shared, and a loaded one stretches the maxima. */
function loadAverage() {
  return os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
}

/**
 * Milliseconds from a connect to 127.0.0.1:port to the first bytes the server sends.
 * @param {number} port
 * @returns {Promise<number>}
 */
function firstBytes(port) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = net.connect(port, '127.0.0.1');
    socket.once('data', () => {
      resolve(performance.now() - started);
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

/**
 * A real cf CLI, logged in to the foundation in a CF_HOME of its own (the password in its
 * environment, CF_PASSWORD, never on its argv), trusting the foundation's CA (SSL_CERT_FILE).
 * @param {string} cf
 * @param {string} home
 * @param {string} caFile
 * @param {string} api
 * @param {(what: string, r: import('./lib/processes.mjs').RunResult, expected?: RegExp) => unknown} check
 * @returns {Promise<Client>}
 */
async function realCf(cf, home, caFile, api, check) {
  const env = { PATH: process.env.PATH, HOME: home, CF_HOME: home, SSL_CERT_FILE: caFile, CF_USERNAME: USER, CF_PASSWORD: PASSWORD };
  check('cf api', await run(cf, ['api', api], { env }));
  check('cf auth', await run(cf, ['auth'], { env }));
  check('cf target', await run(cf, ['target', '-o', 'demo-org', '-s', 'demo-space'], { env }));
  const { CF_USERNAME: _user, CF_PASSWORD: _password, ...sshEnv } = env;
  return {
    id: 'ssh-cf',
    label: `real cf CLI: cf ssh ${APP} -c true`,
    run: async () => {
      const r = await run(cf, ['ssh', APP, '-c', 'true'], { env: sshEnv, timeoutMs: 60_000 });
      check('cf ssh', r);
      return { ms: r.ms };
    },
  };
}

/**
 * @param {object} report
 * @param {number[]} report.rtts
 * @param {number} report.runs
 * @param {{ id: string, label: string, perRtt: Summary[], roundTrips: number }[]} report.results
 * @param {Record<string, { requests: RecordedRequest[], connections: Record<string, number> }>} report.traffic
 * @param {Client[]} report.clients
 * @param {Record<string, string>} report.hostNames API, UAA or SSH by relay address; the SSH proxy's own requests (to the address the foundation listens on) are not the client's
 * @param {number[]} report.bannerMs per RTT, connect → the SSH proxy's banner through the relay
 * @param {string | undefined} report.packaged
 * @param {string | undefined} report.cfVersion
 * @param {{ before: string, after: string }} report.load load averages before and after the timed runs
 * @param {number} report.seconds
 */
function formatReport({ rtts, runs, results, traffic, clients, hostNames, bannerMs, packaged, cfVersion, load, seconds }) {
  /** @type {string[]} */
  const out = [];
  const p = (line = '') => out.push(line);
  const sshV = spawnSync('ssh', ['-V'], { encoding: 'utf8' }).stderr.trim();
  p(`# cf-ssh-tools latency benchmark, ${new Date().toISOString()}`);
  p();
  p(`command: node bench/latency.mjs ${process.argv.slice(2).join(' ')}`.trimEnd());
  p(`code: commit ${gitState()}; build/src/bin.js compiled ${new Date(statSync(BIN).mtimeMs).toISOString()}`);
  p(`machine: nproc ${os.availableParallelism()}; ${os.cpus()[0]?.model ?? 'unknown CPU'}; node ${process.version}; ${sshV}; Linux ${os.release()}`);
  p(
    `packaged: ${packaged ? `${path.relative(ROOT, packaged)}, built ${new Date(statSync(packaged).mtimeMs).toISOString()}` : 'skipped: no binary (make it with `npm run build && scripts/pkg`, or name one with --packaged PATH)'}`,
  );
  p(`real cf CLI: ${cfVersion ?? 'not measured (--cf PATH)'}`);
  p(`load average (1, 5, 15 min) of nproc ${os.availableParallelism()}: ${load.before} before the timed runs, ${load.after} after`);
  p('foundation: HTTPS (its CA trusted through NODE_EXTRA_CA_CERTS, SSL_CERT_FILE for cf); relays on 127.0.0.1 for the API, UAA (own port) and SSH proxy,');
  p('each direction delayed RTT/2, a TCP connect costing one RTT');
  p(`relay check, connect → the SSH proxy's banner (2 RTT expected): ${rtts.map((rtt, i) => `${fmt(bannerMs[i])} ms at ${rtt} ms`).join(', ')}`);
  p();
  p(`## Time to done, ${runs} runs each per RTT, interleaved: median (min–max) ms`);
  p();
  p(`| client | ${rtts.map((r) => `RTT ${r} ms`).join(' | ')} | round trips (ms per ms of RTT) |`);
  p(`|---|${rtts.map(() => '---|').join('')}---|`);
  for (const r of results) p(`| ${r.label} | ${r.perRtt.map((s) => fmtSummary(s)).join(' | ')} | ${fmt(r.roundTrips, 1)} |`);
  p();
  /** @param {string} id */
  const result = (id) => results.find((r) => r.id === id);
  const ratio = (/** @type {string} */ a, /** @type {string} */ b, /** @type {string} */ label) => {
    const x = result(a);
    const y = result(b);
    if (x && y) p(`${label}: ${rtts.map((rtt, i) => `${fmt(x.perRtt[i].median / y.perRtt[i].median, 2)}× at ${rtt} ms`).join(', ')}`);
  };
  ratio('ssh-packaged', 'ssh-cf', 'ssh (packaged) / real cf CLI');
  ratio('ssh-unbundled', 'ssh-cf', 'ssh (unbundled) / real cf CLI');
  ratio('ssh-packaged', 'ssh-by-hand', 'ssh (packaged) / by hand');
  ratio('ssh-unbundled', 'ssh-by-hand', 'ssh (unbundled) / by hand');
  ratio('cts-packaged', 'cts-by-hand', 'connect-to-service (packaged) / by hand');
  ratio('cts-unbundled', 'cts-by-hand', 'connect-to-service (unbundled) / by hand');
  const openssh = result('ssh-by-hand:ssh');
  for (const id of ['ssh-packaged', 'ssh-unbundled', 'ssh-cf']) {
    const ours = result(id);
    if (ours && openssh) p(`round trips, ${ours.label} − OpenSSH with a code in hand: ${fmt(ours.roundTrips - openssh.roundTrips, 1)}`);
  }
  p();
  p(`## HTTP requests and TCP connections per host, one run each at RTT ${rtts[0]} ms after a warm-up`);
  p();
  p('| client | API requests | UAA requests | connections API / UAA / SSH |');
  p('|---|---|---|---|');
  for (const c of clients) {
    const t = traffic[c.id];
    const count = (/** @type {string} */ name) => t.requests.filter((r) => hostNames[r.host] === name).length;
    p(`| ${c.label} | ${count('API')} | ${count('UAA')} | ${t.connections.api} / ${t.connections.uaa} / ${t.connections.ssh} |`);
  }
  p();
  p('in order (GUIDs and query strings cut):');
  for (const c of clients) {
    const seq = traffic[c.id].requests.map((r) => `${hostNames[r.host] ?? r.host} ${r.method} ${r.path.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, 'GUID')}${r.query ? '?…' : ''}`);
    p(`- ${c.label}: ${seq.join(', ') || 'none'}`);
  }
  p();
  p(`total bench time: ${fmt(seconds)} s`);
  return out.join('\n');
}

await runBench(main);
