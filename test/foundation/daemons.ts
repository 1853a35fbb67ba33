// The server processes the foundation starts (sshd, database servers) and the one-shot
// commands that prepare them. Each daemon runs in a process group of its own and dies with the
// foundation however it ends: setpriv's --pdeathsig covers a SIGKILLed foundation.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** util-linux's setpriv: a parent-death signal, and another account when we are root. */
export const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((file) => existsSync(file));

export const runningAsRoot = () => process.getuid?.() === 0;

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

export function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-(child.pid as number), signal);
  } catch {
    // Already gone.
  }
}

/** A local system account (postgres, mysql, redis...) from /etc/passwd. */
export function systemAccount(name: string): { name: string; uid: number; gid: number } | undefined {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  const [, , uid, gid] = line?.split(':') ?? [];
  return line ? { name, uid: Number(uid), gid: Number(gid) } : undefined;
}

interface ProcessOptions {
  /** Run as this account (only as root: PostgreSQL refuses to run as root, and the others need not). */
  account?: string;
  /** The signal the process gets when the foundation's process dies. */
  deathSignal?: NodeJS.Signals;
}

/** The program and its arguments, run through setpriv when the options need it. */
function command(argv: string[], { account, deathSignal }: ProcessOptions): [string, ...string[]] {
  const [program, ...rest] = argv;
  if (program === undefined) throw new Error('no program to run');
  const setpriv = [...(account ? ['--reuid', account, '--regid', account, '--init-groups'] : []), ...(deathSignal ? ['--pdeathsig', deathSignal.replace(/^SIG/, '')] : [])];
  if (setpriv.length === 0 || !SETPRIV) {
    if (account) throw new Error(`running ${program} as ${account} needs setpriv (util-linux)`);
    return [program, ...rest];
  }
  return [SETPRIV, ...setpriv, '--', program, ...rest];
}

/**
 * What explains a process's failure, for error messages: the lines it marks as errors (MariaDB's
 * bootstrap buries them under a page of advice), else its last lines.
 */
const lastLines = (text: string) => {
  const lines = text.trim().split('\n');
  const errors = lines.filter((line) => /\[ERROR\]|\bERROR\b|\bFATAL\b/.test(line));
  return (errors.length > 0 ? errors.slice(0, 6) : lines.slice(-8)).join(' | ');
};

/** Runs a preparation step (initdb, mariadb-install-db...) to its end; rejects with its output when it fails. */
export function runToEnd(argv: string[], options: ProcessOptions & { input?: string; timeoutMs: number }): Promise<string> {
  const [file, ...args] = command(argv, { ...options, deathSignal: 'SIGKILL' });
  const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  child.stdin.end(options.input ?? '');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${argv[0]} did not finish within ${options.timeoutMs} ms: ${lastLines(output)}`));
    }, options.timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else reject(new Error(`${argv[0]} exited with ${code}: ${lastLines(output)}`));
    });
  });
}

/** A server process in a process group of its own. */
export class Daemon {
  private readonly child: ChildProcess;
  private output = '';
  private readonly exit: Promise<number | null>;
  private exited = false;

  constructor(
    private readonly argv: string[],
    private readonly options: ProcessOptions & { deathSignal: NodeJS.Signals },
  ) {
    const [file, ...args] = command(argv, options);
    this.child = spawn(file, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    // Reading also keeps a chatty server from blocking on a full pipe.
    for (const stream of [this.child.stdout, this.child.stderr]) {
      stream?.on('data', (chunk: Buffer) => (this.output = (this.output + chunk.toString()).slice(-8000)));
    }
    this.exit = new Promise((resolve) => {
      this.child.once('error', () => resolve(null));
      this.child.once('exit', (code) => resolve(code));
    }).then((code) => {
      this.exited = true;
      return code as number | null;
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The last lines it printed. */
  said(): string {
    return lastLines(this.output);
  }

  /**
   * Resolves once `ready` says so (a real connection to the server, asked again every 100 ms);
   * rejects with what the server printed when it exits first or is not ready in time.
   */
  async ready(ready: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.exited) throw new Error(`${this.argv[0]} exited with ${await this.exit}: ${this.said()}`);
      if (await ready()) return;
      if (Date.now() > deadline) throw new Error(`${this.argv[0]} was not ready within ${timeoutMs} ms: ${this.said()}`);
      await sleep(100);
    }
  }

  /** Its own clean shutdown first (the death signal), then SIGKILL for the whole group after `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.exited) return;
    killGroup(this.child, this.options.deathSignal);
    const timer = setTimeout(() => killGroup(this.child, 'SIGKILL'), graceMs);
    await this.exit;
    clearTimeout(timer);
    // Its children (PostgreSQL's backends, say) end with it; what lingers does not.
    killGroup(this.child, 'SIGKILL');
  }

  /** For a foundation that exits without stopping its daemons. */
  kill(): void {
    killGroup(this.child, 'SIGKILL');
  }
}
