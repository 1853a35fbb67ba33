// Help text in the cf CLI's layout: NAME / USAGE / OPTIONS / SEE ALSO, three-space indents.
import type { CommandSpec } from '../commands/command-spec.js';
import { VERSION } from '../version.js';

/** What users type to run us outside cf. */
export const STANDALONE_NAME = 'cf-ssh-tools';

const INDENT = '   ';

/** `name` is what the user types after `prefix`: the command's own name, or its name inside cf. */
export function commandHelp(spec: CommandSpec, prefix: string, name = spec.name): string {
  const lines = ['NAME:', `${INDENT}${name} - ${spec.description}`, '', 'USAGE:'];
  const usage = spec.usage.replaceAll('{cmd}', `${prefix} ${name}`);
  lines.push(...usage.split('\n').map((line) => `${INDENT}${line}`));
  const options = spec.options ?? [];
  if (options.length > 0) {
    const width = Math.max(...options.map((o) => o.flag.length)) + 6;
    lines.push('', 'OPTIONS:');
    for (const option of options) lines.push(`${INDENT}${option.flag.padEnd(width)}${option.description}`);
  }
  const environment = Object.entries(spec.environment ?? {});
  if (environment.length > 0) {
    lines.push('', 'ENVIRONMENT:');
    for (const [name, description] of environment) lines.push(`${INDENT}${`${name}=`.padEnd(29)}${description}`);
  }
  if (spec.seeAlso?.length) lines.push('', 'SEE ALSO:', `${INDENT}${spec.seeAlso.join(', ')}`);
  return `${lines.join('\n')}\n`;
}

export function programHelp(commands: readonly CommandSpec[], bin: string): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 4;
  const lines = [
    `${bin} ${VERSION}: SSH into Cloud Foundry app instances and their services.`,
    '',
    'USAGE:',
    `${INDENT}${bin} COMMAND [ARGUMENTS] [OPTIONS]`,
    '',
    'COMMANDS:',
    ...commands.map((c) => `${INDENT}${c.name.padEnd(width)}${c.description}`),
    '',
    `Use '${bin} help COMMAND' or '${bin} COMMAND --help' for more on a command.`,
  ];
  return `${lines.join('\n')}\n`;
}
