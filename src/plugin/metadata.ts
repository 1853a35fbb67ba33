// What cf learns about the plugin at install (SetPluginMetadata), made from plugin-manifest.yml:
// the commands that have a plugin_name, by that name, with cf's help text for them.
import type { Manifest, OptionSpec } from '../manifest.js';
import type { PluginMetadata, Version } from './cf-rpc.js';

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
  if (!match) throw new Error(`plugin-manifest.yml: version ${version} is not MAJOR.MINOR.BUILD`);
  return { Major: Number(match[1]), Minor: Number(match[2]), Build: Number(match[3]) };
}

/**
 * cf's help prints a one-letter key as -K and any other as --K, so a key is the flag without
 * its leading dashes: "L" shows as -L, "app-instance-index, -i" as --app-instance-index, -i.
 */
function optionKey(option: OptionSpec): string {
  return option.flag.replace(/^-+/, '');
}

export function pluginMetadata(manifest: Manifest): PluginMetadata {
  return {
    Name: manifest.name,
    Version: parseVersion(manifest.version),
    LibraryVersion: LIBRARY_VERSION,
    MinCliVersion: MIN_CLI_VERSION,
    Commands: manifest.commands.flatMap((spec) =>
      spec.plugin_name
        ? [
            {
              Name: spec.plugin_name,
              Alias: '',
              HelpText: spec.description,
              UsageDetails: {
                Usage: spec.usage.replaceAll('{cmd}', `cf ${spec.plugin_name}`),
                Options: new Map((spec.options ?? []).map((option) => [optionKey(option), option.description])),
              },
            },
          ]
        : [],
    ),
  };
}
