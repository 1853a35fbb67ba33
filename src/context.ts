// What commands may use. Every external effect reaches a command through here, so a test
// can run the whole CLI in-process with its own streams, environment and clock.
import { spawn } from 'node:child_process';
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
  /** Calls `handler` on SIGINT, SIGTERM or SIGHUP until the returned function is called. */
  onSignals(handler: (signal: NodeJS.Signals) => void): () => void;
}

const STOP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export interface ContextOptions {
  streams: TerminalStreams;
  env: NodeJS.ProcessEnv;
  bin?: string;
  now?: () => number;
  /** cf's login, when cf runs us as a plugin (ahead of every other store). */
  pluginStore?: LoginStore;
  /** Tests start programs through a stub registry and deliver signals themselves. */
  spawn?: typeof spawn;
  onSignals?: Context['onSignals'];
}

function processSignals(handler: (signal: NodeJS.Signals) => void): () => void {
  for (const signal of STOP_SIGNALS) process.on(signal, handler);
  return () => {
    for (const signal of STOP_SIGNALS) process.removeListener(signal, handler);
  };
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
    onSignals: options.onSignals ?? processSignals,
  };
}
