// Builds the commander program from plugin-manifest.yml and the command modules, runs it,
// and turns whatever happened into output and an exit code. Never exits the process itself.
import { Command, CommanderError, Option } from 'commander';
import { type Context, VERSION } from './context.js';
import { describeError, UsageError } from './errors.js';
import { commandHelp, programHelp } from './io/help.js';
import { type CommandSpec, manifest, type OptionSpec } from './manifest.js';

export interface CommandInput {
  args: string[];
  options: Record<string, unknown>;
}

/** A command: options and arguments in, output through ctx.term, exit code out (0 when void). */
export type CommandRun = (ctx: Context, input: CommandInput) => Promise<number | void>;

/** Loaded on demand, so a command pays only for the modules it uses. */
const COMMANDS: Record<string, () => Promise<CommandRun>> = {
  ssh: () => import('./commands/ssh.js').then((m) => m.run),
  'enable-ssh': () => import('./commands/enable-ssh.js').then((m) => m.run),
  'disable-ssh': () => import('./commands/disable-ssh.js').then((m) => m.run),
  'ssh-enabled': () => import('./commands/ssh-enabled.js').then((m) => m.run),
  'allow-space-ssh': () => import('./commands/allow-space-ssh.js').then((m) => m.run),
  'disallow-space-ssh': () => import('./commands/disallow-space-ssh.js').then((m) => m.run),
  'space-ssh-allowed': () => import('./commands/space-ssh-allowed.js').then((m) => m.run),
  'ssh-code': () => import('./commands/ssh-code.js').then((m) => m.run),
  'connect-to-service': () => import('./commands/connect-to-service.js').then((m) => m.run),
  login: () => import('./commands/login.js').then((m) => m.run),
  logout: () => import('./commands/logout.js').then((m) => m.run),
  target: () => import('./commands/target.js').then((m) => m.run),
};

/** "--app-instance-index, -i" with value INDEX → commander's "-i, --app-instance-index <INDEX>". */
function commanderOption(spec: OptionSpec): Option {
  const names = spec.flag.split(',').map((s) => s.trim());
  const short = names.find((n) => /^-[^-]$/.test(n));
  const long = names.find((n) => n.startsWith('--'));
  const flags = [short, long].filter(Boolean).join(', ') + (spec.value ? ` <${spec.value}>` : '');
  const option = new Option(flags, spec.description);
  if (spec.repeatable && spec.value) option.argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]);
  // A repeatable flag without a value counts its uses (-tt is -t twice).
  else if (spec.repeatable) option.preset(1).argParser((_value: unknown, previous: number | undefined) => (previous ?? 0) + 1);
  return option;
}

function commanderArgument(name: string): string {
  const optional = name.startsWith('[');
  const bare = name.replace(/[[\]]/g, '');
  return optional ? `[${bare}]` : `<${bare}>`;
}

/** commander's error, in the cf CLI's words (go-flags quotes a flag `like this'). */
function usageMessage(err: CommanderError): string {
  const quoted = /'([^']+)'/.exec(err.message)?.[1] ?? '';
  switch (err.code) {
    case 'commander.unknownOption':
      return `unknown flag \`${quoted.replace(/^--?/, '')}'`;
    case 'commander.missingArgument':
      return `the required argument \`${quoted}\` was not provided`;
    case 'commander.optionMissingArgument':
      return `expected argument for flag \`${quoted.split(' ')[0].split(',').pop()?.trim()}'`;
    default:
      return err.message.replace(/^error: /, '');
  }
}

export async function runCli(argv: string[], ctx: Context): Promise<number> {
  const { term } = ctx;
  const specs = manifest().commands;
  let exitCode = 0;

  const program = new Command(ctx.bin)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => term.streams.stdout.write(s),
      writeErr: (s) => term.streams.stderr.write(s),
      outputError: () => undefined, // errors are written below, in cf's words
    })
    .version(VERSION, '-v, --version', 'Print the version')
    .configureHelp({ formatHelp: () => programHelp(manifest(), ctx.bin) });

  for (const spec of specs) {
    const command = program.command(spec.name).description(spec.description).allowExcessArguments(true);
    for (const arg of spec.arguments ?? []) command.argument(commanderArgument(arg));
    for (const option of spec.options ?? []) command.addOption(commanderOption(option));
    command.configureHelp({ formatHelp: () => commandHelp(asSeen(ctx, spec), ctx.bin) });
    command.action(async (...params: unknown[]) => {
      const self = params[params.length - 1] as Command;
      const declared = spec.arguments ?? [];
      if (!declared.some((a) => a.endsWith('...]')) && self.args.length > declared.length) {
        throw new UsageError(`unexpected argument "${self.args.slice(declared.length).join(' ')}"`);
      }
      const run = await COMMANDS[spec.name]();
      const args = (self.processedArgs as unknown[]).flat().filter((a): a is string => typeof a === 'string');
      exitCode = (await run(ctx, { args, options: self.opts() })) ?? 0;
    });
  }

  if (argv.length === 0) {
    term.out(programHelp(manifest(), ctx.bin).trimEnd());
    return 0;
  }
  const known = new Set([...specs.map((s) => s.name), 'help']);
  if (!argv[0].startsWith('-') && !known.has(argv[0])) {
    term.err(`'${argv[0]}' is not a registered command. See '${ctx.bin} help'.`);
    return 1;
  }
  const current = specs.find((s) => s.name === argv[0]);

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (['commander.helpDisplayed', 'commander.help', 'commander.version'].includes(err.code)) return 0;
      // A flag or argument that did not parse: the message, an empty line, then the help.
      term.err(`Incorrect Usage: ${usageMessage(err)}`);
      term.err();
      term.out(helpFor(ctx, current));
      return 1;
    }
    const { message, exitCode: code } = describeError(err);
    term.err(message);
    term.out('FAILED');
    if (err instanceof UsageError) {
      term.out();
      term.out(helpFor(ctx, current));
    }
    return code;
  }
}

function helpFor(ctx: Context, spec: CommandSpec | undefined): string {
  return (spec ? commandHelp(asSeen(ctx, spec), ctx.bin) : programHelp(manifest(), ctx.bin)).trimEnd();
}

/** Inside cf, a command goes by its plugin_name (cf xssh), which its help must show. */
function asSeen(ctx: Context, spec: CommandSpec): CommandSpec {
  return ctx.bin === 'cf' && spec.plugin_name ? { ...spec, name: spec.plugin_name } : spec;
}
