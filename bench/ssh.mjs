#!/usr/bin/env node
// @ts-check
// SSH benchmarks for cf-ssh-tools against OpenSSH, measured side by side in one run:
//   1a. bulk throughput through -L straight into an sshd (a private one, started here):
//       our client's code vs OpenSSH, with bare ssh2 and OpenSSH's default cipher as references
//   1b. bulk throughput through -L via the test foundation's SSH proxy: the CLI vs OpenSSH
//   2.  setup time of `ssh APP -c true`, and where ours spends it
//   3.  whether ssh2's native crypto binding is there and loads
// Everything runs on 127.0.0.1, is started here and stopped at the end (or at --deadline).
// Results are ratios against OpenSSH measured in the same run, never absolute limits: the
// script does not fail on them. See bench/README.md.
//
//   npx tsc -p . && node bench/ssh.mjs [--size 1G] [--runs 5] [--setup-runs 10] [--help]
//
// Uses only the built files in build/ and the project's node_modules.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { BIN, control, FOUNDATION_MAIN, gitState, ROOT, startFoundation } from './lib/foundation.mjs';
import { cleanup, cleanups, collect, exited, freePort, run, runBench, stopChild, track, stopAtDeadline, timedLog } from './lib/processes.mjs';
import { fmt, fmtSummary, summary } from './lib/stats.mjs';

const { keyOnlySshdConfig } = await import(pathToFileURL(path.join(ROOT, 'build/test/foundation/backends.js')).href);
const SSHD = '/usr/sbin/sshd';
const NATIVE_BINDING = path.join(ROOT, 'node_modules/ssh2/lib/protocol/crypto/build/Release/sshcrypto.node');
const CIPHER = 'aes128-gcm@openssh.com';
const APP = 'demo-app';
const GiB = 2 ** 30;
const NODELAY_PRELOAD = pathToFileURL(path.join(ROOT, 'bench/nodelay.mjs')).href;
/** Direct clients that run this script's --direct-client mode (node + ssh2). */
const DIRECT_NODE_CLIENTS = ['ours-direct', 'baseline-direct', 'ssh2-direct'];
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** @typedef {import('node:child_process').ChildProcess} ChildProcess */
/** @typedef {import('node:net').AddressInfo} AddressInfo */
/** @typedef {import('./lib/stats.mjs').Summary} Summary */
/** @typedef {{ port: number, next: () => Promise<{ bytes: number, at: bigint }>, close: () => Promise<void> }} Sink */
/** @typedef {Awaited<ReturnType<typeof startFoundation>>} Foundation */
/** @typedef {Awaited<ReturnType<typeof startPrivateSshd>>} PrivateSshd */
/**
 * What the clients need to start.
 * @typedef {object} BenchContext
 * @property {string} home
 * @property {NodeJS.ProcessEnv} cliEnv
 * @property {PrivateSshd | undefined} sshd started for the direct runs only
 * @property {string} proxyLogin
 * @property {string[]} nodeArgs
 * @property {string} [baseline] --baseline: another checkout whose build/ (and node_modules/ssh2) the baseline-direct row runs
 * @property {NodeJS.ProcessEnv} askpassEnv
 * @property {string[]} opensshProxyArgs
 * @property {string[]} opensshDirectArgs
 * @property {() => Promise<string>} code
 * @property {boolean} [directBinding] set by the direct client
 */
/** @typedef {Awaited<ReturnType<typeof throughputRun>>} ThroughputResult */
/** @typedef {{ mbps: Summary, cpuPerGiB: Summary, userPerGiB: Summary, sysPerGiB: Summary, serverCpuPerGiB: Summary[], ciphers: string[] }} Through */
/** @typedef {{ at: number, what: string, port?: number, request?: string }} TraceEvent */
/** @typedef {{ throughput: number, cpuPerGiB: number }} Ratio */
/**
 * machineFacts(), and what main adds to it (otherCpu at the end, before the report).
 * @typedef {ReturnType<typeof machineFacts> & { proxyNodelay?: boolean, otherCpu: { seconds: number, share: number } }} Facts
 */

// ---------------------------------------------------------------------------------------
// Child mode: our client's own code (dial + ssh2 Client with ALGORITHMS + openForwards)
// against the private sshd, with public key authentication instead of a one-time code.
// ---------------------------------------------------------------------------------------
/** @param {string[]} argv variant, port, username, keyFile, sinkPort, root (the checkout whose build/ and node_modules/ are used) */
async function directClient([variant, port, username, keyFile, sinkPort, root]) {
  /** @param {string} file */
  const build = (file) => import(pathToFileURL(path.join(root, 'build/src', file)).href);
  // The ssh2 that root's build/src resolves: a --baseline may carry another (unpatched) copy.
  const requireFromRoot = createRequire(path.join(root, 'build/src/ssh/client.js'));
  /** @type {typeof import('ssh2')} */
  const ssh2 = requireFromRoot('ssh2');
  const { bindingAvailable } = requireFromRoot('ssh2/lib/protocol/crypto.js');
  const client = new ssh2.Client();
  let listeningPort;
  /** @type {() => unknown} */
  let close = () => undefined;
  if (variant === 'ours') {
    // As src/ssh/client.ts connectSsh does, with a key instead of a one-time code: the same
    // dial, algorithms and keepalive; then src/ssh/forward.ts openForwards, as `ssh -L` does.
    const [{ ALGORITHMS }, { dial }, { openForwards }, { useCloudFoundryKeepalive }] = await Promise.all([
      build('ssh/client.js'),
      build('ssh/dial.js'),
      build('ssh/forward.js'),
      build('ssh/keepalive.js'),
    ]);
    const sock = await dial('127.0.0.1', Number(port), { env: {}, timeoutMs: 6000 });
    await /** @type {Promise<void>} */ (
      new Promise((resolve, reject) => {
        client.once('ready', resolve);
        client.once('error', reject);
        client.connect({
          sock,
          username,
          privateKey: readFileSync(keyFile),
          tryKeyboard: false,
          algorithms: structuredClone(ALGORITHMS),
          readyTimeout: 26_000,
          keepaliveInterval: 30_000,
          keepaliveCountMax: 3,
          hostVerifier: () => true,
        });
        useCloudFoundryKeepalive(client);
      })
    );
    const forwarding = await openForwards(client, [{ bindAddress: '127.0.0.1', localPort: 0, remoteHost: '127.0.0.1', remotePort: Number(sinkPort) }], (/** @type {string} */ m) =>
      process.stderr.write(`${m}\n`),
    );
    listeningPort = forwarding.listening[0].port;
    close = () => forwarding.close();
  } else {
    // The reference: ssh2 as its README shows it, only the cipher pinned; no code of ours.
    await /** @type {Promise<void>} */ (
      new Promise((resolve, reject) => {
        client.once('ready', resolve);
        client.once('error', reject);
        client.connect({ host: '127.0.0.1', port: Number(port), username, privateKey: readFileSync(keyFile), algorithms: { cipher: [CIPHER] } });
      })
    );
    const server = net.createServer((socket) => {
      client.forwardOut('127.0.0.1', 0, '127.0.0.1', Number(sinkPort), (err, channel) => {
        if (err) return socket.destroy();
        socket.pipe(channel).pipe(socket);
      });
    });
    await /** @type {Promise<void>} */ (new Promise((resolve) => server.listen(0, '127.0.0.1', resolve)));
    listeningPort = /** @type {AddressInfo} */ (server.address()).port;
    close = () => server.close();
  }
  const stop = () => {
    close();
    client.end();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  client.once('close', () => process.exit(1));
  process.stdout.write(`${JSON.stringify({ port: listeningPort, bindingAvailable })}\n`);
}

// ---------------------------------------------------------------------------------------
// The benchmark.
// ---------------------------------------------------------------------------------------
/** @param {string} text */
function parseSize(text) {
  const m = /^(\d+(?:\.\d+)?)([KMG]i?B?|B)?$/i.exec(text.trim());
  if (!m) throw new Error(`--size takes a number of bytes with an optional K, M or G (binary), not '${text}'`);
  const unit = (m[2] ?? '').toUpperCase()[0];
  return Math.round(Number(m[1]) * ({ K: 2 ** 10, M: 2 ** 20, G: 2 ** 30 }[unit] ?? 1));
}

/**
 * utime and stime of a process, in seconds (all of its threads).
 * @param {number} pid
 */
function cpuTimes(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) / CLK_TCK, sys: Number(fields[12]) / CLK_TCK };
}

/**
 * Read and write system calls a process has made so far (/proc/PID/io: syscr, syscw).
 * @param {number} pid
 */
function syscalls(pid) {
  const io = readFileSync(`/proc/${pid}/io`, 'utf8');
  return { reads: Number(/^syscr: (\d+)$/m.exec(io)?.[1]), writes: Number(/^syscw: (\d+)$/m.exec(io)?.[1]) };
}

/**
 * utime + stime of a process, in seconds (all of its threads).
 * @param {number} pid
 */
function cpuSeconds(pid) {
  const { user, sys } = cpuTimes(pid);
  return user + sys;
}

/** Busy CPU seconds of the whole machine so far (all CPUs), from /proc/stat. */
function machineBusySeconds() {
  const [, user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
  return (user + nice + system + irq + softirq + steal) / CLK_TCK;
}

/** CPU seconds of this process and of every child it has reaped (theirs included), from /proc/self/stat. */
function ownAndReapedSeconds() {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat
    .slice(stat.lastIndexOf(')') + 2)
    .split(' ')
    .map(Number);
  return (f[11] + f[12] + f[13] + f[14]) / CLK_TCK;
}

/**
 * CPU seconds of every live descendant of `pid` (sshd's per-connection processes).
 * @param {number} pid
 */
function descendantsCpu(pid) {
  const parents = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // Exited meanwhile.
    }
  }
  const descendants = new Set([pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const [child, parent] of parents) {
      if (descendants.has(parent) && !descendants.has(child)) {
        descendants.add(child);
        grew = true;
      }
    }
  }
  descendants.delete(pid);
  let total = 0;
  for (const d of descendants) {
    try {
      total += cpuSeconds(d);
    } catch {
      // Exited meanwhile.
    }
  }
  return total;
}

/**
 * Whether something listens on 127.0.0.1:port, from /proc/net/tcp (no connection made).
 * @param {number} port
 */
function listensOn(port) {
  const wanted = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .some((line) => {
      const cols = line.trim().split(/\s+/);
      return cols[1] === wanted && cols[3] === '0A';
    });
}

/**
 * @param {number} port
 * @param {ChildProcess} child
 * @param {() => string} stderr
 */
async function waitListening(port, child, stderr, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!listensOn(port)) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the client exited (${child.exitCode ?? child.signalCode}) before listening: ${stderr()}`);
    if (Date.now() > deadline) throw new Error(`nothing listens on ${port} after ${timeoutMs} ms: ${stderr()}`);
    await sleep(10);
  }
}

/**
 * A TCP server that counts what each connection sends until its EOF.
 * @returns {Promise<Sink>}
 */
async function startSink() {
  /** @type {((received: { bytes: number, at: bigint }) => void)[]} */
  const waiters = [];
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    let bytes = 0;
    socket.on('data', (chunk) => (bytes += chunk.length));
    socket.on('error', () => undefined);
    socket.once('end', () => {
      const at = process.hrtime.bigint();
      socket.end();
      waiters.shift()?.({ bytes, at });
    });
  });
  await /** @type {Promise<void>} */ (new Promise((resolve) => server.listen(0, '127.0.0.1', resolve)));
  return {
    port: /** @type {AddressInfo} */ (server.address()).port,
    /** Resolves when the next connection has sent everything. */
    next: () => new Promise((resolve) => waiters.push(resolve)),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        // (http.Server has closeAllConnections; this net.Server does not.)
        /** @type {import('node:net').Server & { closeAllConnections?: () => void }} */ (server).closeAllConnections?.();
      }),
  };
}

const CHUNK = randomBytes(1 << 20);

/**
 * Writes `size` bytes (CHUNK over and over) with backpressure, then EOF.
 * @param {import('node:net').Socket} socket
 * @param {number} size
 */
async function sendAndEnd(socket, size) {
  for (let left = size; left > 0;) {
    const n = Math.min(left, CHUNK.length);
    left -= n;
    if (!socket.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) await new Promise((resolve) => socket.once('drain', resolve));
  }
  socket.end();
}

/**
 * Sends `size` bytes into 127.0.0.1:port, with backpressure; resolves with bytes and seconds as the sink counted them.
 * @param {number} port
 * @param {number} size
 * @param {Sink} sink
 * @param {number} timeoutMs
 */
async function pump(port, size, sink, timeoutMs) {
  const received = sink.next();
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  socket.on('data', () => undefined);
  /** @type {Promise<never>} */
  const failed = new Promise((_, reject) => {
    socket.once('error', reject);
    setTimeout(() => reject(new Error(`transfer not done within ${timeoutMs} ms`)), timeoutMs).unref();
  });
  await Promise.race([new Promise((resolve) => socket.once('connect', resolve)), failed]);
  const started = process.hrtime.bigint();
  void sendAndEnd(socket, size);
  const { bytes, at } = await Promise.race([received, failed]);
  socket.destroy();
  if (bytes !== size) throw new Error(`the sink counted ${bytes} bytes, not ${size}`);
  return { bytes, seconds: Number(at - started) / 1e9 };
}

// --- Many connections at once through one tunnel ---------------------------------------------

/**
 * A TCP server that sends every connection back what it receives, and ends once the sender has.
 * @returns {Promise<{ port: number, close: () => Promise<void> }>}
 */
async function startEcho() {
  /** @type {Set<import('node:net').Socket>} */
  const open = new Set();
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.pipe(socket);
  });
  await /** @type {Promise<void>} */ (new Promise((resolve) => server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, resolve)));
  return {
    port: /** @type {AddressInfo} */ (server.address()).port,
    close: () =>
      new Promise((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * One connection through the tunnel to the echo server: sends `size` bytes (CHUNK over and
 * over), checks that exactly those come back, then EOF. Resolves with the ms from the start of
 * the connect to the EOF.
 * @param {number} port
 * @param {number} size
 * @param {number} timeoutMs
 * @returns {Promise<number>}
 */
function echoThrough(port, size, timeoutMs) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    const fail = (/** @type {Error} */ err) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    const timer = setTimeout(() => fail(new Error(`not echoed within ${timeoutMs} ms`)), timeoutMs);
    let received = 0;
    socket.on('data', (chunk) => {
      // Compared where it lands in CHUNK's repetition, in at most two pieces.
      for (let at = 0; at < chunk.length;) {
        const offset = (received + at) % CHUNK.length;
        const n = Math.min(chunk.length - at, CHUNK.length - offset);
        if (!chunk.subarray(at, at + n).equals(CHUNK.subarray(offset, offset + n))) return fail(new Error(`byte ${received + at} came back changed`));
        at += n;
      }
      received += chunk.length;
      if (received > size) fail(new Error(`${received} bytes came back for ${size} sent`));
    });
    socket.once('error', fail);
    socket.once('end', () => {
      if (received !== size) return fail(new Error(`EOF after ${received} of ${size} bytes`));
      clearTimeout(timer);
      socket.end();
      resolve(Number(process.hrtime.bigint() - started) / 1e6);
    });
    socket.once('connect', () => void sendAndEnd(socket, size));
  });
}

/**
 * @param {Map<string, number>} errors how many times each message was seen
 * @param {string} message
 */
function countError(errors, message, times = 1) {
  errors.set(message, (errors.get(message) ?? 0) + times);
}

/** @param {Map<string, number>} errors */
const fmtErrors = (errors) => (errors.size ? ` (${[...errors].map(([m, n]) => `${n}× ${m}`).join('; ')})` : '');

/**
 * The peak resident set of a process so far (VmHWM), in MB (10^6 bytes).
 * @param {number} pid
 */
function peakRssMB(pid) {
  const kB = Number(/^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  return (kB * 1024) / 1e6;
}

/**
 * `connections` connections at once through one fresh tunnel of `kind`, each echoing `size` bytes.
 * @param {string} kind
 * @param {BenchContext} ctx
 * @param {number} echoPort
 * @param {number} connections
 * @param {number} size
 * @param {number} timeoutMs
 */
async function concurrentRun(kind, ctx, echoPort, connections, size, timeoutMs) {
  const tunnel = await startTunnel(kind, ctx, echoPort);
  try {
    const pid = /** @type {number} */ (tunnel.child.pid);
    const idleRssMB = peakRssMB(pid);
    const started = process.hrtime.bigint();
    const settled = await Promise.allSettled(Array.from({ length: connections }, () => echoThrough(tunnel.port, size, timeoutMs)));
    const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
    const ms = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    /** @type {Map<string, number>} */
    const errors = new Map();
    for (const r of settled) if (r.status === 'rejected') countError(errors, String(r.reason?.message));
    const sorted = [...ms].sort((a, b) => a - b);
    /** @param {number} q */
    const quantile = (q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] : NaN);
    return {
      failed: connections - ms.length,
      errors,
      p50: quantile(0.5),
      p99: quantile(0.99),
      wallMs,
      idleRssMB,
      peakRssMB: peakRssMB(pid),
    };
  } catch (err) {
    throw new Error(`${kind}: ${/** @type {Error} */ (err).message} (client said: ${tunnel.stderr()})`);
  } finally {
    await stopChild(tunnel.child);
  }
}

// --- The foundation, a logged-in home, OpenSSH's askpass ---------------------------------

// --- A private sshd for the direct measurements -------------------------------------------

/** @param {string} dir */
async function startPrivateSshd(dir) {
  mkdirSync(dir, { mode: 0o700 });
  /** @param {string} name */
  const keygen = (name) => execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `bench-${name}`, '-f', path.join(dir, name)]);
  keygen('host_key');
  keygen('client_key');
  writeFileSync(path.join(dir, 'authorized_keys'), readFileSync(path.join(dir, 'client_key.pub')), { mode: 0o600 });
  const asRoot = process.getuid?.() === 0;
  if (asRoot) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const config = path.join(dir, 'sshd_config');
    writeFileSync(
      config,
      [
        ...keyOnlySshdConfig({ port, hostKey: path.join(dir, 'host_key'), pidFile: path.join(dir, 'sshd.pid'), authorizedKeys: path.join(dir, 'authorized_keys'), asRoot }),
        'PermitTTY no',
        'PrintMotd no',
        // DEBUG1 logs the negotiated cipher once per connection (and nothing per packet).
        'LogLevel DEBUG1',
        '',
      ].join('\n'),
    );
    // Its own process group, so the per-connection processes go with it at the end.
    const child = track(spawn(SSHD, ['-D', '-e', '-f', config], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] }));
    // Undefined only if the spawn failed: then -pid is NaN and process.kill throws.
    const pid = /** @type {number} */ (child.pid);
    /** @type {string[]} */
    const ciphers = [];
    /** @type {string[]} */
    const said = [];
    /** @type {boolean} */
    const ready = await new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), 10_000);
      child.once('exit', () => resolve(false));
      readline.createInterface({ input: child.stderr }).on('line', (line) => {
        said.push(line);
        if (said.length > 50) said.shift();
        if (line.startsWith('Server listening on ')) {
          clearTimeout(timer);
          resolve(true);
        }
        const m = /kex: client->server cipher: (\S+)/.exec(line);
        if (m) ciphers.push(m[1]);
      });
    });
    if (ready) {
      return {
        port,
        pid,
        username: os.userInfo().username,
        key: path.join(dir, 'client_key'),
        ciphers,
        stop: async () => {
          try {
            process.kill(-pid, 'SIGTERM');
          } catch {
            // Gone already.
          }
          await exited(child);
        },
      };
    }
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
    if (attempt === 3) throw new Error(`${SSHD} did not start: ${said.join(' | ')}`);
  }
}

// --- Clients --------------------------------------------------------------------------------

/**
 * A started tunnel: a client process listening on `port`, forwarding to the sink.
 * @param {string} kind
 * @param {BenchContext} ctx
 * @param {number} sinkPort
 */
async function startTunnel(kind, ctx, sinkPort) {
  const local = await freePort();
  /** @type {ChildProcess} */
  let child;
  if (kind === 'ours-proxy') {
    child = spawn(process.execPath, [...ctx.nodeArgs, BIN, 'ssh', APP, '-N', '-L', `127.0.0.1:${local}:127.0.0.1:${sinkPort}`], {
      env: ctx.cliEnv,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  } else if (kind === 'openssh-proxy') {
    const code = await ctx.code();
    child = spawn('ssh', [...ctx.opensshProxyArgs, '-N', '-L', `127.0.0.1:${local}:127.0.0.1:${sinkPort}`, ctx.proxyLogin], {
      env: { ...ctx.askpassEnv, CF_BENCH_CODE: code },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  } else if (DIRECT_NODE_CLIENTS.includes(kind)) {
    const variant = kind === 'ssh2-direct' ? 'ssh2' : 'ours';
    const root = kind === 'baseline-direct' ? /** @type {string} */ (ctx.baseline) : ROOT;
    const sshd = /** @type {PrivateSshd} */ (ctx.sshd); // the direct runs start it
    child = spawn(
      process.execPath,
      [...ctx.nodeArgs, fileURLToPath(import.meta.url), '--direct-client', variant, String(sshd.port), sshd.username, sshd.key, String(sinkPort), root],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
  } else if (kind === 'openssh-direct' || kind === 'openssh-default-direct') {
    const args = kind === 'openssh-direct' ? ctx.opensshDirectArgs : ctx.opensshDirectArgs.filter((a, i, all) => a !== '-c' && all[i - 1] !== '-c');
    child = spawn('ssh', [...args, '-N', '-L', `127.0.0.1:${local}:127.0.0.1:${sinkPort}`, `${/** @type {PrivateSshd} */ (ctx.sshd).username}@127.0.0.1`], {
      env: { PATH: process.env.PATH, HOME: ctx.home },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  } else {
    throw new Error(kind);
  }
  track(child);
  const stderr = collect(child.stderr);
  let port = local;
  if (DIRECT_NODE_CLIENTS.includes(kind)) {
    /** @type {string} */
    const line = await new Promise((resolve, reject) => {
      readline.createInterface({ input: /** @type {import('node:stream').Readable} */ (child.stdout) }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`the direct client exited with ${code}: ${stderr()}`)));
      setTimeout(() => reject(new Error(`the direct client did not start: ${stderr()}`)), 20_000).unref();
    });
    const info = JSON.parse(line);
    port = info.port;
    ctx.directBinding = info.bindingAvailable;
  }
  await waitListening(port, child, stderr);
  return { child, port, stderr };
}

/**
 * @param {string} kind
 * @param {BenchContext} ctx
 * @param {Sink} sink
 * @param {number} size
 * @param {number} timeoutMs
 * @param {() => number[]} serverCpu
 */
async function throughputRun(kind, ctx, sink, size, timeoutMs, serverCpu) {
  const logged = ctx.sshd?.ciphers.length ?? 0;
  const tunnel = await startTunnel(kind, ctx, sink.port);
  try {
    const pid = /** @type {number} */ (tunnel.child.pid);
    const cpu0 = cpuTimes(pid);
    const calls0 = syscalls(pid);
    const server0 = serverCpu();
    const { bytes, seconds } = await pump(tunnel.port, size, sink, timeoutMs);
    const cpu1 = cpuTimes(pid);
    const calls1 = syscalls(pid);
    const user = cpu1.user - cpu0.user;
    const sys = cpu1.sys - cpu0.sys;
    const server = serverCpu().map((v, i) => v - server0[i]);
    // Direct runs: the cipher the private sshd logged for this connection.
    const cipher = kind.endsWith('direct') ? /** @type {PrivateSshd} */ (ctx.sshd).ciphers.slice(logged).join(',') : undefined;
    return {
      mbps: bytes / seconds / 1e6,
      seconds,
      cpuPerGiB: ((user + sys) * GiB) / bytes,
      userPerGiB: (user * GiB) / bytes,
      sysPerGiB: (sys * GiB) / bytes,
      readsPerMiB: ((calls1.reads - calls0.reads) * 2 ** 20) / bytes,
      writesPerMiB: ((calls1.writes - calls0.writes) * 2 ** 20) / bytes,
      serverCpuPerGiB: server.map((s) => (s * GiB) / bytes),
      cipher,
    };
  } catch (err) {
    throw new Error(`${kind}: ${/** @type {Error} */ (err).message} (client said: ${tunnel.stderr()})`);
  } finally {
    await stopChild(tunnel.child, kind === 'ours-proxy' ? 'SIGINT' : 'SIGTERM');
  }
}

// --- Statistics and output --------------------------------------------------------------------

function machineFacts() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? 'unknown';
  const flags = /^flags\s*:\s*(.*)$/m.exec(cpuinfo)?.[1].split(' ') ?? [];
  // ssh -V writes to stderr.
  const sshV = spawnSync('ssh', ['-V'], { encoding: 'utf8' }).stderr;
  return {
    nproc: execFileSync('nproc').toString().trim(),
    cpuModel: model,
    aesNi: flags.includes('aes') && flags.includes('pclmulqdq'),
    node: process.version,
    openssh: sshV.trim(),
    kernel: os.release(),
    load: os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
    git: gitState(),
  };
}

function nativeBinding() {
  const exists = existsSync(NATIVE_BINDING);
  let loads = false;
  let error = '';
  const req = createRequire(path.join(ROOT, 'package.json'));
  try {
    const binding = req(NATIVE_BINDING);
    loads = typeof binding.AESGCMCipher === 'function';
  } catch (err) {
    error = /** @type {Error} */ (err).message;
  }
  const { bindingAvailable } = req('ssh2/lib/protocol/crypto.js');
  return { path: path.relative(ROOT, NATIVE_BINDING), exists, loads, sshCryptoBindingAvailable: bindingAvailable, error };
}

// --- main ---------------------------------------------------------------------------------------

const USAGE = `usage: node bench/ssh.mjs [options]
  --size BYTES        bytes per throughput run, K/M/G binary suffixes (default 1G)
  --runs N            throughput runs per client and path (default 5)
  --setup-runs N      setup-time runs per client (default 10)
  --only LIST         any of setup,direct,proxy,concurrent (default setup,direct,proxy:
                      concurrent takes about 4 minutes more)
  --connections N     concurrent: connections at once through one tunnel (default 500)
  --echo-size BYTES   concurrent: bytes each connection echoes; also run with twice that (default 1M)
  --clients LIST      only these clients (default all): ours-direct, openssh-direct,
                      ssh2-direct, openssh-default-direct, baseline-direct, ours-proxy, openssh-proxy
  --baseline DIR      add baseline-direct: our direct client from another checkout's build/ (and
                      its node_modules/ssh2, if it has one), interleaved with this one's
  --profile DIR       write V8 CPU profiles of our client processes (node --cpu-prof) to DIR
  --proxy-nodelay     TCP_NODELAY on the foundation's sockets, as Diego's proxy (Go) has them
  --json FILE         also write the raw results as JSON
  --deadline SECONDS  stop everything and exit 2 after this long (default 600)`;

async function main() {
  const { values } = parseArgs({
    options: {
      size: { type: 'string', default: '1G' },
      runs: { type: 'string', default: '5' },
      'setup-runs': { type: 'string', default: '10' },
      only: { type: 'string', default: 'setup,direct,proxy' },
      connections: { type: 'string', default: '500' },
      'echo-size': { type: 'string', default: '1M' },
      profile: { type: 'string' },
      clients: { type: 'string' },
      baseline: { type: 'string' },
      'proxy-nodelay': { type: 'boolean', default: false },
      json: { type: 'string' },
      deadline: { type: 'string', default: '600' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const size = parseSize(values.size);
  const runs = Math.max(1, Number(values.runs) || 1);
  const setupRuns = Math.max(1, Number(values['setup-runs']) || 1);
  const want = new Set(values.only.split(',').map((w) => w.trim()));
  for (const w of want) if (!['setup', 'direct', 'proxy', 'concurrent'].includes(w)) throw new Error(`--only takes setup, direct, proxy and concurrent, not '${w}'\n${USAGE}`);
  const connections = Math.max(1, Number(values.connections) || 1);
  const echoSize = parseSize(values['echo-size']);
  for (const file of [BIN, FOUNDATION_MAIN]) if (!existsSync(file)) throw new Error(`${path.relative(ROOT, file)} is missing: run \`npx tsc -p .\` first`);
  if (!existsSync(SSHD)) throw new Error(`${SSHD} is missing: the benchmark compares against OpenSSH (apt-get install openssh-server openssh-client)`);

  // Bounded in time: whatever hangs, everything started here is stopped.
  const doneWithDeadline = stopAtDeadline(Number(values.deadline));

  const startedAt = Date.now();
  const busyAtStart = machineBusySeconds();
  const oursAtStart = ownAndReapedSeconds();
  const facts = /** @type {Facts} */ (machineFacts());
  facts.proxyNodelay = values['proxy-nodelay'];
  const binding = nativeBinding();
  const log = timedLog();
  log(`machine: ${facts.nproc} CPUs, ${facts.cpuModel}, node ${facts.node}, ${facts.openssh}, load ${facts.load}`);
  log(`ssh2 native binding: exists=${binding.exists} loads=${binding.loads} bindingAvailable=${binding.sshCryptoBindingAvailable}`);

  const work = mkdtempSync(path.join(os.tmpdir(), 'cf-ssh-tools-bench-'));
  cleanups.push(() => rmSync(work, { recursive: true, force: true }));
  const home = path.join(work, 'home');
  mkdirSync(home, { mode: 0o700 });

  const foundation = await startFoundation({ nodeArgs: values['proxy-nodelay'] ? ['--import', NODELAY_PRELOAD] : [] });
  cleanups.push(() => stopChild(foundation.child));
  log(`foundation: ${foundation.api}, SSH proxy on 127.0.0.1:${foundation.sshPort}`);

  const cliEnv = { PATH: process.env.PATH, HOME: home, CF_HOME: home, CF_SSH_TOOLS_NO_KEYCHAIN: 'true' };
  const login = await run(process.execPath, [BIN, 'login', '-a', foundation.api, '-u', 'developer', '-p', 'developer-pass', '-o', 'demo-org', '-s', 'demo-space'], { env: cliEnv });
  if (login.code !== 0) throw new Error(`login failed: ${login.stdout}${login.stderr}`);
  // The ssh line names the port and cf:<process-guid>/0; its code is not used.
  const sshCode = await run(process.execPath, [BIN, 'ssh-code', '--openssh', APP], { env: cliEnv });
  const sshLine = /^ssh -p (\d+) (cf:[0-9a-f-]{36}\/0)@127\.0\.0\.1$/m.exec(sshCode.stdout);
  if (!sshLine) throw new Error(`ssh-code --openssh: ${sshCode.stdout}${sshCode.stderr}`);
  const proxyLogin = `${sshLine[2]}@127.0.0.1`;

  const askpass = path.join(work, 'askpass');
  writeFileSync(askpass, '#!/bin/sh\nprintf "%s\\n" "$CF_BENCH_CODE"\n');
  chmodSync(askpass, 0o700);
  const common = ['-F', '/dev/null', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', '-c', CIPHER];
  /** @type {PrivateSshd | undefined} */
  let sshd;
  if (want.has('direct') || want.has('concurrent')) {
    sshd = await startPrivateSshd(path.join(work, 'sshd'));
    cleanups.push(() => /** @type {PrivateSshd} */ (sshd).stop());
    log(`private sshd: 127.0.0.1:${sshd.port} (pid ${sshd.pid}), user ${sshd.username}`);
  }
  if (values.profile) mkdirSync(values.profile, { recursive: true });

  /** @type {BenchContext} */
  const ctx = {
    home,
    cliEnv,
    sshd,
    proxyLogin,
    baseline: values.baseline && path.resolve(values.baseline),
    nodeArgs: values.profile ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(values.profile)}`] : [],
    askpassEnv: { PATH: process.env.PATH, HOME: home, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force' },
    opensshProxyArgs: [...common, '-p', sshLine[1], '-o', 'PubkeyAuthentication=no', '-o', 'PreferredAuthentications=password'],
    opensshDirectArgs: sshd ? [...common, '-p', String(sshd.port), '-i', sshd.key, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes'] : [],
    code: async () => {
      const r = await run(process.execPath, [BIN, 'ssh-code'], { env: cliEnv });
      if (r.code !== 0) throw new Error(`ssh-code: ${r.stderr}`);
      return r.stdout.trim();
    },
  };

  const setup = want.has('setup') ? await setupBench(ctx, foundation, setupRuns, work, log) : undefined;
  /** @type {Record<string, Through>} */
  const through = {};
  /** @type {Summary | undefined} */
  let plain;
  if (want.has('direct') || want.has('proxy')) {
    const sink = await startSink();
    cleanups.push(() => sink.close());
    const timeoutMs = 30_000 + (size / 5e6) * 1000; // 5 MB/s at worst
    // The harness's own ceiling: source → sink over loopback, no tunnel.
    const rates = [];
    for (let i = 0; i < runs; i++) {
      const { bytes, seconds } = await pump(sink.port, size, sink, timeoutMs);
      rates.push(bytes / seconds / 1e6);
    }
    plain = summary(rates);
    log(`no tunnel (source → sink): ${fmtSummary(plain)} MB/s`);
    /** @type {[string, string[], () => number[]][]} */
    const paths = [
      [
        'direct',
        ['ours-direct', 'openssh-direct', ...(ctx.baseline ? ['baseline-direct'] : []), 'ssh2-direct', 'openssh-default-direct'],
        () => [descendantsCpu(/** @type {PrivateSshd} */ (sshd).pid)],
      ],
      ['proxy', ['ours-proxy', 'openssh-proxy'], () => [cpuSeconds(/** @type {number} */ (foundation.child.pid)), descendantsCpu(/** @type {number} */ (foundation.child.pid))]],
    ];
    for (const [name, allKinds, serverCpu] of paths) {
      const kinds = allKinds.filter((k) => !values.clients || values.clients.split(',').includes(k));
      if (!want.has(name) || kinds.length === 0) continue;
      /** @type {Record<string, ThroughputResult[]>} */
      const results = Object.fromEntries(kinds.map((k) => [k, []]));
      // Interleaved (ours, OpenSSH, ours, ...) so drift on the machine hits both alike.
      for (let i = 0; i < runs; i++) {
        for (const kind of kinds) {
          const r = await throughputRun(kind, ctx, sink, size, timeoutMs, serverCpu);
          results[kind].push(r);
          log(
            `${kind.padEnd(15)} run ${i + 1}/${runs}: ${fmt(r.mbps)} MB/s, client ${fmt(r.cpuPerGiB, 2)} CPU s/GiB (user ${fmt(r.userPerGiB, 2)}, sys ${fmt(r.sysPerGiB, 2)}), ${fmt(r.readsPerMiB, 1)} reads and ${fmt(r.writesPerMiB, 1)} writes per MiB`,
          );
        }
      }
      for (const [kind, rs] of Object.entries(results)) {
        through[kind] = {
          mbps: summary(rs.map((r) => r.mbps)),
          cpuPerGiB: summary(rs.map((r) => r.cpuPerGiB)),
          userPerGiB: summary(rs.map((r) => r.userPerGiB)),
          sysPerGiB: summary(rs.map((r) => r.sysPerGiB)),
          serverCpuPerGiB: rs[0].serverCpuPerGiB.map((_, i) => summary(rs.map((r) => r.serverCpuPerGiB[i]))),
          ciphers: [...new Set(rs.flatMap((r) => r.cipher?.split(',') ?? []).filter(Boolean))],
        };
      }
    }
  }
  const concurrent = want.has('concurrent') ? await concurrentBench(ctx, connections, echoSize, runs, values.clients, log) : undefined;
  doneWithDeadline();
  await cleanup();
  // Everything started here is reaped now, so what else ran on the machine meanwhile shows.
  const seconds = (Date.now() - startedAt) / 1000;
  const cpus = os.availableParallelism();
  const others = machineBusySeconds() - busyAtStart - (ownAndReapedSeconds() - oursAtStart);
  facts.otherCpu = { seconds: Math.max(0, others), share: Math.max(0, others) / (seconds * cpus) };
  const report = formatReport({ facts, binding, ctx, sshd, size, runs, setupRuns, plain, through, setup, concurrent, seconds });
  console.log(report.text);
  if (values.json) {
    writeFileSync(
      values.json,
      `${JSON.stringify({ facts, binding, size, runs, setupRuns, plain, through, setup, concurrent, ratios: report.ratios }, (_, v) => (v instanceof Map ? Object.fromEntries(v) : v), 2)}\n`,
    );
  }
}

/**
 * Many connections at once through one tunnel, ours and OpenSSH's (and --baseline's), each echoing `echoSize` and
 * then twice that (interleaved), straight into the private sshd.
 * @param {BenchContext} ctx
 * @param {number} connections
 * @param {number} echoSize
 * @param {number} runs
 * @param {string | undefined} clients --clients
 * @param {(line: string) => void} log
 */
async function concurrentBench(ctx, connections, echoSize, runs, clients, log) {
  const echo = await startEcho();
  cleanups.push(() => echo.close());
  const kinds = ['ours-direct', 'openssh-direct', ...(ctx.baseline ? ['baseline-direct'] : [])].filter((k) => !clients || clients.split(',').includes(k));
  const sizes = [echoSize, 2 * echoSize];
  /** @type {Record<string, Awaited<ReturnType<typeof concurrentRun>>[]>} */
  const results = {};
  const timeoutMs = 120_000;
  for (let i = 0; i < runs; i++) {
    for (const size of sizes) {
      for (const kind of kinds) {
        const r = await concurrentRun(kind, ctx, echo.port, connections, size, timeoutMs);
        (results[`${kind} ${size}`] ??= []).push(r);
        log(
          `${kind.padEnd(15)} ${connections} × ${size} bytes, run ${i + 1}/${runs}: ${r.failed} failed${fmtErrors(r.errors)}, p50 ${fmt(r.p50)} ms, p99 ${fmt(r.p99)} ms, all in ${fmt(r.wallMs)} ms, peak RSS ${fmt(r.peakRssMB)} MB`,
        );
      }
    }
  }
  await echo.close();
  return {
    connections,
    sizes,
    rows: Object.entries(results).map(([key, rs]) => {
      const [kind, size] = key.split(' ');
      return {
        kind,
        size: Number(size),
        failed: rs.reduce((sum, r) => sum + r.failed, 0),
        errors: rs.reduce((all, r) => {
          for (const [message, n] of r.errors) countError(all, message, n);
          return all;
        }, /** @type {Map<string, number>} */ (new Map())),
        p50: summary(rs.map((r) => r.p50)),
        p99: summary(rs.map((r) => r.p99)),
        wallMs: summary(rs.map((r) => r.wallMs)),
        idleRssMB: summary(rs.map((r) => r.idleRssMB)),
        peakRssMB: summary(rs.map((r) => r.peakRssMB)),
      };
    }),
  };
}

/**
 * Setup time: ours vs OpenSSH (code fetched beforehand), interleaved; then where ours spends it.
 * @param {BenchContext} ctx
 * @param {Foundation} foundation
 * @param {number} setupRuns
 * @param {string} work
 * @param {(line: string) => void} log
 */
async function setupBench(ctx, foundation, setupRuns, work, log) {
  const { cliEnv, proxyLogin } = ctx;
  /**
   * @param {string[]} [nodeArgs]
   * @param {NodeJS.ProcessEnv} [env]
   */
  const runOurs = async (nodeArgs = [], env = {}) => {
    const r = await run(process.execPath, [...nodeArgs, BIN, 'ssh', APP, '-c', 'true'], { env: { ...cliEnv, ...env } });
    if (r.code !== 0) throw new Error(`cf-ssh-tools ssh -c true exited ${r.code}: ${r.stderr}`);
    return r.ms;
  };
  const runOpenssh = async () => {
    const fetched = await run(process.execPath, [BIN, 'ssh-code'], { env: cliEnv });
    if (fetched.code !== 0) throw new Error(`ssh-code: ${fetched.stderr}`);
    const r = await run('ssh', [...ctx.opensshProxyArgs, '-T', proxyLogin, 'true'], { env: { ...ctx.askpassEnv, CF_BENCH_CODE: fetched.stdout.trim() } });
    if (r.code !== 0) throw new Error(`ssh ... true exited ${r.code}: ${r.stderr}`);
    return { ssh: r.ms, code: fetched.ms };
  };
  // Warm-up: the first connection starts the instance's sshd behind the proxy.
  await runOurs();
  await runOpenssh();
  await control(foundation.api, 'DELETE', '/foundation/requests');
  await runOurs();
  const apiCalls = (await control(foundation.api, 'GET', '/foundation/requests')).map(
    (/** @type {{ method: string, path: string, query: string }} */ r) => `${r.method} ${r.path}${r.query}`,
  );
  log(`setup: ${setupRuns} runs each, interleaved`);
  /** @type {number[]} */
  const ours = [];
  /** @type {number[]} */
  const oursNodelay = [];
  /** @type {number[]} */
  const openssh = [];
  /** @type {number[]} */
  const codeFetch = [];
  /** @type {number[]} */
  const version = [];
  /** @type {number[]} */
  const bareNode = [];
  for (let i = 0; i < setupRuns; i++) {
    ours.push(await runOurs());
    oursNodelay.push(await runOurs(['--import', NODELAY_PRELOAD]));
    const o = await runOpenssh();
    openssh.push(o.ssh);
    codeFetch.push(o.code);
    version.push((await run(process.execPath, [BIN, '--version'], { env: cliEnv })).ms);
    bareNode.push((await run(process.execPath, ['-e', '0'], { env: cliEnv })).ms);
  }
  log(`setup: ours ${fmtSummary(summary(ours))} ms, OpenSSH ${fmtSummary(summary(openssh))} ms`);

  // Where ours spends it: a few more runs with bench/setup-trace.mjs preloaded.
  // [label, from, to]: consecutive steps, so they add up to the whole.
  /** @type {[string, string, string][]} */
  const STEPS = [
    ['process start → node up (preload runs)', 'start', 'preload'],
    ['node up → first API request: loading modules, config, argument parsing', 'preload', 'first-http'],
    ['API requests, one after another', 'first-http', 'last-http-done'],
    ['last API answer → TCP connect to the SSH proxy', 'last-http-done', 'ssh-tcp'],
    ['SSH version exchange and key exchange', 'ssh-tcp', 'ssh-handshake'],
    ['authentication (the proxy redeems the code, logs in to the backend)', 'ssh-handshake', 'ssh-ready'],
    ['ready → exec sent', 'ssh-ready', 'ssh-exec'],
    ['exec → session channel open (the proxy opens the backend session)', 'ssh-exec', 'ssh-channel-open'],
    ['channel open → remote exit status (the remote runs `true`)', 'ssh-channel-open', 'ssh-remote-exit'],
    ['remote exit status → channel closed', 'ssh-remote-exit', 'ssh-channel-close'],
    ['channel closed → process exit', 'ssh-channel-close', 'exit'],
    ['process exit → reaped by the bench', 'exit', 'reaped'],
  ];
  /** @type {{ label: string, ms: number[] }[]} */
  const phases = STEPS.map(([label]) => ({ label, ms: [] }));
  /** @type {{ label: string, ms: number[] }[]} */
  const phasesNodelay = STEPS.map(([label]) => ({ label, ms: [] }));
  /** @type {{ request: string, ms: number[] }[]} */
  const perRequest = [];
  const traceFile = path.join(work, 'trace.json');
  const preload = pathToFileURL(path.join(ROOT, 'bench/setup-trace.mjs')).href;
  /** @type {number[]} */
  const traced = [];
  /** @type {number[]} */
  const tracedNodelay = [];
  // Alternately as is and with TCP_NODELAY on its sockets (bench/nodelay.mjs).
  for (let i = 0; i < 2 * Math.min(5, setupRuns); i++) {
    const nodelay = i % 2 === 1;
    const wall = await runOurs(['--import', preload, ...(nodelay ? ['--import', NODELAY_PRELOAD] : [])], { CF_BENCH_TRACE: traceFile });
    (nodelay ? tracedNodelay : traced).push(wall);
    /** @type {TraceEvent[]} */
    const events = JSON.parse(readFileSync(traceFile, 'utf8'));
    /** @param {string} what */
    const first = (what) => events.find((e) => e.what === what)?.at;
    const starts = /** @type {(TraceEvent & { request: string })[]} */ (events.filter((e) => e.what === 'http-start'));
    const dones = events.filter((e) => e.what === 'http-done');
    /** @type {Record<string, number | undefined>} */
    const points = {
      start: 0,
      preload: first('preload'),
      'first-http': starts[0]?.at,
      'last-http-done': dones.at(-1)?.at,
      'ssh-tcp': events.find((e) => e.what === 'tcp-connect' && e.port === foundation.sshPort)?.at,
      'ssh-handshake': first('ssh-handshake'),
      'ssh-ready': first('ssh-ready'),
      'ssh-exec': first('ssh-exec'),
      'ssh-channel-open': first('ssh-channel-open'),
      'ssh-remote-exit': first('ssh-remote-exit'),
      'ssh-channel-close': first('ssh-channel-close'),
      exit: first('exit'),
      reaped: wall,
    };
    // A step whose events are missing (undefined) takes NaN ms.
    STEPS.forEach(([, from, to], j) => (nodelay ? phasesNodelay : phases)[j].ms.push(Number(points[to]) - Number(points[from])));
    if (nodelay) continue;
    starts.forEach((s, j) => {
      perRequest[j] ??= { request: s.request.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, 'GUID').replace(/\?.*$/, '?…'), ms: [] };
      perRequest[j].ms.push(dones[j].at - s.at);
    });
  }
  // What loading costs before the first request: one run lists what the CLI imports
  // (bench/imports-probe.mjs), then separate node processes import the same, in the same
  // order, timing each package, then our own modules, then the manifest parse at each start.
  const importsFile = path.join(work, 'imports.json');
  await runOurs(['--import', pathToFileURL(path.join(ROOT, 'bench/imports-probe.mjs')).href], { CF_BENCH_IMPORTS: importsFile });
  /** @type {{ packages: string[], own: string[] }} */
  const imports = JSON.parse(readFileSync(importsFile, 'utf8'));
  // bin.js is the entry point: importing it would run the CLI.
  imports.own = imports.own.filter((url) => !url.endsWith('/build/src/bin.js'));
  const manifestModule = imports.own.find((url) => url.endsWith('/build/src/manifest.js'));
  const script = `const steps = []; let last = performance.now();
const step = (name) => { const now = performance.now(); steps.push([name, now - last]); last = now; };
for (const m of ${JSON.stringify(imports.packages)}) { await import(m); step(m); }
for (const m of ${JSON.stringify(imports.own)}) await import(m);
step('our own modules (build/src, ${imports.own.length} files)');
${
  manifestModule
    ? `(await import(${JSON.stringify(manifestModule)})).manifest?.();
step('manifest(): read + parse plugin-manifest.yml');`
    : ''
}
console.log(JSON.stringify(steps));`;
  /** @type {{ name: string, ms: number[] }[]} */
  const loadSteps = [];
  for (let i = 0; i < setupRuns; i++) {
    const r = await run(process.execPath, ['--input-type=module', '-e', script], { env: cliEnv, cwd: ROOT });
    if (r.code !== 0) throw new Error(`module load probe: ${r.stderr}`);
    /** @type {[string, number][]} */ (JSON.parse(r.stdout)).forEach(([name, ms], j) => (loadSteps[j] ??= { name, ms: [] }).ms.push(ms));
  }
  return {
    moduleLoad: loadSteps.map((s) => ({ name: s.name, ms: summary(s.ms) })),
    ours: summary(ours),
    oursNodelay: summary(oursNodelay),
    openssh: summary(openssh),
    codeFetch: summary(codeFetch),
    opensshPlusCodeFetch: summary(openssh.map((v, i) => v + codeFetch[i])),
    version: summary(version),
    bareNode: summary(bareNode),
    apiCalls,
    traced: summary(traced),
    tracedNodelay: summary(tracedNodelay),
    phases: phases.map((ph, j) => ({ label: ph.label, ms: summary(ph.ms), nodelay: summary(phasesNodelay[j].ms) })),
    perRequest: perRequest.map((r) => ({ request: r.request, ms: summary(r.ms) })),
  };
}

/**
 * @param {object} report
 * @param {Facts} report.facts
 * @param {ReturnType<typeof nativeBinding>} report.binding
 * @param {BenchContext} report.ctx
 * @param {PrivateSshd | undefined} report.sshd
 * @param {number} report.size
 * @param {number} report.runs
 * @param {number} report.setupRuns
 * @param {Summary | undefined} report.plain set when there are throughput results
 * @param {Record<string, Through>} report.through
 * @param {Awaited<ReturnType<typeof setupBench>> | undefined} report.setup
 * @param {Awaited<ReturnType<typeof concurrentBench>> | undefined} report.concurrent
 * @param {number} report.seconds
 */
function formatReport({ facts, binding, ctx, size, runs, setupRuns, plain, through, setup, concurrent, seconds }) {
  /** @type {string[]} */
  const out = [];
  const p = (line = '') => out.push(line);
  /** @type {{ direct?: Ratio, proxy?: Ratio, directVsBareSsh2?: Ratio, directVsBaseline?: Ratio, directVsOpensshDefaultCipher?: Ratio, setup?: { differenceMs: number, ratio: number }, concurrent?: { failed: number, peakRssMB: number, peakRssGrowth: number } }} */
  const ratios = {};
  p(`# cf-ssh-tools ssh benchmark, ${new Date().toISOString()}`);
  p();
  p(`command: node bench/ssh.mjs ${process.argv.slice(2).join(' ')}`.trimEnd());
  p(`code: commit ${facts.git}; build/src/bin.js compiled ${new Date(statSync(BIN).mtimeMs).toISOString()}`);
  if (facts.proxyNodelay) p("foundation: TCP_NODELAY on its sockets (--proxy-nodelay, as Diego's proxy in Go has them)");
  p(`machine: nproc ${facts.nproc}; ${facts.cpuModel}${facts.aesNi ? ' (AES-NI, PCLMULQDQ)' : ''}; node ${facts.node}; ${facts.openssh}; Linux ${facts.kernel}`);
  p(
    `load average (1, 5, 15 min) before the run: ${facts.load}; CPU used by processes not started by the bench during the run: ${fmt(facts.otherCpu.seconds, 1)} s (${fmt(100 * facts.otherCpu.share)}% of ${facts.nproc} CPUs over ${fmt(seconds)} s)`,
  );
  p(
    `ssh2 native crypto binding: ${binding.path} exists=${binding.exists}, loads=${binding.loads}, ssh2 bindingAvailable=${binding.sshCryptoBindingAvailable}${ctx.directBinding === undefined ? '' : ` (in the direct client process: ${ctx.directBinding})`}${binding.error ? `, error: ${binding.error}` : ''}`,
  );
  if (Object.keys(through).length) {
    p(`cipher: ${CIPHER} for both clients (OpenSSH -c; ours offers it first, as does the proxy); one reference row lets OpenSSH pick its default`);
    p();
    p(`## 1. Throughput through -L: ${size} bytes (${+(size / GiB).toFixed(3)} GiB) per run, ${runs} runs each, median (min–max), 1 MB = 10^6 bytes`);
    p();
    p('| path | client | MB/s | client CPU s/GiB | of which user / sys | server side CPU s/GiB | cipher (as sshd logged it) |');
    p('|---|---|---|---|---|---|---|');
    p(`| none: harness ceiling | source → sink on loopback | ${fmtSummary(/** @type {Summary} */ (plain))} | – | – | – | – |`);
    const rows = [
      ['ours-direct', 'direct to sshd', 'ours: ssh2 + openForwards'],
      ['baseline-direct', 'direct to sshd', `baseline: ours as built in ${ctx.baseline}`],
      ['openssh-direct', 'direct to sshd', 'OpenSSH ssh -N -L'],
      ['ssh2-direct', 'direct to sshd', 'reference: bare ssh2 forwardOut + pipe'],
      ['openssh-default-direct', 'direct to sshd', 'reference: OpenSSH ssh -N -L, its default cipher'],
      ['ours-proxy', 'via the foundation proxy', 'cf-ssh-tools ssh -N -L'],
      ['openssh-proxy', 'via the foundation proxy', 'OpenSSH ssh -N -L'],
    ];
    for (const [kind, where, client] of rows) {
      const t = through[kind];
      if (!t) continue;
      const server = kind.endsWith('direct')
        ? `sshd ${fmtSummary(t.serverCpuPerGiB[0], 2)}`
        : `proxy ${fmtSummary(t.serverCpuPerGiB[0], 2)}; backend sshd ${fmtSummary(t.serverCpuPerGiB[1], 2)}`;
      p(
        `| ${where} | ${client} | ${fmtSummary(t.mbps)} | ${fmtSummary(t.cpuPerGiB, 2)} | ${fmt(t.userPerGiB.median, 2)} / ${fmt(t.sysPerGiB.median, 2)} | ${server} | ${t.ciphers.join(', ') || `${CIPHER} (offered)`} |`,
      );
    }
    p();
    for (const [name, label] of /** @type {['direct' | 'proxy', string][]} */ ([
      ['direct', 'direct to sshd'],
      ['proxy', 'via the proxy'],
    ])) {
      const ours = through[`ours-${name}`];
      const theirs = through[`openssh-${name}`];
      if (!ours || !theirs) continue;
      ratios[name] = { throughput: ours.mbps.median / theirs.mbps.median, cpuPerGiB: ours.cpuPerGiB.median / theirs.cpuPerGiB.median };
      p(`ours/OpenSSH ${label}: throughput ${fmt(ratios[name].throughput, 2)}×, client CPU per GiB ${fmt(ratios[name].cpuPerGiB, 2)}×`);
    }
    /**
     * @param {'directVsBareSsh2' | 'directVsBaseline' | 'directVsOpensshDefaultCipher'} key
     * @param {string} other
     * @param {string} label
     */
    const extra = (key, other, label) => {
      const ours = through['ours-direct'];
      const ref = through[other];
      if (!ours || !ref) return;
      ratios[key] = { throughput: ours.mbps.median / ref.mbps.median, cpuPerGiB: ours.cpuPerGiB.median / ref.cpuPerGiB.median };
      p(`ours/${label}: throughput ${fmt(ratios[key].throughput, 2)}×, client CPU per GiB ${fmt(ratios[key].cpuPerGiB, 2)}×`);
    };
    extra('directVsBareSsh2', 'ssh2-direct', 'bare ssh2 direct to sshd (what our code adds to ssh2)');
    extra('directVsBaseline', 'baseline-direct', `the baseline (${ctx.baseline}) direct to sshd`);
    extra('directVsOpensshDefaultCipher', 'openssh-default-direct', 'OpenSSH with its default cipher, direct to sshd');
    if (ratios.direct) {
      // Issue 12: on the same cipher, at least OpenSSH's throughput for at most 1.2× its CPU.
      const { throughput, cpuPerGiB } = ratios.direct;
      p(`target, throughput ≥ OpenSSH's directly against sshd: ${throughput >= 1 ? 'met' : 'NOT met'} (${fmt(throughput, 2)}×)`);
      p(`target, client CPU per GiB ≤ 1.2× OpenSSH's directly against sshd: ${cpuPerGiB <= 1.2 ? 'met' : 'NOT met'} (${fmt(cpuPerGiB, 2)}×)`);
    }
    p();
  }
  if (setup) {
    const diff = setup.ours.median - setup.openssh.median;
    ratios.setup = { differenceMs: diff, ratio: setup.ours.median / setup.openssh.median };
    p(`## 2. Setup time: command start → remote \`true\` exited, ${setupRuns} runs each, median (min–max) ms`);
    p();
    p('| what | ms |');
    p('|---|---|');
    p(`| cf-ssh-tools ssh ${APP} -c true: node start, API calls, one-time code, SSH | ${fmtSummary(setup.ours)} |`);
    p(`| OpenSSH ssh -p PROXY cf:GUID/0@127.0.0.1 true, code fetched beforehand (excluded) | ${fmtSummary(setup.openssh)} |`);
    p(`| cf-ssh-tools ssh-code: the code fetch OpenSSH was spared | ${fmtSummary(setup.codeFetch)} |`);
    p(`| OpenSSH + its code fetch, both included | ${fmtSummary(setup.opensshPlusCodeFetch)} |`);
    p(`| experiment: cf-ssh-tools ssh as above, TCP_NODELAY set on its sockets (bench/nodelay.mjs preloaded) | ${fmtSummary(setup.oursNodelay)} |`);
    p(`| reference: cf-ssh-tools --version (node start + CLI modules) | ${fmtSummary(setup.version)} |`);
    p(`| reference: node -e 0 | ${fmtSummary(setup.bareNode)} |`);
    p();
    p(
      `ours − OpenSSH (code excluded): ${fmt(diff)} ms (ours/OpenSSH ${fmt(ratios.setup.ratio, 2)}×); ours − (OpenSSH + code fetch): ${fmt(setup.ours.median - setup.opensshPlusCodeFetch.median)} ms`,
    );
    p(`TCP_NODELAY on our sockets would save ${fmt(setup.ours.median - setup.oursNodelay.median)} ms (median against median)`);
    p(`target, setup ≤ 150 ms above OpenSSH's (code excluded for OpenSSH): ${diff <= 150 ? 'met' : 'NOT met'} (${fmt(diff)} ms)`);
    p();
    p(`where ours spends it: ${setup.traced.n} more runs with bench/setup-trace.mjs preloaded (${fmtSummary(setup.traced)} ms in all), median (min–max) ms per step;`);
    p(`[in brackets: ${setup.tracedNodelay.n} runs alternating with those, TCP_NODELAY also set (bench/nodelay.mjs), ${fmtSummary(setup.tracedNodelay)} ms in all]:`);
    for (const [j, ph] of setup.phases.entries()) {
      p(`- ${ph.label}: ${fmtSummary(ph.ms, 1)} [${fmtSummary(ph.nodelay, 1)}]`);
      if (j === 1) {
        p(`  - of which loading alone, measured in a separate node process importing the same (${setup.moduleLoad[0].ms.n} runs):`);
        for (const m of setup.moduleLoad) p(`    - ${m.name}: ${fmtSummary(m.ms, 1)}`);
      }
      if (j === 2) for (const r of setup.perRequest) p(`  - ${r.request}: ${fmtSummary(r.ms, 1)}`);
    }
    p();
  }
  if (concurrent) {
    p(
      `## 3. ${concurrent.connections} connections at once through one -L tunnel straight into sshd, each echoing N bytes from a server behind it, ${runs} runs each, median (min–max)`,
    );
    p();
    p('| client | N bytes per connection | failed (all runs) | p50 ms per connection | p99 ms per connection | all done ms | client peak RSS MB (VmHWM) | RSS once listening MB |');
    p('|---|---|---|---|---|---|---|---|');
    for (const r of concurrent.rows) {
      const client = { 'ours-direct': 'ours: ssh2 + openForwards', 'openssh-direct': 'OpenSSH ssh -N -L', 'baseline-direct': `baseline: ours as built in ${ctx.baseline}` }[r.kind];
      p(
        `| ${client} | ${r.size} | ${r.failed}${fmtErrors(r.errors)} | ${fmtSummary(r.p50)} | ${fmtSummary(r.p99)} | ${fmtSummary(r.wallMs)} | ${fmtSummary(r.peakRssMB)} | ${fmtSummary(r.idleRssMB)} |`,
      );
    }
    p();
    const peak = (/** @type {number} */ size) => concurrent.rows.find((r) => r.kind === 'ours-direct' && r.size === size)?.peakRssMB.median;
    const [small, large] = concurrent.sizes.map(peak);
    if (small !== undefined && large !== undefined) {
      const failed = concurrent.rows.filter((r) => r.kind === 'ours-direct').reduce((sum, r) => sum + r.failed, 0);
      ratios.concurrent = { failed, peakRssMB: Math.max(small, large), peakRssGrowth: large / small };
      p(`ours: ${failed} failed; peak RSS ${fmt(small)} MB at ${concurrent.sizes[0]} bytes, ${fmt(large)} MB at ${concurrent.sizes[1]} (${fmt(large / small, 2)}×)`);
      p(`target, none fail, peak RSS < 150 MB and flat when the transfer doubles: ${failed === 0 && Math.max(small, large) < 150 && large / small < 1.1 ? 'met' : 'NOT met'}`);
    }
    p();
  }
  p(`total bench time: ${fmt(seconds)} s`);
  return { text: out.join('\n'), ratios };
}

// Last, once every top-level constant above is initialised.
if (process.argv[2] === '--direct-client') {
  await directClient(process.argv.slice(3));
} else {
  await runBench(main);
}
