// What cf learns about the plugin at install (SetPluginMetadata), made from the command specs:
// the commands that have a name inside cf, by that name, with cf's help text for them.
import type { CommandSpec, OptionSpec } from '../commands/command-spec.js';
import { NAME, VERSION } from '../version.js';
import type { PluginMetadata, Version } from './cf-rpc.js';
import { pluginNameOf } from './names.js';

/** The plugin library's protocol version; cf refuses a Major above 1. */
const LIBRARY_VERSION: Version = { Major: 1, Minor: 0, Build: 0 };
/**
 * The oldest cf we have run the plugin in: 7.3.0 (install, commands, uninstall). The RPC is
 * said to be unchanged since 6.14, but nothing older was tested, so older cf refuse us with
 * their own message.
 */
const MIN_CLI_VERSION: Version = { Major: 7, Minor: 3, Build: 0 };

function parseVersion(version: string): Version {
  const match = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (!match) throw new Error(`package.json: version ${version} is not MAJOR.MINOR.BUILD`);
  return { Major: Number(match[1]), Minor: Number(match[2]), Build: Number(match[3]) };
}

/**
 * cf's help prints a one-letter key as -K and any other as --K, so a key is the flag without
 * its leading dashes: "L" shows as -L, "app-instance-index, -i" as --app-instance-index, -i.
 */
function optionKey(option: OptionSpec): string {
  return option.flag.replace(/^-+/, '');
}

export function pluginMetadata(commands: readonly CommandSpec[]): PluginMetadata {
  return {
    Name: NAME,
    Version: parseVersion(VERSION),
    LibraryVersion: LIBRARY_VERSION,
    MinCliVersion: MIN_CLI_VERSION,
    Commands: commands.flatMap((spec) => {
      const name = pluginNameOf(spec);
      return name
        ? [
            {
              Name: name,
              Alias: '',
              HelpText: spec.description,
              UsageDetails: {
                Usage: spec.usage.replaceAll('{cmd}', `cf ${name}`),
                Options: new Map((spec.options ?? []).map((option) => [optionKey(option), option.description])),
              },
            },
          ]
        : [];
    }),
  };
}
