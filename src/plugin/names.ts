// The names commands go by inside cf. scripts/pkg --rename COMMAND=NAME replaces RENAMES in the
// bundle it builds, for users whose other plugins already own a name.
import type { CommandSpec } from '../commands/command-spec.js';

const RENAMES: Readonly<Record<string, string>> = {};

/** The command's name inside cf, or undefined for a standalone-only command. */
export function pluginNameOf(spec: CommandSpec): string | undefined {
  return spec.pluginName === undefined ? undefined : (RENAMES[spec.name] ?? spec.pluginName);
}
