// Writes what is made from the command specs (src/commands/specs.ts) for readers outside the
// program: plugin-manifest.yml (cf users and plugin repositories read it) and the README's
// command table. `npm run generate` writes them; a unit test fails when they are not current.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { stringify } from 'yaml';
import type { ArgumentSpec, CommandSpec, OptionSpec } from '../src/commands/command-spec.js';
import { COMMAND_SPECS } from '../src/commands/specs.js';
import { NAME, VERSION } from '../src/version.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const MANIFEST_FILE = path.join(ROOT, 'plugin-manifest.yml');
export const README_FILE = path.join(ROOT, 'README.md');

const MANIFEST_HEADER = `# Made by \`npm run generate\` from src/commands/specs.ts: do not edit by hand.
#
# name           the command in the standalone binary (cf-ssh-tools NAME)
# plugin_name    the command inside cf (cf NAME); cf refuses plugin commands named
#                like its own core commands, hence the x prefix; a command without
#                one exists only standalone (inside cf, cf's own login, logout and
#                target hold the login)
# usage          {cmd} stands for "cf-ssh-tools NAME" or "cf PLUGIN_NAME"; may span lines
# arguments      positional arguments; a trailing "..." takes the rest, [X] is optional
# options        flags as cf writes them; "value" names the argument a flag takes,
#                "repeatable" lets it be given more than once
# environment    variables the command reads, with what they do
`;

function argumentText(argument: ArgumentSpec): string {
  if (argument.kind === 'rest') return `[${argument.name}...]`;
  return argument.kind === 'optional' ? `[${argument.name}]` : argument.name;
}

function optionEntry(option: OptionSpec): Record<string, unknown> {
  return {
    flag: option.flag,
    ...(option.value ? { value: option.value } : {}),
    ...(option.kind === 'values' || option.kind === 'count' ? { repeatable: true } : {}),
    description: option.description,
  };
}

function commandEntry(spec: CommandSpec): Record<string, unknown> {
  return {
    name: spec.name,
    ...(spec.pluginName ? { plugin_name: spec.pluginName } : {}),
    description: spec.description,
    usage: spec.usage,
    ...(spec.arguments ? { arguments: spec.arguments.map(argumentText) } : {}),
    ...(spec.options ? { options: spec.options.map(optionEntry) } : {}),
    ...(spec.environment ? { environment: spec.environment } : {}),
    ...(spec.seeAlso ? { see_also: spec.seeAlso } : {}),
  };
}

export function manifestYaml(): string {
  return MANIFEST_HEADER + stringify({ name: NAME, version: VERSION, commands: COMMAND_SPECS.map(commandEntry) }, { lineWidth: 0 });
}

const TABLE_START = '<!-- commands: made by `npm run generate` -->';
const TABLE_END = '<!-- end of commands -->';

export function commandTable(): string {
  const rows = COMMAND_SPECS.map((spec) => {
    const inside = spec.pluginName ? `\`cf ${spec.pluginName}\`` : `(cf's own \`cf ${spec.name}\`)`;
    return `| \`${NAME} ${spec.name}\` | ${inside} | ${spec.description} |`;
  });
  return [TABLE_START, '| standalone | inside cf | what it does |', '| --- | --- | --- |', ...rows, TABLE_END].join('\n');
}

/** The README with its command table replaced by the current one. */
export function readmeWithTable(readme: string): string {
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start < 0 || end < start) throw new Error(`README.md has no "${TABLE_START}" ... "${TABLE_END}" section`);
  return readme.slice(0, start) + commandTable() + readme.slice(end + TABLE_END.length);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(MANIFEST_FILE, manifestYaml());
  writeFileSync(README_FILE, readmeWithTable(readFileSync(README_FILE, 'utf8')));
  console.log('wrote plugin-manifest.yml and the README command table');
}
