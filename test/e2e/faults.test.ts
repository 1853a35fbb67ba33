// Issue 9's fault suite: faults injected under the built CLI, one row of the table per fault.
// Each run gets its own home (its own ledger of service keys), its own TMPDIR and its own fault
// relay (test/helpers/fault-relay.ts, reached as https_proxy) in front of the one foundation,
// so that independent cases run at the same time. Each case asserts what the user sees (the
// line, the exit status or the signal the process died of), that it ended within a bound, and
// that nothing is left behind: no service key, nothing in TMPDIR, no record in the ledger, no
// listener on the tunnel's port, no local program, and the terminal's modes where one is used.
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, closeSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { BIN, cli, loggedIn } from '../helpers/cli.js';
import { type Fault, type FaultRelay, faultRelay } from '../helpers/fault-relay.js';
import { type RunningFoundation, startFoundationProcess } from '../helpers/foundation.js';
import { echoServer, freePort } from '../helpers/net.js';
import { TmuxPane } from '../helpers/tmux.js';

const KEY = String.raw`cf-ssh-tools-developer-[0-9a-f]{8}`;
const LOST_IN_HANDSHAKE = String.raw`Connection to the app instance was lost (before|during) the SSH handshake \(closed by the other end\)\.`;
const lostAfter = (why: string) => String.raw`Connection to the app instance was lost after \d+ s \(${why}\)\.`;
const NO_KEEPALIVE_ANSWER = lostAfter('no answer to 3 keepalives 1 s apart');
/** What an endpoint that never speaks SSH gets, at the foundation's SSH proxy's address. */
const silent = (address: string) =>
  String.raw`Error opening SSH connection: no SSH answer from ${address.replaceAll('.', '\\.')} within 11 s \(CF_DIAL_TIMEOUT 1 s to connect \+ 10 s for the SSH handshake\)\.`;
const portInUse = (port: number, option = '-L') => `Cannot listen on 127\\.0\\.0\\.1:${port} for ${option}: the port is in use\\.`;
const TUNNELS_OPEN = 'Tunnels are open\\. Press Ctrl-C to close them\\.';
const PRESS_CTRL_C = 'Press Ctrl-C to close the tunnel\\.';
/** stderr is exactly these lines (each a regex source), nothing else: no stack trace, no second message. */
const lines = (...each: string[]) => new RegExp(`^${each.map((line) => `${line}\n`).join('')}$`);
const NOTHING = /^$/;

/** The clean-up of a key whose create the broker has not finished (CC refuses to delete it meanwhile). */
const STILL_BEING_CREATED = String.raw`Could not clean up the service key (${KEY}): There is an operation in progress for the service binding\. Delete it with 'cf delete-service-key demo-pg \1 -f'; the next connect-to-service --credentials key tries again\.`;

/** A key some person made by hand, with a name like ours: never ours to delete. */
const HAND_MADE_KEY = 'cf-ssh-tools-developer-ops';

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

interface RunOptions {
  env?: Record<string, string>;
  /** Written to stdin, which is then closed; otherwise stdin stays open (a stand-in program ends at its EOF). */
  input?: string | Buffer;
  /** A file descriptor for stdout (/dev/full) instead of a pipe. */
  stdoutFd?: number;
  /** A process group of its own, so that a terminal's Ctrl-C (SIGINT to the group) can be imitated. */
  group?: boolean;
  /** Read stdout up to its first line, then close it, as `| head -1` does. */
  headOne?: boolean;
}

/** The built CLI in a process of its own; killed after a minute so that a hang fails instead of blocking the suite. */
class CliRun {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly ended: Promise<Ended>;

  constructor(env: Record<string, string>, args: string[], options: RunOptions) {
    this.child = spawn(process.execPath, [BIN, ...args], {
      env: { ...env, ...options.env },
      stdio: ['pipe', options.stdoutFd ?? 'pipe', 'pipe'],
      detached: options.group ?? false,
    });
    this.child.stdout?.on('data', (d: Buffer) => {
      this.stdout += d.toString();
      if (options.headOne && this.stdout.includes('\n')) this.child.stdout!.destroy();
    });
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    // The descriptor is the child's now.
    if (options.stdoutFd !== undefined) closeSync(options.stdoutFd);
    this.child.stdin!.on('error', () => undefined);
    if (options.input !== undefined) this.child.stdin!.end(options.input);
    const killer = setTimeout(() => this.child.kill('SIGKILL'), 60_000);
    this.ended = new Promise((resolve) =>
      this.child.once('close', (code, signal) => {
        clearTimeout(killer);
        resolve({ code, signal, stdout: this.stdout, stderr: this.stderr });
      }),
    );
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves once `check` holds; fails at once if the run ends first (with what it said). */
  async until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (!this.running) throw new Error(`the run ended before ${what}: ${this.stdout}${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms: ${this.stdout}${this.stderr}`);
      await sleep(25);
    }
  }

  untilOutput(pattern: RegExp): Promise<void> {
    return this.until(() => pattern.test(this.stdout), `stdout matching ${pattern}`);
  }
}

/** What a case has before its run starts. */
interface Setup {
  /** A free port for -L or --local-port. */
  port: number;
}

/** What a case works with: its relay, its run (and its environment, for more runs), its stand-in program. */
interface CaseRun extends Setup {
  relay: FaultRelay;
  run: CliRun;
  env: Record<string, string>;
  /** Runs the CLI once more in the same home and TMPDIR, to its end. */
  again(args: string[], options?: RunOptions): Promise<Ended>;
  /** The stand-in program's pid, once it has started. */
  program(): Promise<number>;
  /** The signals the stand-in program got, in order. */
  programSignals(): string[];
}

interface Expectation {
  /** The exit status, or the signal the process died of. */
  exit: number | NodeJS.Signals;
  /** All of stderr (a function of the case's port where the message names it). */
  stderr: RegExp | ((c: Setup) => RegExp);
  stdout?: RegExp;
  /** The bound, from the fault (or the start, for a fault there from the start). */
  withinMs: number;
  /** It waited at least this long (the bound its message names). */
  atLeastMs?: number;
}

interface Case {
  name: string;
  /** Logged in as this user, in a login of its own (default: developer, sharing one login's tokens). */
  user?: string;
  fault?: Fault;
  args: (c: Setup) => string[];
  env?: Record<string, string>;
  options?: () => RunOptions;
  /** Sets the stage before the run starts (a port taken, a broker's failures). */
  prepare?: (c: Setup) => Promise<void>;
  /**
   * It makes service keys or changes what every run meets (the brokers, UAA): it runs alone
   * among those that do, so that "no service key on the foundation" is exact.
   */
  exclusive?: boolean;
  /** Brings the fault (or the signal) once the run got where it must; the bound counts from its end. */
  act?: (c: CaseRun) => Promise<void>;
  expect: Expectation;
  /** Ports that must refuse connections afterwards (the run's tunnel or -L listener). */
  listens?: boolean;
  /** Left for the next run to clean: records in the ledger, keys on the foundation. */
  leaves?: { records: number; keys: number };
  /** What more to check, and the next runs that clean what this one left. */
  afterwards?: (c: CaseRun) => Promise<void>;
}

/** A fault met on a real terminal (tmux): the shell there reports the exit status, `stty -a` the modes left. */
interface TerminalCase {
  name: string;
  fault: Fault;
  /** The CLI's arguments, as typed. */
  command: string;
  env?: Record<string, string>;
  /** What to type once it runs, and what the screen shows when the fault may come. */
  ready: { type?: string; screen: RegExp };
  act: (c: { relay: FaultRelay; pane: TmuxPane; cli: number }) => void;
  /** The exit status the shell reports (128 + N for death by signal N) and the line on the screen. */
  expect: { exit: number; line?: RegExp; withinMs: number };
}

interface KeyRecord {
  guid: string;
  name: string;
  last_operation: string;
}

/** One holder at a time, in the order asked. */
class Lock {
  private tail: Promise<unknown> = Promise.resolve();
  hold<T>(work: () => Promise<T>): Promise<T> {
    const turn = this.tail.then(work);
    this.tail = turn.catch(() => undefined);
    return turn;
  }
}

/** A local program's stand-in (psql, a user's command): says its pid, records its signals, ends at EOF on stdin. */
const STAND_IN = `#!${process.execPath}
const fs = require('node:fs');
const file = process.env.FAULT_PROGRAM_FILE;
const numbers = { SIGINT: 2, SIGHUP: 1, SIGTERM: 15 };
for (const signal of Object.keys(numbers)) {
  process.on(signal, () => {
    fs.appendFileSync(file + '.signals', signal + '\\n');
    // SIGINT is a query cancelled (psql): the program goes on. FAULT_IGNORE_TERM: one that will not end.
    if (signal !== 'SIGINT' && !process.env.FAULT_IGNORE_TERM) process.exit(128 + numbers[signal]);
  });
}
process.stdin.on('end', () => process.exit(Number(process.env.FAULT_EXIT_CODE || 0)));
process.stdin.resume();
setInterval(() => undefined, 1 << 30);
// Said last: whoever reads it may signal at once.
fs.writeFileSync(file + '.new', String(process.pid));
fs.renameSync(file + '.new', file);
`;

/** `promise`, or a failure naming `what` after `ms`. */
async function within(promise: Promise<unknown>, ms: number, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => (timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms)));
  try {
    await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  // A zombie nobody reaped has ended too.
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true; // gone meanwhile
  }
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

/** PostgreSQL answers an SSLRequest with one byte, S or N: the tunnel reaches the database. */
function postgresAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f])));
    socket.once('data', (answer) => {
      socket.destroy();
      resolve(answer.length === 1 && (answer[0] === 0x53 || answer[0] === 0x4e));
    });
    socket.once('error', () => resolve(false));
    socket.once('end', () => resolve(false));
  });
}

/** The processes whose parent is `pid`. */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);
}

function descendantsOf(pid: number): number[] {
  return childrenOf(pid).flatMap((child) => [child, ...descendantsOf(child)]);
}

describe('injected faults', { concurrency: 4 }, () => {
  let foundation: RunningFoundation;
  let template: string;
  let root: string;
  let bin: string;
  const keyLock = new Lock();
  /** What -L forwards to: an echo server on the instance's loopback (the test's own). */
  let echo: Awaited<ReturnType<typeof echoServer>>;
  let localClosed: Promise<unknown> | undefined;
  /** Where the API root says the SSH proxy is (what the relays tunnel to). */
  let sshAddress: string;

  const keys = () => foundation.control<KeyRecord[]>('GET', '/foundation/service-keys');
  const settings = (body: Record<string, unknown>) => foundation.control<{ broker_delete_failures: number }>('PUT', '/foundation/settings', body);
  const ledger = (home: string) => {
    const dir = path.join(home, '.cf-ssh-tools', 'service-keys');
    return existsSync(dir) ? readdirSync(dir) : [];
  };

  /** A home logged in as `from` is (the same tokens), with a ledger of its own. */
  const newHome = (dir: string, from: string) => {
    const home = path.join(dir, 'home');
    mkdirSync(home);
    cpSync(path.join(from, '.cf-ssh-tools'), path.join(home, '.cf-ssh-tools'), { recursive: true });
    return home;
  };

  const baseEnv = (home: string, tmp: string, relay?: FaultRelay): Record<string, string> => ({
    PATH: `${bin}:${process.env.PATH}`,
    HOME: home,
    CF_HOME: home,
    CF_SSH_TOOLS_NO_KEYCHAIN: 'true',
    TMPDIR: tmp,
    ...(relay && { https_proxy: relay.url }),
  });

  before(async () => {
    foundation = await startFoundationProcess(['--databases', 'postgres']);
    template = await loggedIn(foundation.url);
    echo = await echoServer();
    sshAddress = ((await (await fetch(`${foundation.url}/`)).json()) as { links: { app_ssh: { href: string } } }).links.app_ssh.href;
    root = mkdtempSync(path.join(os.tmpdir(), 'cf-ssh-tools-faults-'));
    bin = path.join(root, 'bin');
    mkdirSync(bin);
    for (const name of ['psql', 'hold-tunnel']) {
      writeFileSync(path.join(bin, name), STAND_IN);
      chmodSync(path.join(bin, name), 0o755);
    }
    // Started before the clock runs: both instances' sshd, and PostgreSQL behind demo-pg.
    const warm = await Promise.all([
      cli(template, ['ssh', 'demo-app', '-c', 'true']),
      cli(template, ['ssh', 'demo-app', '-i', '1', '-c', 'true']),
      cli(template, ['connect-to-service', 'db-app', 'demo-pg', '--', 'true'], { timeoutMs: 60_000 }),
    ]);
    for (const r of warm) assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    echo.close();
    await foundation.stop();
    rmSync(root, { recursive: true, force: true });
  });

  async function runCase(c: Case): Promise<void> {
    const dir = mkdtempSync(path.join(root, 'case-'));
    const home = newHome(dir, c.user ? await loggedIn(foundation.url, c.user) : template);
    const tmp = path.join(dir, 'tmp');
    mkdirSync(tmp);
    const relay = await faultRelay(c.fault);
    const port = await freePort();
    const programFile = path.join(dir, 'program.pid');
    const env = { ...baseEnv(home, tmp, relay), FAULT_PROGRAM_FILE: programFile, ...c.env };
    const programPid = () => (existsSync(programFile) ? Number(readFileSync(programFile, 'utf8')) : undefined);
    // The foundation's keys are looked at alone among the runs that make keys (exclusive cases hold the lock already).
    const withKeys = <T>(work: () => Promise<T>) => (c.exclusive ? work() : keyLock.hold(work));
    try {
      await c.prepare?.({ port });
      const started = Date.now();
      const run = new CliRun(env, c.args({ port }), c.options?.() ?? {});
      const caseRun: CaseRun = {
        run,
        relay,
        port,
        env,
        again: (args: string[], options: RunOptions = {}) => new CliRun(env, args, options).ended,
        program: async () => {
          await run.until(() => programPid() !== undefined, 'the stand-in program');
          return programPid()!;
        },
        programSignals: () => (existsSync(`${programFile}.signals`) ? readFileSync(`${programFile}.signals`, 'utf8').trim().split('\n') : []),
      };
      let from = started;
      if (c.act) {
        await c.act(caseRun);
        from = Date.now();
      }
      const ended = await run.ended;
      const ms = Date.now() - from;
      const said = `stdout: ${JSON.stringify(ended.stdout.slice(-300))}, stderr: ${JSON.stringify(ended.stderr)}`;

      if (typeof c.expect.exit === 'number') assert.deepEqual([ended.code, ended.signal], [c.expect.exit, null], said);
      else assert.deepEqual([ended.code, ended.signal], [null, c.expect.exit], said);
      assert.match(ended.stderr, typeof c.expect.stderr === 'function' ? c.expect.stderr({ port }) : c.expect.stderr);
      if (c.expect.stdout) assert.match(ended.stdout, c.expect.stdout);
      assert.ok(ms < c.expect.withinMs, `ended ${ms} ms after the fault, bound ${c.expect.withinMs} ms`);
      if (c.expect.atLeastMs) assert.ok(ms >= c.expect.atLeastMs, `waited ${ms} ms, at least ${c.expect.atLeastMs} ms expected`);

      // Left behind: nothing, or what the case leaves for the next run by design.
      assert.deepEqual(readdirSync(tmp), [], 'nothing of ours in TMPDIR');
      const records = ledger(home);
      assert.equal(records.filter((f) => f.endsWith('.json')).length, c.leaves?.records ?? 0, `ledger: ${records.join(', ')}`);
      if (!c.leaves) assert.deepEqual(records, [], 'no socket left in the ledger either');
      if (c.listens) assert.ok(await refused(port), `nothing listens on ${port} any more`);
      const pid = programPid();
      if (pid !== undefined) assert.ok(isGone(pid), `the local program ${pid} has ended`);
      await withKeys(async () => {
        const ours = (await keys()).filter((k) => k.name !== HAND_MADE_KEY);
        assert.equal(ours.length, c.leaves?.keys ?? 0, `service keys: ${ours.map((k) => `${k.name} (${k.last_operation})`).join(', ')}`);
      });
      if (c.afterwards) {
        await c.afterwards(caseRun);
        await withKeys(async () => assert.deepEqual(await keys(), [], 'no service key after the next run'));
        assert.deepEqual(ledger(home), [], 'the ledger is empty after the next run');
        assert.deepEqual(readdirSync(tmp), []);
      }
    } finally {
      await relay.stop();
    }
  }

  // ssh -c with a command that says when it runs, then waits.
  const upThenWait = ['ssh', 'demo-app', '-c', 'echo up; sleep 60'];
  const up = (c: CaseRun) => c.run.untilOutput(/^up$/m);
  /** ssh -N says so once its listeners are open (connecting to one would open a channel: a fault of its own). */
  const tunnelsOpen = (c: CaseRun) => c.run.until(() => c.run.stderr.includes('Tunnels are open'), 'the tunnels open');
  /** connect-to-service --no-client has printed the details: the tunnel is open. */
  const details = (c: CaseRun) => c.run.untilOutput(/^\s+url:/m);
  const keyArgs = (extra: string[]) => ['connect-to-service', 'db-app', 'demo-pg', '--credentials', 'key', ...extra];
  const forward = (c: Setup) => ['ssh', 'demo-app', '-N', '-L', `127.0.0.1:${c.port}:127.0.0.1:9`];
  /** The next --credentials key run in the same home deletes the key left behind, and says so. */
  const nextRunCleans = async (c: CaseRun) => {
    const [left] = await keys();
    assert.ok(left, 'a key was left for the next run');
    const next = await c.again(keyArgs(['--', 'true']));
    assert.equal(next.code, 0, next.stderr);
    assert.equal(next.stderr, `Deleted service key ${left.name} of demo-pg, left behind by an earlier run that could not delete it.\n`);
  };

  const CASES: Case[] = [
    // Lost during the handshake.
    {
      name: 'handshake: accepted, then closed at once',
      fault: { kind: 'accept-then-close' },
      args: () => ['ssh', 'demo-app', '-c', 'echo ran'],
      expect: { exit: 255, stderr: lines(LOST_IN_HANDSHAKE), stdout: /^FAILED\n$/, withinMs: 10_000 },
    },
    {
      name: 'handshake: closed in the key exchange (our side sent 300 bytes)',
      fault: { kind: 'cut', direction: 'up', afterBytes: 300, how: 'close' },
      args: () => ['ssh', 'demo-app', '-c', 'echo ran'],
      expect: { exit: 255, stderr: lines(LOST_IN_HANDSHAKE), stdout: /^FAILED\n$/, withinMs: 10_000 },
    },
    {
      name: 'handshake: closed in the key exchange (the server sent 60 bytes)',
      fault: { kind: 'cut', direction: 'down', afterBytes: 60, how: 'close' },
      args: () => ['ssh', 'demo-app', '-c', 'echo ran'],
      expect: { exit: 255, stderr: lines(LOST_IN_HANDSHAKE), stdout: /^FAILED\n$/, withinMs: 10_000 },
    },
    {
      name: 'handshake: reset in the key exchange (our side sent 300 bytes)',
      fault: { kind: 'cut', direction: 'up', afterBytes: 300, how: 'reset' },
      args: () => ['ssh', 'demo-app', '-c', 'echo ran'],
      expect: { exit: 255, stderr: lines('Connection to the app instance was lost during the SSH handshake \\(reset\\)\\.'), stdout: /^FAILED\n$/, withinMs: 10_000 },
    },
    {
      name: 'handshake: reset in the key exchange (the server sent 60 bytes)',
      fault: { kind: 'cut', direction: 'down', afterBytes: 60, how: 'reset' },
      args: () => ['ssh', 'demo-app', '-c', 'echo ran'],
      expect: { exit: 255, stderr: lines('Connection to the app instance was lost during the SSH handshake \\(reset\\)\\.'), withinMs: 10_000 },
    },
    {
      // The server's banner, key exchange and NEWKEYS take 601 bytes with Diego's algorithms; its answer to the password comes later.
      name: 'handshake: closed after the key exchange, before authentication ended (the server sent 700 bytes)',
      fault: { kind: 'cut', direction: 'down', afterBytes: 700, how: 'close' },
      args: () => ['ssh', 'demo-app', '-c', 'echo ran'],
      expect: { exit: 255, stderr: lines(LOST_IN_HANDSHAKE), stdout: /^FAILED\n$/, withinMs: 10_000 },
    },
    {
      name: 'handshake: ssh -N -L, closed in the key exchange: no listener ever opens',
      fault: { kind: 'cut', direction: 'up', afterBytes: 300, how: 'close' },
      args: forward,
      listens: true,
      expect: { exit: 255, stderr: lines(LOST_IN_HANDSHAKE), withinMs: 10_000 },
    },
    {
      name: 'handshake: an endpoint that accepts TCP and never speaks SSH',
      fault: { kind: 'black-hole' },
      args: () => ['ssh', 'demo-app', '-c', 'echo ran'],
      env: { CF_DIAL_TIMEOUT: '1' },
      expect: { exit: 1, stderr: () => lines(silent(sshAddress)), stdout: /^FAILED\n$/, withinMs: 16_000, atLeastMs: 9_000 },
    },
    {
      name: 'handshake: an endpoint that sends its banner, then goes silent',
      fault: { kind: 'banner-then-silent' },
      args: () => ['ssh', 'demo-app', '-c', 'echo ran'],
      env: { CF_DIAL_TIMEOUT: '1' },
      expect: { exit: 1, stderr: () => lines(silent(sshAddress)), withinMs: 16_000, atLeastMs: 9_000 },
    },
    {
      name: 'handshake: connect-to-service --credentials key, a silent endpoint: no key is made',
      fault: { kind: 'banner-then-silent' },
      args: () => keyArgs(['--no-client']),
      env: { CF_DIAL_TIMEOUT: '1' },
      expect: { exit: 1, stderr: () => lines(silent(sshAddress)), withinMs: 16_000, atLeastMs: 9_000 },
    },

    // Lost after the connection was up.
    {
      name: 'lost: ssh -c, the network freezes (keepalive every 1 s)',
      fault: { kind: 'none' },
      args: () => upThenWait,
      env: { CF_SSH_TOOLS_KEEPALIVE_SECONDS: '1' },
      act: async (c) => {
        await up(c);
        c.relay.freeze();
      },
      expect: { exit: 255, stderr: lines(NO_KEEPALIVE_ANSWER), stdout: /^up\nFAILED\n$/, withinMs: 12_000 },
    },
    {
      name: 'lost: ssh -c, the connection is reset after authentication',
      fault: { kind: 'none' },
      args: () => upThenWait,
      act: async (c) => {
        await up(c);
        c.relay.reset();
      },
      expect: { exit: 255, stderr: lines(lostAfter('reset')), stdout: /^up\nFAILED\n$/, withinMs: 5_000 },
    },
    {
      name: 'lost: ssh -c, the connection is closed after authentication',
      fault: { kind: 'none' },
      args: () => upThenWait,
      act: async (c) => {
        await up(c);
        c.relay.close();
      },
      expect: { exit: 255, stderr: lines(lostAfter('closed by the other end')), stdout: /^up\nFAILED\n$/, withinMs: 5_000 },
    },
    {
      name: 'lost: ssh -c, closed mid-transfer (2 MB of output relayed)',
      fault: { kind: 'cut', direction: 'down', afterBytes: 2_000_000, how: 'close' },
      args: () => ['ssh', 'demo-app', '-c', 'seq 1 2000000'],
      expect: { exit: 255, stderr: lines(lostAfter('closed by the other end')), stdout: /^1\n2\n3\n[\s\S]*FAILED\n$/, withinMs: 10_000 },
    },
    {
      name: 'lost: ssh -c, reset mid-transfer (3 MB of input relayed)',
      fault: { kind: 'cut', direction: 'up', afterBytes: 3_000_000, how: 'reset' },
      args: () => ['ssh', 'demo-app', '-c', 'cat > /dev/null; echo read-all'],
      options: () => ({ input: Buffer.alloc(8_000_000, 'x') }),
      expect: { exit: 255, stderr: lines(lostAfter('reset')), stdout: /^FAILED\n$/, withinMs: 10_000 },
    },
    {
      name: 'lost: ssh -N -L, the network freezes: the listener closes',
      fault: { kind: 'none' },
      args: forward,
      env: { CF_SSH_TOOLS_KEEPALIVE_SECONDS: '1' },
      listens: true,
      act: async (c) => {
        await tunnelsOpen(c);
        c.relay.freeze();
      },
      expect: { exit: 255, stderr: lines(TUNNELS_OPEN, NO_KEEPALIVE_ANSWER), withinMs: 12_000 },
    },
    {
      name: 'lost: ssh -N -L, the proxy in between is killed',
      fault: { kind: 'none' },
      args: forward,
      listens: true,
      act: async (c) => {
        await tunnelsOpen(c);
        c.relay.kill();
      },
      expect: { exit: 255, stderr: lines(TUNNELS_OPEN, lostAfter('closed by the other end')), withinMs: 5_000 },
    },
    {
      name: 'lost: ssh -N -L with a connection open through the tunnel, reset: that connection is closed too',
      fault: { kind: 'none' },
      args: (c) => ['ssh', 'demo-app', '-N', '-L', `127.0.0.1:${c.port}:127.0.0.1:${echo.port}`],
      listens: true,
      act: async (c) => {
        await tunnelsOpen(c);
        const local = net.connect(c.port, '127.0.0.1');
        local.on('error', () => undefined);
        await new Promise((resolve) => local.once('connect', resolve));
        const echoed = new Promise((resolve) => local.once('data', resolve));
        local.write('ping');
        assert.equal(String(await echoed), 'ping', 'the tunnel carries data');
        localClosed = new Promise((resolve) => local.once('close', resolve));
        c.relay.reset();
      },
      expect: { exit: 255, stderr: lines(TUNNELS_OPEN, lostAfter('reset')), withinMs: 5_000 },
      afterwards: () => within(localClosed!, 5_000, 'the connection through the lost tunnel closing'),
    },
    {
      name: 'lost: connect-to-service --credentials key --no-client, the network freezes: key deleted',
      fault: { kind: 'none' },
      args: (c) => keyArgs(['--no-client', '--local-port', String(c.port)]),
      env: { CF_SSH_TOOLS_KEEPALIVE_SECONDS: '1' },
      exclusive: true,
      listens: true,
      act: async (c) => {
        await details(c);
        c.relay.freeze();
      },
      expect: { exit: 255, stderr: lines(PRESS_CTRL_C, NO_KEEPALIVE_ANSWER), withinMs: 12_000 },
    },
    {
      name: 'lost: connect-to-service --credentials key with its client, reset: client ended, key deleted',
      fault: { kind: 'none' },
      args: (c) => keyArgs(['--local-port', String(c.port)]),
      exclusive: true,
      listens: true,
      act: async (c) => {
        await c.program();
        c.relay.reset();
      },
      expect: { exit: 255, stderr: lines(lostAfter('reset')), withinMs: 6_000 },
      afterwards: async (c) => assert.deepEqual(c.programSignals(), ['SIGTERM']),
    },
    {
      name: 'lost: connect-to-service -- COMMAND that ignores SIGTERM, closed: SIGKILL after 2 s',
      fault: { kind: 'none' },
      args: (c) => ['connect-to-service', 'db-app', 'demo-pg', '--local-port', String(c.port), '--', 'hold-tunnel'],
      env: { FAULT_IGNORE_TERM: '1' },
      listens: true,
      act: async (c) => {
        await c.program();
        c.relay.close();
      },
      expect: { exit: 255, stderr: lines(lostAfter('closed by the other end')), withinMs: 8_000, atLeastMs: 2_000 },
      afterwards: async (c) => assert.deepEqual(c.programSignals(), ['SIGTERM']),
    },
    {
      name: 'lost: the instance’s sshd is killed under a running ssh -c',
      args: () => ['ssh', 'demo-app', '-i', '1', '-c', 'echo up; sleep 60'],
      act: async (c) => {
        await up(c);
        const [app] = (await foundation.control<{ apps: { name: string; guid: string }[] }>('GET', '/foundation/state')).apps.filter((a) => a.name === 'demo-app');
        const backends = await foundation.control<{ instance: string; pid: number | null }[]>('GET', '/foundation/ssh/backends');
        const sshd = backends.find((b) => b.instance === `${app!.guid}/1`)?.pid;
        assert.ok(sshd, 'the instance runs an sshd of its own');
        // The daemon, and the per-connection processes it forked (each in a session of its own).
        for (const pid of [sshd, ...descendantsOf(sshd)]) process.kill(pid, 'SIGKILL');
      },
      expect: { exit: 255, stderr: lines(lostAfter('closed by the other end')), stdout: /^up\nFAILED\n$/, withinMs: 5_000 },
      afterwards: async (c) => {
        // The instance restarts with a new sshd, and takes connections again.
        for (const state of ['CRASHED', 'RUNNING']) await foundation.control('PUT', '/foundation/instances', { app: 'demo-app', index: 1, state });
        const again = await c.again(['ssh', 'demo-app', '-i', '1', '-c', 'echo back'], { input: '' });
        assert.equal(again.stdout, 'back\n', again.stderr);
      },
    },

    // Stop signals at each stage.
    {
      name: 'SIGINT while connecting (ssh -c)',
      fault: { kind: 'black-hole' },
      args: () => ['ssh', 'demo-app', '-c', 'echo ran'],
      act: async (c) => {
        await c.relay.waitForConnections();
        c.run.child.kill('SIGINT');
      },
      expect: { exit: 'SIGINT', stderr: NOTHING, stdout: /^$/, withinMs: 5_000 },
    },
    {
      name: 'SIGTERM while connecting (connect-to-service --credentials key): no key made',
      fault: { kind: 'black-hole' },
      args: (c) => keyArgs(['--no-client', '--local-port', String(c.port)]),
      listens: true,
      act: async (c) => {
        await c.relay.waitForConnections();
        c.run.child.kill('SIGTERM');
      },
      expect: { exit: 'SIGTERM', stderr: NOTHING, withinMs: 5_000 },
    },
    {
      name: 'SIGHUP while connecting (ssh -N -L, the endpoint silent after its banner)',
      fault: { kind: 'banner-then-silent' },
      args: forward,
      listens: true,
      act: async (c) => {
        await c.relay.waitForConnections();
        c.run.child.kill('SIGHUP');
      },
      expect: { exit: 'SIGHUP', stderr: NOTHING, withinMs: 5_000 },
    },
    {
      name: 'SIGTERM while the session runs (ssh -c)',
      fault: { kind: 'none' },
      args: () => upThenWait,
      act: async (c) => {
        await up(c);
        c.run.child.kill('SIGTERM');
      },
      expect: { exit: 'SIGTERM', stderr: NOTHING, stdout: /^up\n$/, withinMs: 5_000 },
    },
    {
      name: 'SIGHUP while the session runs (ssh -c)',
      fault: { kind: 'none' },
      args: () => upThenWait,
      act: async (c) => {
        await up(c);
        c.run.child.kill('SIGHUP');
      },
      expect: { exit: 'SIGHUP', stderr: NOTHING, stdout: /^up\n$/, withinMs: 5_000 },
    },
    {
      name: 'SIGINT while the tunnels are open (ssh -N -L)',
      fault: { kind: 'none' },
      args: forward,
      listens: true,
      act: async (c) => {
        await tunnelsOpen(c);
        c.run.child.kill('SIGINT');
      },
      expect: { exit: 'SIGINT', stderr: lines(TUNNELS_OPEN), withinMs: 5_000 },
    },
    {
      name: 'SIGHUP while the tunnel is held (connect-to-service --credentials key --no-client): key deleted',
      fault: { kind: 'none' },
      args: (c) => keyArgs(['--no-client', '--local-port', String(c.port)]),
      exclusive: true,
      listens: true,
      act: async (c) => {
        await details(c);
        c.run.child.kill('SIGHUP');
      },
      expect: { exit: 'SIGHUP', stderr: lines(PRESS_CTRL_C), withinMs: 5_000 },
    },
    {
      name: 'SIGTERM while the client runs (connect-to-service --credentials key): client ended, key deleted',
      fault: { kind: 'none' },
      args: (c) => keyArgs(['--local-port', String(c.port)]),
      exclusive: true,
      listens: true,
      act: async (c) => {
        await c.program();
        c.run.child.kill('SIGTERM');
      },
      expect: { exit: 'SIGTERM', stderr: NOTHING, withinMs: 5_000 },
      afterwards: async (c) => assert.deepEqual(c.programSignals(), ['SIGTERM']),
    },
    {
      name: 'SIGHUP while -- COMMAND runs: the command gets SIGHUP, then we die of it',
      fault: { kind: 'none' },
      args: (c) => ['connect-to-service', 'db-app', 'demo-pg', '--local-port', String(c.port), '--', 'hold-tunnel'],
      listens: true,
      act: async (c) => {
        await c.program();
        c.run.child.kill('SIGHUP');
      },
      expect: { exit: 'SIGHUP', stderr: NOTHING, withinMs: 5_000 },
      afterwards: async (c) => assert.deepEqual(c.programSignals(), ['SIGHUP']),
    },
    {
      name: 'Ctrl-C (SIGINT to the process group) while psql runs standalone: psql’s, the tunnel stays',
      fault: { kind: 'none' },
      args: (c) => ['connect-to-service', 'db-app', 'demo-pg', '--local-port', String(c.port)],
      options: () => ({ group: true }),
      listens: true,
      act: async (c) => {
        await c.program();
        process.kill(-c.run.pid, 'SIGINT');
        await c.run.until(() => c.programSignals().includes('SIGINT'), 'the program hearing Ctrl-C');
        assert.ok(await postgresAnswers(c.port), 'the tunnel still reaches PostgreSQL after Ctrl-C');
        assert.ok(c.run.running, 'still running');
        c.run.child.kill('SIGTERM');
      },
      expect: { exit: 'SIGTERM', stderr: NOTHING, withinMs: 5_000 },
      afterwards: async (c) => assert.deepEqual(c.programSignals(), ['SIGINT', 'SIGTERM']),
    },
    {
      name: 'SIGKILL (connect-to-service --credentials key --no-client): the next run deletes the key',
      fault: { kind: 'none' },
      args: (c) => keyArgs(['--no-client', '--local-port', String(c.port)]),
      exclusive: true,
      listens: true,
      leaves: { records: 1, keys: 1 },
      act: async (c) => {
        await details(c);
        c.run.child.kill('SIGKILL');
      },
      expect: { exit: 'SIGKILL', stderr: lines(PRESS_CTRL_C), withinMs: 5_000 },
      afterwards: nextRunCleans,
    },

    // Our own output.
    {
      name: 'stdout closed by its reader (| head -1)',
      fault: { kind: 'none' },
      args: () => ['ssh', 'demo-app', '-c', 'seq 1 200000'],
      options: () => ({ headOne: true }),
      expect: { exit: 141, stderr: NOTHING, withinMs: 10_000 },
    },
    {
      name: 'ssh --all-instances: stdout closed by its reader (| head -1)',
      fault: { kind: 'none' },
      args: () => ['ssh', 'demo-app', '--all-instances', '-c', 'seq 1 200000'],
      options: () => ({ headOne: true }),
      expect: { exit: 141, stderr: NOTHING, withinMs: 10_000 },
    },
    {
      name: 'stdout to /dev/full',
      fault: { kind: 'none' },
      args: () => ['ssh', 'demo-app', '-c', 'seq 1 1000'],
      options: () => ({ stdoutFd: openSync('/dev/full', 'w'), input: '' }),
      expect: { exit: 1, stderr: lines('Cannot write to standard output: [^\\n]+'), withinMs: 10_000 },
    },

    // The local port taken.
    {
      name: 'ssh -L on a port in use',
      fault: { kind: 'none' },
      args: forward,
      prepare: squat,
      expect: { exit: 1, stderr: (c) => lines(portInUse(c.port)), stdout: /^FAILED\n$/, withinMs: 8_000 },
      afterwards: async (c) => assert.ok(!(await refused(c.port)), 'the port’s owner still has it'),
    },
    {
      name: 'ssh -L on an address that is not this machine’s',
      fault: { kind: 'none' },
      args: (c) => ['ssh', 'demo-app', '-N', '-L', `192.0.2.1:${c.port}:127.0.0.1:9`],
      expect: { exit: 1, stderr: (c) => lines(`Cannot listen on 192\\.0\\.2\\.1:${c.port} for -L: the address is not on this machine\\.`), stdout: /^FAILED\n$/, withinMs: 8_000 },
    },
    {
      name: 'connect-to-service --credentials key --local-port in use: key deleted',
      fault: { kind: 'none' },
      args: (c) => keyArgs(['--no-client', '--local-port', String(c.port)]),
      exclusive: true,
      prepare: squat,
      expect: { exit: 1, stderr: (c) => lines(portInUse(c.port, '--local-port')), withinMs: 8_000 },
    },

    // The brokers and UAA around --credentials key.
    {
      name: 'broker: the key’s create fails: nothing is left',
      fault: { kind: 'none' },
      args: () => keyArgs(['--', 'true']),
      exclusive: true,
      prepare: async () => void (await settings({ broker_create_failures: 1 })),
      expect: {
        exit: 1,
        stderr: lines(`Creating service key ${KEY} failed: bind could not be completed: Service broker error: the broker failed to create the key \\(broker_create_failures\\)`),
        withinMs: 10_000,
      },
    },
    {
      name: 'broker: SIGINT while the key is being created (a stalled broker): deleted by the next run',
      fault: { kind: 'none' },
      args: () => keyArgs(['--no-client']),
      exclusive: true,
      leaves: { records: 1, keys: 1 },
      prepare: async () => void (await settings({ broker_delay_ms: 4000 })),
      act: (c) => whileCreating(c, () => c.run.child.kill('SIGINT')),
      expect: {
        exit: 'SIGINT',
        stderr: lines(STILL_BEING_CREATED),
        withinMs: 5_000,
      },
      afterwards: async (c) => {
        // CC deletes the key once its create is over.
        await waitForKeys((all) => all.every((k) => k.last_operation === 'create succeeded'));
        await nextRunCleans(c);
      },
    },
    {
      name: 'broker: the connection lost while the key is being created: named, deleted by the next run',
      fault: { kind: 'none' },
      args: () => keyArgs(['--no-client']),
      exclusive: true,
      leaves: { records: 1, keys: 1 },
      prepare: async () => void (await settings({ broker_delay_ms: 4000 })),
      act: (c) => whileCreating(c, () => c.relay.reset()),
      expect: {
        exit: 255,
        stderr: lines(STILL_BEING_CREATED, lostAfter('reset')),
        withinMs: 5_000,
      },
      afterwards: async (c) => {
        // CC deletes the key once its create is over.
        await waitForKeys((all) => all.every((k) => k.last_operation === 'create succeeded'));
        await nextRunCleans(c);
      },
    },
    {
      name: 'broker: the key’s DELETE fails once: retried, nothing said',
      fault: { kind: 'none' },
      args: () => keyArgs(['--', 'true']),
      exclusive: true,
      prepare: async () => void (await settings({ broker_delete_failures: 1 })),
      expect: { exit: 0, stderr: NOTHING, withinMs: 10_000 },
    },
    {
      name: 'broker: the key’s DELETE fails twice: retried with backoff, nothing said',
      fault: { kind: 'none' },
      args: () => keyArgs(['--', 'true']),
      exclusive: true,
      prepare: async () => void (await settings({ broker_delete_failures: 2 })),
      expect: { exit: 0, stderr: NOTHING, withinMs: 12_000, atLeastMs: 2_000 },
    },
    {
      name: 'broker: SIGINT during the clean-up (the DELETE being retried): the clean-up finishes, then we die of it',
      fault: { kind: 'none' },
      args: () => keyArgs(['--', 'hold-tunnel']),
      env: { FAULT_EXIT_CODE: '3' },
      exclusive: true,
      prepare: async () => void (await settings({ broker_delete_failures: 2 })),
      act: async (c) => {
        await c.program();
        c.run.child.stdin!.end(); // the program ends, with status 3: the clean-up starts
        await c.run.until(async () => (await settings({})).broker_delete_failures < 2, 'the first DELETE failing');
        c.run.child.kill('SIGINT');
      },
      expect: { exit: 'SIGINT', stderr: NOTHING, withinMs: 8_000 },
    },
    {
      name: 'broker: the key’s DELETE always fails: named, the exit status kept, the next run deletes it',
      fault: { kind: 'none' },
      args: () => keyArgs(['--', 'sh', '-c', 'exit 3']),
      exclusive: true,
      leaves: { records: 1, keys: 1 },
      prepare: async () => void (await settings({ broker_delete_failures: 100 })),
      expect: {
        exit: 3,
        stderr: lines(
          `Could not clean up the service key (${KEY}): Service broker error: the broker failed to delete the key \\(broker_delete_failures\\)\\. Delete it with 'cf delete-service-key demo-pg \\1 -f'; the next connect-to-service --credentials key tries again\\.`,
        ),
        withinMs: 20_000,
        atLeastMs: 7_000,
      },
      afterwards: async (c) => {
        await settings({ broker_delete_failures: 0 });
        await nextRunCleans(c);
      },
    },
    {
      name: 'UAA: tokens unusable at clean-up time: the key is named, the next run (logged in again) deletes it',
      user: 'admin',
      fault: { kind: 'none' },
      args: (c) => keyArgs(['--local-port', String(c.port), '--', 'hold-tunnel']),
      exclusive: true,
      leaves: { records: 1, keys: 1 },
      act: async (c) => {
        await c.program();
        // Time passes: the access token expires, and UAA no longer takes the refresh token.
        await foundation.control('POST', '/foundation/expire-access-tokens', { user: 'admin' });
        await foundation.control('POST', '/foundation/revoke-refresh-tokens', { user: 'admin' });
        c.run.child.stdin!.end(); // the program ends (EOF), with status 0
      },
      expect: {
        exit: 0,
        stderr: lines(
          "Could not clean up the service key (cf-ssh-tools-admin-[0-9a-f]{8}): The token expired, was revoked, or the token ID is incorrect\\. Please log back in to re-authenticate\\. Delete it with 'cf delete-service-key demo-pg \\1 -f'; the next connect-to-service --credentials key tries again\\.",
        ),
        withinMs: 10_000,
      },
      afterwards: async (c) => {
        const login = await c.again(['login', '-a', foundation.url, '-u', 'admin', '-p', 'admin-pass', '-o', 'demo-org', '-s', 'demo-space']);
        assert.equal(login.code, 0, login.stderr);
        await nextRunCleans(c);
      },
    },

    // Runs at once.
    {
      name: 'two --credentials key sessions of one user at once: both keep working; a killed one’s key alone is deleted; a hand-made key never',
      fault: { kind: 'none' },
      args: (c) => keyArgs(['--no-client', '--local-port', String(c.port)]),
      exclusive: true,
      listens: true,
      prepare: () => handMadeKey('create'),
      act: async (c) => {
        await details(c);
        const firstKey = (await keys()).find((k) => k.name !== HAND_MADE_KEY)!.name;
        const secondPort = await freePort();
        const second = new CliRun(c.env, keyArgs(['--no-client', '--local-port', String(secondPort)]), {});
        await second.untilOutput(/^\s+url:/m);
        const names = async () => (await keys()).map((k) => k.name).sort();
        const all = await names();
        assert.equal(all.length, 3, 'both runs’ keys and the hand-made one');
        // A third run, meanwhile, looks for keys of dead runs: it finds none to delete.
        const third = await c.again(keyArgs(['--', 'true']));
        assert.deepEqual([third.code, third.stderr], [0, '']);
        assert.deepEqual(await names(), all, 'no live run’s key was deleted');
        assert.ok(await postgresAnswers(c.port), 'the first tunnel still reaches PostgreSQL');
        assert.ok(await postgresAnswers(secondPort), 'the second one too');
        // The second is killed: the next run deletes its key, and only its key.
        second.child.kill('SIGKILL');
        assert.equal((await second.ended).signal, 'SIGKILL');
        const secondKey = all.find((name) => name !== firstKey && name !== HAND_MADE_KEY);
        const fourth = await c.again(keyArgs(['--', 'true']));
        assert.deepEqual([fourth.code, fourth.stderr], [0, `Deleted service key ${secondKey} of demo-pg, left behind by an earlier run that could not delete it.\n`]);
        assert.deepEqual(await names(), [HAND_MADE_KEY, firstKey].sort());
        assert.ok(await postgresAnswers(c.port), 'the first tunnel is still up');
        c.run.child.kill('SIGINT');
      },
      expect: { exit: 'SIGINT', stderr: lines(PRESS_CTRL_C), withinMs: 5_000 },
      afterwards: async () => {
        assert.deepEqual(
          (await keys()).map((k) => k.name),
          [HAND_MADE_KEY],
          'the hand-made key is still there',
        );
        await handMadeKey('delete');
      },
    },

    // Nobody at a terminal: nothing waits.
    {
      name: 'no terminal: the client is not installed (--credentials key): exit 1 at once, the key deleted',
      fault: { kind: 'none' },
      args: () => keyArgs([]),
      env: { PATH: '/nonexistent' },
      exclusive: true,
      expect: {
        exit: 1,
        stderr: lines('No client started: psql is not installed \\(Debian/Ubuntu package: postgresql-client\\)\\. Give --no-client to hold the tunnel open for other programs\\.'),
        withinMs: 10_000,
      },
    },
    {
      name: 'no terminal: a service whose type nothing tells: exit 1 at once',
      fault: { kind: 'none' },
      args: () => ['connect-to-service', 'db-app', 'legacy-db'],
      expect: {
        exit: 1,
        stderr: lines(
          "No client started: the type of 'legacy-db' could not be told \\(no hints\\); give it with --type\\. Give --no-client to hold the tunnel open for other programs\\.",
        ),
        withinMs: 10_000,
      },
    },
  ];

  /** Brings `fault` while the broker is still creating the run's key (prepared with a broker delay of 4 s), then takes the delay back. */
  async function whileCreating(c: CaseRun, fault: () => void): Promise<void> {
    try {
      await c.run.until(async () => (await keys()).some((k) => k.last_operation === 'create in progress'), 'the key being created');
    } finally {
      await settings({ broker_delay_ms: 300 });
    }
    fault();
  }

  /** Waits until the foundation's keys satisfy `check`. */
  async function waitForKeys(check: (all: KeyRecord[]) => boolean): Promise<void> {
    const deadline = Date.now() + 20_000;
    while (!check(await keys())) {
      if (Date.now() > deadline) throw new Error(`the service keys never got there: ${JSON.stringify(await keys())}`);
      await sleep(50);
    }
  }

  /** The developer makes (or deletes) a key named like ours through the Cloud Controller, as `cf create-service-key` would. */
  async function handMadeKey(action: 'create' | 'delete'): Promise<void> {
    const { access_token: token } = await foundation.tokens('developer', 'developer-pass');
    const cc = async (method: string, route: string, body?: unknown) => {
      const res = await fetch(`${foundation.url}${route}`, {
        method,
        headers: { Authorization: `bearer ${token}`, ...(body !== undefined && { 'Content-Type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      assert.ok(res.ok, `${method} ${route}: ${res.status} ${await res.clone().text()}`);
      return res;
    };
    if (action === 'create') {
      const instances = (await (await cc('GET', '/v3/service_instances?names=demo-pg')).json()) as { resources: { guid: string }[] };
      const relationships = { service_instance: { data: { guid: instances.resources[0]?.guid } } };
      await cc('POST', '/v3/service_credential_bindings', { type: 'key', name: HAND_MADE_KEY, relationships });
      await waitForKeys((all) => all.some((k) => k.name === HAND_MADE_KEY && k.last_operation === 'create succeeded'));
    } else {
      const key = (await keys()).find((k) => k.name === HAND_MADE_KEY);
      await cc('DELETE', `/v3/service_credential_bindings/${key?.guid}`);
      await waitForKeys((all) => all.length === 0);
    }
  }

  const squatters: net.Server[] = [];
  /** Someone else listens on the case's port. */
  async function squat(c: Setup): Promise<void> {
    const server = net.createServer((socket) => socket.end());
    squatters.push(server);
    await new Promise<void>((resolve) => server.listen(c.port, '127.0.0.1', resolve));
  }
  after(() => {
    for (const server of squatters) server.close();
  });

  /** The local terminal's line discipline, read after cf-ssh-tools has exited. */
  async function localModes(pane: TmuxPane): Promise<string> {
    pane.type('stty -a | tr " " "\\n" | grep -E "^-?(icanon|echo|isig)$" | tr "\\n" " "; echo "<modes"');
    return ((await pane.waitFor(/\n([-a-z ]+)<modes/))[1] ?? '').trim();
  }

  const TERMINAL_CASES: TerminalCase[] = [
    {
      name: 'terminal: a shell with a PTY (raw mode), the connection reset',
      fault: { kind: 'none' },
      command: 'ssh demo-app -i 0',
      ready: { type: 'echo "remote-$((6 * 7))"', screen: /^remote-42\s*$/m },
      act: ({ relay }) => relay.reset(),
      expect: { exit: 255, line: new RegExp(`^${lostAfter('reset')}\\s*$`, 'm'), withinMs: 5_000 },
    },
    {
      name: 'terminal: ssh -t -c, SIGTERM from outside',
      fault: { kind: 'none' },
      command: "ssh demo-app -t -c 'echo up; sleep 60'",
      ready: { screen: /^up\s*$/m },
      act: ({ cli }) => process.kill(cli, 'SIGTERM'),
      expect: { exit: 143, withinMs: 5_000 },
    },
    {
      name: 'terminal: ssh -N -L, Ctrl-C',
      fault: { kind: 'none' },
      command: 'ssh demo-app -N -L 0:127.0.0.1:9',
      ready: { screen: /^Tunnels are open\. Press Ctrl-C to close them\.\s*$/m },
      act: ({ pane }) => pane.keys('C-c'),
      expect: { exit: 130, withinMs: 5_000 },
    },
    {
      name: 'terminal: psql (the real one) in the tunnel, the network freezes: psql ended, the terminal sane',
      fault: { kind: 'none' },
      command: 'connect-to-service db-app demo-pg',
      env: { CF_SSH_TOOLS_KEEPALIVE_SECONDS: '1', PAGER: 'cat' },
      ready: { screen: /^demo_db=[>#]/m },
      act: ({ relay }) => relay.freeze(),
      expect: { exit: 255, line: new RegExp(`^${NO_KEEPALIVE_ANSWER}\\s*$`, 'm'), withinMs: 12_000 },
    },
  ];

  async function runTerminalCase(c: TerminalCase): Promise<void> {
    const dir = mkdtempSync(path.join(root, 'terminal-'));
    const home = newHome(dir, template);
    const tmp = path.join(dir, 'tmp');
    mkdirSync(tmp);
    const relay = await faultRelay(c.fault);
    const env = { ...baseEnv(home, tmp, relay), PATH: process.env.PATH ?? '/usr/bin:/bin', TERM: 'xterm-256color', PS1: 'local$ ', ...c.env };
    const pane = TmuxPane.start('faults', env, 160, 40);
    try {
      pane.type(`${process.execPath} ${BIN} ${c.command}`);
      if (c.ready.type) pane.type(c.ready.type);
      await pane.waitFor(c.ready.screen, 30_000);
      // The CLI is the shell's foreground child; what it started (psql) is below it.
      const shell = Number(execFileSync('tmux', ['display', '-p', '-t', pane.session, '#{pane_pid}']).toString());
      const [cli] = childrenOf(shell);
      assert.ok(cli, 'the CLI runs in the terminal');
      const started = [cli, ...descendantsOf(cli)];
      c.act({ relay, pane, cli });
      const from = Date.now();
      // The local prompt is back. (Asked for the status only now: after a death by Ctrl-C, bash drops the rest of a command line.)
      await pane.waitFor(/\nlocal\$\s*$/, 30_000);
      const ms = Date.now() - from;
      pane.type('echo "exit=$?"');
      const exit = Number((await pane.waitFor(/^exit=(\d+)\s*$/m))[1]);
      assert.equal(exit, c.expect.exit, pane.screen());
      if (c.expect.line) assert.match(pane.screen(), c.expect.line);
      assert.ok(ms < c.expect.withinMs, `ended ${ms} ms after the fault, bound ${c.expect.withinMs} ms`);
      assert.equal(await localModes(pane), 'isig icanon echo', 'the terminal’s modes are restored');
      assert.deepEqual(readdirSync(tmp), [], 'nothing of ours in TMPDIR');
      assert.deepEqual(ledger(home), []);
      for (const pid of started) assert.ok(isGone(pid), `process ${pid} has ended`);
    } finally {
      pane.stop();
      await relay.stop();
    }
  }

  for (const c of CASES) it(c.name, () => (c.exclusive ? keyLock.hold(() => runCase(c)) : runCase(c)));
  for (const c of TERMINAL_CASES) it(c.name, () => runTerminalCase(c));
});
