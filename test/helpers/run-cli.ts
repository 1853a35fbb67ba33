// The whole CLI in-process, in the manner of wrangler's runWrangler: runCli (or, for cf's
// launches `PORT SendMetadata|CLI-MESSAGE-UNINSTALL|COMMAND`, runPlugin, as bin.ts decides) with
// a context of the test's making: stdin fed from a string and ended (not a terminal), stdout
// and stderr collected, HOME and CF_HOME in a temp dir, a clock, the local programs started
// through a spawn stub registry, and stop signals that only the test sends.
//
// What the spawned helper (cli.ts) does in 0.4–0.8 s takes a few milliseconds here. Keep
// spawned runs for what needs a real process: signals, terminals, packaging, the cf host.
import { PassThrough, Writable } from 'node:stream';
import type { ContextOptions, StopReason, SubscribeStops } from '../../src/context.js';
import { describeError } from '../../src/errors.js';
import { runArgv } from '../../src/plugin-launch.js';
import { BIN, type CliOptions, type CliResult, tempHome } from './cli.js';
import type { SpawnStubs } from './spawn-stubs.js';

export { tempHome };
export type { CliResult };

/** Stops for in-process runs (signals, stdout closed): the CLI subscribes through ctx.onStop, the test sends. */
export class TestSignals {
  private readonly handlers = new Set<(reason: StopReason) => void>();

  readonly subscribe: SubscribeStops = (handler) => {
    // A handler of its own per subscription, so that subscribing one twice is counted twice.
    const own = (reason: StopReason) => handler(reason);
    this.handlers.add(own);
    return () => void this.handlers.delete(own);
  };

  /** How many subscriptions are still on. */
  get subscribed(): number {
    return this.handlers.size;
  }

  /** Delivers a signal to every subscriber, as the process would. Returns how many got it. */
  send(signal: NodeJS.Signals): number {
    return this.deliver({ kind: 'signal', signal });
  }

  /** stdout's reader went away (EPIPE), as the entry point reports it. */
  closeOutput(): number {
    return this.deliver({ kind: 'output-closed' });
  }

  private deliver(reason: StopReason): number {
    const handlers = [...this.handlers];
    for (const handler of handlers) handler(reason);
    return handlers.length;
  }
}

export interface RunOptions extends CliOptions {
  /** The clock (ctx.now); the wall clock unless given. */
  now?: () => number;
  /** Local programs: the registry's spawn, and its binDir first on PATH. */
  stubs?: SpawnStubs;
  /** Stop signals to send during the run (see startCli); a fresh TestSignals unless given. */
  signals?: TestSignals;
}

/** A run under way: its output so far, its signals, and its result. */
export interface RunningCli {
  result: Promise<CliResult>;
  signals: TestSignals;
  stdout(): string;
  stderr(): string;
  /** Resolves once the stream's output matches (checked at each write), or rejects when the run ends first. */
  waitFor(stream: 'stdout' | 'stderr', pattern: RegExp): Promise<RegExpMatchArray>;
}

class Collector extends Writable {
  private readonly chunks: Buffer[] = [];
  isTTY = false;

  constructor(private readonly onWrite: () => void) {
    super();
  }

  override _write(chunk: Buffer | string, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk, encoding));
    this.onWrite();
    callback();
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/** Starts the CLI in-process with `args`, in `home`, and returns at once (see RunningCli). */
export function startCli(home: string, args: string[], options: RunOptions = {}): RunningCli {
  const signals = options.signals ?? new TestSignals();
  const watchers = new Set<() => void>();
  const notify = () => {
    // A watcher that is done removes itself, which a Set's iteration allows.
    for (const watcher of watchers) watcher();
  };
  const stdout = new Collector(notify);
  const stderr = new Collector(notify);
  const stdin = Object.assign(new PassThrough(), { isTTY: false });
  stdin.end(options.input ?? '');

  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    CF_HOME: home,
    CF_SSH_TOOLS_NO_KEYCHAIN: 'true',
    ...options.env,
  };
  if (options.stubs) {
    env.PATH = [options.stubs.binDir, env.PATH].filter(Boolean).join(':');
    options.stubs.streams = { stdout, stderr };
  }
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete env[key];

  const io: Omit<ContextOptions, 'bin' | 'pluginStore'> = {
    streams: { stdin, stdout, stderr },
    env,
    now: options.now,
    spawn: options.stubs?.spawn,
    onStop: signals.subscribe,
    self: [process.execPath, BIN],
  };
  // Where bin.ts starts: cf's launches go to runPlugin, anything else is a standalone run.
  const ended = runArgv(args, io).then(
    (code) => code,
    // bin.ts's last resort: the message and exit 1.
    (err: unknown) => {
      stderr.write(`${describeError(err).message}\n`);
      return 1;
    },
  );
  let finished = false;
  const result = new Promise<CliResult>((resolve, reject) => {
    const timeoutMs = options.timeoutMs ?? 20_000;
    const timer = setTimeout(() => {
      reject(new Error(`cf-ssh-tools ${args.join(' ')} did not finish within ${timeoutMs} ms (in-process)\n${stdout.text()}\n${stderr.text()}`));
    }, timeoutMs);
    void ended.then((code) => {
      clearTimeout(timer);
      finished = true;
      notify();
      // An in-process run shares the process: it must not leave a stop-signal subscription behind.
      if (signals.subscribed > 0 && !options.signals) {
        reject(new Error(`cf-ssh-tools ${args.join(' ')} left ${signals.subscribed} stop-signal subscription(s) behind`));
        return;
      }
      resolve({ code, stdout: stdout.text(), stderr: stderr.text() });
    });
  });

  return {
    result,
    signals,
    stdout: () => stdout.text(),
    stderr: () => stderr.text(),
    waitFor(stream, pattern) {
      const collector = stream === 'stdout' ? stdout : stderr;
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = collector.text().match(pattern);
          if (match) {
            watchers.delete(check);
            resolve(match);
          } else if (finished) {
            watchers.delete(check);
            reject(new Error(`the run ended before its ${stream} showed ${pattern}:\n${stdout.text()}\n${stderr.text()}`));
          }
        };
        watchers.add(check);
        check();
      });
    },
  };
}

/** Runs the CLI in-process to its end: the same result as the spawned cli() of cli.ts. */
export function runCli(home: string, args: string[], options: RunOptions = {}): Promise<CliResult> {
  return startCli(home, args, options).result;
}

/** Logs a seeded user in to the foundation in-process and targets demo-org and `space`; the home. */
export async function loggedIn(api: string, user = 'developer', space = 'demo-space'): Promise<string> {
  const home = tempHome();
  const result = await runCli(home, ['login', '-a', api, '-u', user, '-p', `${user}-pass`, '-o', 'demo-org', '-s', space]);
  if (result.code !== 0) throw new Error(`login failed: ${result.stdout}${result.stderr}`);
  return home;
}
