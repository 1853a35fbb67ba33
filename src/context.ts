// What commands may use. Every external effect reaches a command through here, so a test
// can run the whole CLI in-process with its own streams, environment and clock.
import { spawn } from 'node:child_process';
import os from 'node:os';
import { CfConfigStore, cfConfigFolder } from './config/cf-config.js';
import { OwnLoginStore, ownStateFolder } from './config/own-login.js';
import type { LoginStore } from './config/login.js';
import { Terminal, type TerminalStreams } from './io/terminal.js';
import { HttpClient } from './net/http.js';
import { traceSink } from './net/trace.js';
import { VERSION } from './version.js';

export interface Context {
  /** What users type to run us, for messages: "cf-ssh-tools", or "cf" inside cf. */
  readonly bin: string;
  readonly env: NodeJS.ProcessEnv;
  readonly term: Terminal;
  now(): number;
  /** Our own login's store (login writes it, logout clears it). */
  readonly ownLogin: OwnLoginStore;
  /** Where a login is looked for, first match wins: cf over RPC, our own, cf's config.json. */
  readonly loginStores: LoginStore[];
  /** The HTTP client for an endpoint's TLS setting, with tracing as configured. */
  http(sslDisabled: boolean, configTrace?: string): HttpClient;
  /** Starts a local program (the system ssh, a database client). */
  spawn: typeof spawn;
  /** Calls `handler` on a stop signal or a failed stdout until the returned function is called. */
  onStop: SubscribeStops;
  /** How to start ourselves again (our executable, and the script when unpackaged): ssh's ProxyCommand. */
  readonly self: readonly string[];
  /** cf started us: cf dies on Ctrl-C (it has no handler around a plugin), so Ctrl-C ends our run too. */
  readonly launchedByCf: boolean;
}

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

export interface ContextOptions {
  streams: TerminalStreams;
  env: NodeJS.ProcessEnv;
  bin?: string;
  now?: () => number;
  /** cf's login, when cf runs us as a plugin (ahead of every other store). */
  pluginStore?: LoginStore;
  /** Tests start programs through a stub registry. */
  spawn?: typeof spawn;
  self: readonly string[];
  /** The entry point's ProcessStops; tests deliver stops themselves. */
  onStop: SubscribeStops;
}

export function createContext(options: ContextOptions): Context {
  const { env } = options;
  const term = new Terminal(options.streams);
  const ownLogin = new OwnLoginStore(ownStateFolder(env), !/^(1|true|yes)$/i.test(env.CF_SSH_TOOLS_NO_KEYCHAIN ?? ''));
  const loginStores: LoginStore[] = [ownLogin, CfConfigStore.in(cfConfigFolder(env))];
  if (options.pluginStore) loginStores.unshift(options.pluginStore);
  const clients = new Map<string, HttpClient>();
  return {
    bin: options.bin ?? 'cf-ssh-tools',
    env,
    term,
    now: options.now ?? Date.now,
    ownLogin,
    loginStores,
    http(sslDisabled, configTrace) {
      const key = `${sslDisabled}`;
      let client = clients.get(key);
      if (!client) {
        const trace = traceSink(env.CF_TRACE ?? configTrace, (text) => options.streams.stderr.write(text));
        client = new HttpClient({
          sslDisabled,
          trace,
          env,
          userAgent: `cf-ssh-tools/${VERSION} (node ${process.version}; ${process.platform} ${process.arch})`,
        });
        clients.set(key, client);
      }
      return client;
    },
    spawn: options.spawn ?? spawn,
    onStop: options.onStop,
    self: options.self,
    launchedByCf: options.pluginStore !== undefined,
  };
}
