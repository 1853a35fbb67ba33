// What commands may use. Every external effect reaches a command through here, so a test
// can run the whole CLI in-process with its own streams, environment and clock.
import { spawn } from 'node:child_process';
import { CfConfigStore, cfConfigPath } from './config/cf-config.js';
import { OwnSessionStore, ownSessionDir } from './config/own-session.js';
import type { SessionStore } from './config/session.js';
import { Terminal, type TerminalStreams } from './io/terminal.js';
import { Http } from './net/http.js';
import { traceSink } from './net/trace.js';

export const VERSION = '0.1.0';

export interface Context {
  /** What users type to run us, for messages: "cf-ssh-tools", or "cf" inside cf. */
  readonly bin: string;
  readonly env: NodeJS.ProcessEnv;
  readonly term: Terminal;
  now(): number;
  /** Our own login's store (login writes it, logout clears it). */
  readonly ownStore: OwnSessionStore;
  /** Where a session is looked for, first match wins: cf over RPC, our login, cf's config.json. */
  readonly stores: SessionStore[];
  /** The HTTP client for an endpoint's TLS setting, with tracing as configured. */
  http(sslDisabled: boolean, configTrace?: string): Http;
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
  /** A session handed over by cf when it runs us as a plugin (ahead of every other store). */
  pluginStore?: SessionStore;
}

export function createContext(options: ContextOptions): Context {
  const { env } = options;
  const term = new Terminal(options.streams);
  const ownStore = new OwnSessionStore(ownSessionDir(env), !/^(1|true|yes)$/i.test(env.CF_SSH_TOOLS_NO_KEYCHAIN ?? ''));
  const stores: SessionStore[] = [ownStore, new CfConfigStore(cfConfigPath(env))];
  if (options.pluginStore) stores.unshift(options.pluginStore);
  const clients = new Map<string, Http>();
  return {
    bin: options.bin ?? 'cf-ssh-tools',
    env,
    term,
    now: options.now ?? Date.now,
    ownStore,
    stores,
    http(sslDisabled, configTrace) {
      const key = `${sslDisabled}`;
      let client = clients.get(key);
      if (!client) {
        const trace = traceSink(env.CF_TRACE ?? configTrace, (text) => options.streams.stderr.write(text));
        client = new Http({
          sslDisabled,
          trace,
          userAgent: `cf-ssh-tools/${VERSION} (node ${process.version}; ${process.platform} ${process.arch})`,
        });
        clients.set(key, client);
      }
      return client;
    },
    spawn,
    onSignals(handler) {
      for (const signal of STOP_SIGNALS) process.on(signal, handler);
      return () => {
        for (const signal of STOP_SIGNALS) process.removeListener(signal, handler);
      };
    },
  };
}
