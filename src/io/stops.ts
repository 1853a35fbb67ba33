// How a run is stopped: a stop signal, or stdout closed by its reader or failing. Apart from
// the context, so the entry point can hear them without loading what commands need.
import os from 'node:os';

/** What stops every running connection: a signal, or stdout closed by its reader (EPIPE) or failing. */
export type StopReason = { kind: 'signal'; signal: NodeJS.Signals } | { kind: 'output-closed' } | { kind: 'output-failed'; error: Error };

export type SubscribeStops = (handler: (reason: StopReason) => void) => () => void;

export const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export function outputStop(error: NodeJS.ErrnoException): StopReason {
  return error.code === 'EPIPE' ? { kind: 'output-closed' } : { kind: 'output-failed', error };
}

/**
 * The process's one listener for stop signals and stdout's errors, installed by the entry point
 * for the whole run; every running connection subscribes. A signal that finds no subscriber ends
 * the process at once by that signal (nothing of ours needs cleaning up then), terminal restored.
 */
export class ProcessStops {
  private readonly handlers = new Set<(reason: StopReason) => void>();
  /** The last signal received, and whether stdout failed: how the entry point ends the process. */
  signal?: NodeJS.Signals;
  output?: StopReason;

  readonly subscribe: SubscribeStops = (handler) => {
    const own = (reason: StopReason) => handler(reason);
    this.handlers.add(own);
    return () => void this.handlers.delete(own);
  };

  install(): void {
    for (const signal of STOP_SIGNALS) process.on(signal, () => this.deliver({ kind: 'signal', signal }));
    process.stdout.on('error', (error) => this.deliver(outputStop(error)));
  }

  private deliver(reason: StopReason): void {
    if (reason.kind === 'signal') {
      this.signal = reason.signal;
      if (this.handlers.size === 0) dieBy(reason.signal);
    } else {
      this.output ??= reason;
    }
    for (const handler of this.handlers) handler(reason);
  }
}

/** Ends the process by `signal`, as if we had no handler: shells see death by signal (a loop stops on Ctrl-C). */
export function dieBy(signal: NodeJS.Signals): never {
  // A signal kills without Node's own terminal reset (SIGHUP, at a hidden prompt): leave no raw mode behind.
  if (process.stdin.isTTY) process.stdin.setRawMode(false);
  process.removeAllListeners(signal);
  process.kill(process.pid, signal);
  // The signal is delivered asynchronously; nothing else may run meanwhile.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
  process.exit(128 + (os.constants.signals[signal] ?? 0));
}
