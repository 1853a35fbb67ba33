// A registry of stand-ins for the local programs the CLI starts (the system ssh, psql, mariadb,
// redis-cli...), in the manner of GitHub CLI's internal/run stubs: a test registers each program
// it expects with a handler that plays it (and returns its exit status); a program nobody
// registered fails the run and the test; a registered one that never ran fails verify().
//
// Passed to the CLI as ContextOptions.spawn (run-cli.ts does so with `stubs`). The CLI looks a
// program up on PATH before it starts it (findProgram, fs.access X_OK), so each registered name
// also gets an executable file in `binDir`, which run-cli.ts puts first on PATH. That file only
// says it should never have run: the stub, not the file, is what the CLI starts.
import type { spawn as realSpawn, SpawnOptions } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Writable } from 'node:stream';

/** One start of a program, as the CLI asked for it. */
export interface SpawnCall {
  /** What the CLI passed to spawn: the path it found on PATH, or the one it was given. */
  executable: string;
  /** The registered name or path that matched. */
  program: string;
  args: string[];
  /** The environment the program would get (the whole of it, as spawn's `env`). */
  env: NodeJS.ProcessEnv;
  options: SpawnOptions;
  /** The run's own output streams, which a program started with stdio 'inherit' writes to. */
  stdout: Writable;
  stderr: Writable;
  /** Signals the CLI sent the program (child.kill), in order. */
  signals: NodeJS.Signals[];
  /** Resolves with the first signal the CLI sends the program (at once if one was sent). */
  signalled(): Promise<NodeJS.Signals>;
}

/** Plays the program: its exit status (0 when nothing is returned); a thrown error is spawn's 'error'. */
export type StubHandler = (call: SpawnCall) => number | void | Promise<number | void>;

interface Stub {
  program: string;
  handler: StubHandler;
  used: boolean;
}

/** What child_process.spawn returns, as far as the CLI uses it: 'error', 'exit' and 'close', kill(). */
class StubChild extends EventEmitter {
  readonly stdin = null;
  readonly stdout = null;
  readonly stderr = null;
  readonly pid: number | undefined;
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  killed = false;

  constructor(
    pid: number | undefined,
    private readonly signals: NodeJS.Signals[],
  ) {
    super();
    this.pid = pid;
  }

  kill(signal: NodeJS.Signals | number = 'SIGTERM'): boolean {
    const name = typeof signal === 'number' ? (`signal ${signal}` as NodeJS.Signals) : signal;
    this.signals.push(name);
    this.killed = true;
    this.emit('signalled', name);
    return true;
  }
}

const NEVER_RUN = (name: string) => `#!/bin/sh\necho "cf-ssh-tools test stub: ${name} should have been started through the spawn stub, not run" >&2\nexit 97\n`;

export class SpawnStubs {
  /** Every start the CLI asked for, expected or not. */
  readonly calls: SpawnCall[] = [];
  /** A folder of executables named like the registered programs, for PATH look-ups. */
  readonly binDir = mkdtempSync(path.join(os.tmpdir(), 'cf-ssh-tools-stubs-'));
  /** Where programs write: the run's streams, set by run-cli.ts when the run starts. */
  streams?: { stdout: Writable; stderr: Writable };
  private readonly stubs: Stub[] = [];
  private readonly unexpected: string[] = [];
  /** What handlers threw (their assertions, mostly): the CLI reports it as a failed start, verify() as itself. */
  private readonly failures: unknown[] = [];
  private nextPid = 90_000;

  /**
   * Expects one start of `program`: a name (matched against the executable's base name) or a
   * path (matched exactly). Register it again for each further start.
   */
  register(program: string, handler: StubHandler = () => 0): this {
    this.stubs.push({ program, handler, used: false });
    if (!program.includes('/')) {
      const file = path.join(this.binDir, program);
      writeFileSync(file, NEVER_RUN(program));
      chmodSync(file, 0o755);
    }
    return this;
  }

  /** To be passed as ContextOptions.spawn. */
  readonly spawn = ((command: string, argsOrOptions?: readonly string[] | SpawnOptions, maybeOptions?: SpawnOptions) => {
    const args = Array.isArray(argsOrOptions) ? [...(argsOrOptions as readonly string[])] : [];
    const options: SpawnOptions = (Array.isArray(argsOrOptions) ? maybeOptions : (argsOrOptions as SpawnOptions | undefined)) ?? {};
    const stub = this.stubs.find((s) => !s.used && (s.program.includes('/') ? s.program === command : s.program === path.basename(command)));
    const signals: NodeJS.Signals[] = [];
    const child = new StubChild(stub ? this.nextPid++ : undefined, signals);
    const streams = this.streams;
    if (!streams) throw new Error('SpawnStubs: no streams to write to; pass the stubs to runCli (test/helpers/run-cli.ts)');
    const signalled = () => {
      const [first] = signals;
      return first ? Promise.resolve(first) : new Promise<NodeJS.Signals>((resolve) => child.once('signalled', resolve));
    };
    const call: SpawnCall = { executable: command, program: stub?.program ?? command, args, env: options.env ?? {}, options, ...streams, signals, signalled };
    this.calls.push(call);
    if (!stub) {
      this.unexpected.push([command, ...args].join(' '));
      const error = Object.assign(new Error(`spawn ${command} ENOENT (no stub registered for it)`), { code: 'ENOENT', path: command, spawnargs: args });
      setImmediate(() => child.emit('error', error));
      return child;
    }
    stub.used = true;
    // As a real child: the events come after spawn() has returned and its listeners are on.
    setImmediate(() => {
      Promise.resolve()
        .then(() => stub.handler(call))
        .then(
          (code) => {
            child.exitCode = code ?? 0;
            child.emit('exit', child.exitCode, null);
            child.emit('close', child.exitCode, null);
          },
          (error: unknown) => {
            this.failures.push(error);
            child.emit('error', error);
          },
        );
    });
    return child;
  }) as unknown as typeof realSpawn;

  /**
   * Fails with what a handler threw, or when a program ran that nobody registered, or a
   * registered one never ran. Removes binDir.
   */
  verify(): void {
    rmSync(this.binDir, { recursive: true, force: true });
    const [failure] = this.failures;
    if (failure !== undefined) throw failure;
    const unused = this.stubs.filter((s) => !s.used).map((s) => s.program);
    const problems = [...this.unexpected.map((command) => `started without a stub: ${command}`), ...unused.map((program) => `registered but never started: ${program}`)];
    if (problems.length > 0) throw new Error(`Spawn stubs:\n  ${problems.join('\n  ')}`);
  }
}
