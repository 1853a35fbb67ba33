// One run of a connection's whole life, in the manner of the cf CLI's ExecuteSecureShell: what
// the run makes (an SSH connection, listeners, a service key, temp files, a local program) is
// put on a cleanup stack as it is made, one AbortSignal ends every wait, and one teardown runs
// on every way out: the normal end, an error, a lost connection, a stop signal, stdout closed.
// Runs are independent: many can live in one process, each hearing the process's stops.
import type { Client } from 'ssh2';
import { makeRunFolder, removeFoldersOfKilledRuns } from '../config/run-folders.js';
import type { Context, StopReason } from '../context.js';
import { describeError, StoppedError, UserError } from '../errors.js';
import { ConnectionLostError } from '../ssh/client.js';
import { KEEPALIVE_COUNT_MAX } from '../ssh/settings.js';

/** Where an action reports to the person at the terminal (the command passes ctx.term). */
export interface Reporter {
  notice: (message: string) => void;
  spin<T>(text: string, work: () => Promise<T>): Promise<T>;
}

interface Cleanup {
  what: string;
  undo: () => unknown;
}

function stopError(reason: StopReason): Error {
  switch (reason.kind) {
    case 'signal':
      return new StoppedError(reason.signal);
    case 'output-closed':
      return new StoppedError('SIGPIPE');
    case 'output-failed':
      return new UserError(`Cannot write to standard output: ${reason.error.message}.`);
  }
}

/** Why ssh2 ended a connection, in a user's words. */
export function lossReason(error: Error | undefined, keepaliveMs: number): string {
  if (!error) return 'closed by the other end';
  if (error.message === 'Keepalive timeout') return `no answer to ${KEEPALIVE_COUNT_MAX} keepalives ${keepaliveMs / 1000} s apart`;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ECONNRESET') return 'reset';
  // Written to after the other end had gone: the write's error is the first word of it.
  if (code === 'EPIPE') return 'closed by the other end';
  return error.message;
}

export class Lifecycle {
  private readonly controller = new AbortController();
  private readonly cleanups: Cleanup[] = [];
  private readonly unsubscribe: () => void;
  private sigintBelongsToProgram = false;
  private tornDown = false;
  private sweptKilledRuns = false;
  private stopWhileCleaningUp?: Error;

  constructor(
    private readonly ctx: Context,
    private readonly reporter: Reporter,
  ) {
    this.unsubscribe = ctx.onStop((reason) => {
      // Standalone, Ctrl-C reaches a program in the terminal's foreground too (psql cancels its
      // query): it is the program's, and the tunnel stays. Under cf, Ctrl-C has ended cf: we end.
      if (reason.kind === 'signal' && reason.signal === 'SIGINT' && this.sigintBelongsToProgram) return;
      // While cleaning up there is nothing left to interrupt: the clean-up finishes, then the run ends by the stop.
      if (this.tornDown) this.stopWhileCleaningUp ??= stopError(reason);
      else this.stop(stopError(reason));
    });
  }

  /** A stop that came during the teardown of a run that had done its work. */
  get lateStop(): Error | undefined {
    return this.stopWhileCleaningUp;
  }

  /** Aborted, with the error that ends the run as its reason, once the run is stopped. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  stop(error: Error): void {
    if (!this.signal.aborted) this.controller.abort(error);
  }

  /** Runs `undo` at teardown (last made, first undone); at once when the run is already over. */
  defer(what: string, undo: () => unknown): void {
    if (this.tornDown) void this.runCleanup({ what, undo });
    else this.cleanups.push({ what, undo });
  }

  /** `work`'s result, or the stop's error as soon as the run is stopped, whichever comes first. */
  until<T>(work: Promise<T>): Promise<T> {
    const { signal } = this;
    return new Promise((resolve, reject) => {
      const onStop = () => reject(signal.reason as Error);
      if (signal.aborted) onStop();
      else signal.addEventListener('abort', onStop, { once: true });
      work.then(
        (value) => {
          signal.removeEventListener('abort', onStop);
          resolve(value);
        },
        (err: unknown) => {
          signal.removeEventListener('abort', onStop);
          reject(err as Error);
        },
      );
    });
  }

  /** Settles only by the stop: rejects with why the run was stopped. */
  stopped(): Promise<never> {
    return new Promise((_resolve, reject) => {
      if (this.signal.aborted) reject(this.signal.reason as Error);
      else this.signal.addEventListener('abort', () => reject(this.signal.reason as Error), { once: true });
    });
  }

  /** While a local program has the terminal standalone, Ctrl-C is the program's; under cf it still ends the run. */
  handCtrlCToProgram(): () => void {
    if (this.ctx.launchedByCf) return () => undefined;
    this.sigintBelongsToProgram = true;
    return () => void (this.sigintBelongsToProgram = false);
  }

  /**
   * A 0700 folder under TMPDIR for the run's files (secrets among them), removed at teardown.
   * The first one also removes those of killed runs, and says so: they may hold a password.
   */
  async privateFolder(): Promise<string> {
    if (!this.sweptKilledRuns) {
      this.sweptKilledRuns = true;
      for (const dir of await removeFoldersOfKilledRuns(this.ctx.env)) {
        this.reporter.notice(`Removed ${dir}, left by a run of cf-ssh-tools that was killed (it may have held a service's password).`);
      }
    }
    const folder = await makeRunFolder(this.ctx.env);
    this.defer('the temporary folder', () => folder.remove());
    return folder.dir;
  }

  /** Owns a ready connection: ended at teardown; its closing any earlier is a lost connection, with when and why. */
  watch(connection: Client, keepaliveMs: number): void {
    const readyAt = this.ctx.now();
    let failure: Error | undefined;
    connection.on('error', (err) => void (failure ??= err));
    connection.once('close', () => {
      if (this.tornDown) return;
      const seconds = Math.max(0, Math.round((this.ctx.now() - readyAt) / 1000));
      this.stop(new ConnectionLostError(`after ${seconds} s`, lossReason(failure, keepaliveMs)));
    });
    this.defer('the SSH connection', () => connection.end());
  }

  /** Undoes everything, last made first; a failure is reported and the rest still runs. */
  async teardown(): Promise<void> {
    if (this.tornDown) return;
    this.tornDown = true;
    try {
      for (const cleanup of this.cleanups.splice(0).reverse()) await this.runCleanup(cleanup);
    } finally {
      this.unsubscribe();
    }
  }

  private async runCleanup({ what, undo }: Cleanup): Promise<void> {
    try {
      await undo();
    } catch (err) {
      this.reporter.notice(`Could not clean up ${what}: ${describeError(err).message}`);
    }
  }
}

/**
 * Runs `body` as one lifecycle and tears it down on every way out. `body` waits through
 * `life.until` (or passes `life.signal`), so a stop ends its waits at once. When the run was
 * stopped, the stop's error wins over whatever the interrupted work threw (a channel closed
 * under it, say); a stop during the teardown of finished work wins over its result.
 */
export async function withLifecycle<T>(ctx: Context, reporter: Reporter, body: (life: Lifecycle) => Promise<T>): Promise<T> {
  const life = new Lifecycle(ctx, reporter);
  let result: T;
  try {
    result = await body(life);
  } catch (err) {
    throw life.signal.aborted ? (life.signal.reason as Error) : err;
  } finally {
    await life.teardown();
  }
  // Ctrl-C pressed while a key's deletion was retried, say: cleaned up, and stopped all the same.
  if (life.lateStop) throw life.lateStop;
  return result;
}
