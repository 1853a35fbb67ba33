// What commands may use. Every external effect reaches a command through here, so a test
// can run the whole CLI in-process with its own streams, environment and clock.
import { spawn } from 'node:child_process';
import { CfConfigStore, cfConfigFolder } from './config/cf-config.js';
import { OwnLoginStore, ownStateFolder } from './config/own-login.js';
import type { LoginStore } from './config/login.js';
import { STANDALONE_NAME } from './io/help.js';
import type { SubscribeStops } from './io/stops.js';
import { Terminal, type TerminalStreams } from './io/terminal.js';
import { HttpClient, loadAxios } from './net/http.js';
import { traceSink } from './net/trace.js';
import { VERSION } from './version.js';

export type { StopReason, SubscribeStops } from './io/stops.js';

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
  /** Starts loading the HTTP library in the background, for a command that will make requests. */
  preloadHttp(): void;
  /** Starts a local program (the system ssh, a database client). */
  spawn: typeof spawn;
  /** Calls `handler` on a stop signal or a failed stdout until the returned function is called. */
  onStop: SubscribeStops;
  /** How to start ourselves again (our executable, and the script when unpackaged): ssh's ProxyCommand. */
  readonly self: readonly string[];
  /** cf started us: cf dies on Ctrl-C (it has no handler around a plugin), so Ctrl-C ends our run too. */
  readonly launchedByCf: boolean;
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
    bin: options.bin ?? STANDALONE_NAME,
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
    preloadHttp: () => void loadAxios(),
    spawn: options.spawn ?? spawn,
    onStop: options.onStop,
    self: options.self,
    launchedByCf: options.pluginStore !== undefined,
  };
}
