// How cf starts a plugin, and what we do for each: `<port> SendMetadata` at install,
// `<port> CLI-MESSAGE-UNINSTALL` at uninstall, `<port> <command> args...` to run a command.
import { describeApi } from './actions/login.js';
import { PROXY_DIAL, relayThroughProxy } from './actions/proxy-dial.js';
import { runCli } from './cli.js';
import { type Context, createContext, type ContextOptions } from './context.js';
import { describeError } from './errors.js';
import type { CommandSpec } from './commands/command-spec.js';
import { COMMAND_SPECS } from './commands/specs.js';
import { CfCli } from './plugin/cf-rpc.js';
import { CfPluginLoginStore } from './plugin/cf-login.js';
import { pluginMetadata } from './plugin/metadata.js';
import { pluginNameOf } from './plugin/names.js';

export type PluginLaunch = { port: number } & (
  | { mode: 'metadata' }
  | { mode: 'uninstall' }
  /** `command` is our own name for the command cf knows by its name inside cf. */
  | { mode: 'command'; command: string; args: string[] }
);

/**
 * cf's way of starting us, or undefined for a standalone run. Strict, so that a standalone
 * `cf-ssh-tools 8080` is not taken for cf: a port, then one of the words cf sends.
 */
export function pluginLaunch(argv: string[], commands: readonly CommandSpec[] = COMMAND_SPECS): PluginLaunch | undefined {
  const [portText, word, ...args] = argv;
  if (portText === undefined || word === undefined || !/^[1-9]\d{0,4}$/.test(portText) || Number(portText) > 65535) return undefined;
  const port = Number(portText);
  if (word === 'SendMetadata') return { port, mode: 'metadata' };
  if (word === 'CLI-MESSAGE-UNINSTALL') return { port, mode: 'uninstall' };
  const spec = commands.find((c) => pluginNameOf(c) === word);
  return spec ? { port, mode: 'command', command: spec.name, args } : undefined;
}

export async function runPlugin(launch: PluginLaunch, io: Omit<ContextOptions, 'bin' | 'pluginStore'>): Promise<number> {
  const cf = new CfCli(launch.port);
  switch (launch.mode) {
    case 'metadata':
      await cf.setPluginMetadata(pluginMetadata(COMMAND_SPECS));
      return 0;
    case 'uninstall': {
      // cf goes on uninstalling whatever we answer: a session we could not remove is only reported.
      const ctx = createContext(io);
      await ctx.ownLogin.clear().catch((err: unknown) => ctx.term.err(`Could not remove the cf-ssh-tools session: ${describeError(err).message}`));
      return 0;
    }
    case 'command': {
      const ctx: Context = createContext({
        ...io,
        bin: 'cf',
        pluginStore: new CfPluginLoginStore(cf, (api, sslDisabled) => describeApi(ctx, api, sslDisabled, ctx.term.notice)),
      });
      return runCli([launch.command, ...launch.args], ctx);
    }
  }
}

/** What the process runs: cf's launch when argv is one, else a standalone command. bin.ts and the tests' in-process runs both start here. */
export function runArgv(argv: string[], io: Omit<ContextOptions, 'bin' | 'pluginStore'>): Promise<number> {
  if (argv[0] === PROXY_DIAL) return relayThroughProxy(argv.slice(1), io.streams, io.env);
  const launch = pluginLaunch(argv);
  return launch ? runPlugin(launch, io) : runCli(argv, createContext(io));
}
