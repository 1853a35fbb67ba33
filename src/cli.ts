// Builds the commander program from the command specs, runs it, and turns whatever happened
// into output and an exit code. Never exits the process itself. Help and the version are
// answered without commander, which is loaded only for a command.
import type { Command, CommanderError, Option } from 'commander';
import type { ArgumentSpec, CommandInput, CommandRun, CommandSpec, OptionSpec } from './commands/command-spec.js';
import { COMMAND_NAMES, COMMAND_SPECS, type CommandName, SPECS } from './commands/specs.js';
import type { Context } from './context.js';
import { describeError, StoppedError, UsageError } from './errors.js';
import { commandHelp, programHelp } from './io/help.js';
import { pluginNameOf } from './plugin/names.js';
import { VERSION } from './version.js';

/** Loaded on demand, so a command pays only for the modules it uses. */
const COMMANDS: { [N in CommandName]: () => Promise<CommandRun<(typeof SPECS)[N]>> } = {
  ssh: () => import('./commands/ssh.js').then((m) => m.run),
  'enable-ssh': () => import('./commands/enable-ssh.js').then((m) => m.run),
  'disable-ssh': () => import('./commands/disable-ssh.js').then((m) => m.run),
  'ssh-enabled': () => import('./commands/ssh-enabled.js').then((m) => m.run),
  'allow-space-ssh': () => import('./commands/allow-space-ssh.js').then((m) => m.run),
  'disallow-space-ssh': () => import('./commands/disallow-space-ssh.js').then((m) => m.run),
  'space-ssh-allowed': () => import('./commands/space-ssh-allowed.js').then((m) => m.run),
  'ssh-audit': () => import('./commands/ssh-audit.js').then((m) => m.run),
  'ssh-code': () => import('./commands/ssh-code.js').then((m) => m.run),
  tunnel: () => import('./commands/tunnel.js').then((m) => m.run),
  'web-ssh': () => import('./commands/web-ssh.js').then((m) => m.run),
  'connect-to-service': () => import('./commands/connect-to-service.js').then((m) => m.run),
  copy: () => import('./commands/copy.js').then((m) => m.run),
  login: () => import('./commands/login.js').then((m) => m.run),
  logout: () => import('./commands/logout.js').then((m) => m.run),
  target: () => import('./commands/target.js').then((m) => m.run),
};

const isCommandName = (name: string): name is CommandName => Object.hasOwn(SPECS, name);

/** Commands that make a request only sometimes (a revocable token, a new target): axios loads at their first. */
const SOMETIMES_REQUESTING: ReadonlySet<CommandName> = new Set(['logout', 'target']);

type Commander = typeof import('commander');

/**
 * What needs no command: the program's help (no arguments, --help, -h, help) and --version.
 * The entry point answers these before loading anything a command needs.
 */
export function answerWithoutCommand(argv: readonly string[], bin: string): string | undefined {
  if (argv.length > 1) return undefined;
  const [only] = argv;
  if (only === undefined || only === '--help' || only === '-h' || only === 'help') return programHelp(COMMAND_SPECS, bin).trimEnd();
  if (only === '--version' || only === '-v') return VERSION;
  return undefined;
}

/** "--app-instance-index, -i" with value INDEX → commander's "-i, --app-instance-index <INDEX>". */
function commanderOption({ Option }: Commander, spec: OptionSpec): Option {
  const names = spec.flag.split(',').map((s) => s.trim());
  const short = names.find((n) => /^-[^-]$/.test(n));
  const long = names.find((n) => n.startsWith('--'));
  const takesValue = spec.kind === 'value' || spec.kind === 'values';
  const flags = [short, long].filter(Boolean).join(', ') + (takesValue ? ` <${spec.value ?? 'VALUE'}>` : '');
  const option = new Option(flags, spec.description);
  if (spec.kind === 'values') option.argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]);
  // -tt is -t twice.
  else if (spec.kind === 'count') option.preset(1).argParser((_value: unknown, previous: number | undefined) => (previous ?? 0) + 1);
  return option;
}

/** What commander parsed, as the spec's typed values: every key present, with its kind's empty value when not given. */
function commandInput(spec: CommandSpec, options: readonly { spec: OptionSpec; option: Option }[], command: Command): CommandInput<CommandSpec> {
  const parsed = command.opts();
  const optionValues = Object.fromEntries(
    options.map(({ spec: option, option: made }) => {
      const raw: unknown = parsed[made.attributeName()];
      switch (option.kind) {
        case 'flag':
          return [option.key, made.negate ? raw === false : raw === true];
        case 'value':
          return [option.key, typeof raw === 'string' ? raw : undefined];
        case 'values':
          return [option.key, Array.isArray(raw) ? raw : []];
        case 'count':
          return [option.key, typeof raw === 'number' ? raw : 0];
      }
    }),
  );
  const positional = command.processedArgs as unknown[];
  const args = Object.fromEntries(
    (spec.arguments ?? []).map((argument, i) => {
      const raw = positional[i];
      if (argument.kind === 'rest') return [argument.key, Array.isArray(raw) ? raw.map(String) : []];
      return [argument.key, typeof raw === 'string' ? raw : undefined];
    }),
  );
  return { args, options: optionValues };
}

function commanderArgument(argument: ArgumentSpec): string {
  switch (argument.kind) {
    case 'required':
      return `<${argument.name}>`;
    case 'optional':
      return `[${argument.name}]`;
    case 'rest':
      return `[${argument.name}...]`;
  }
}

/**
 * The flag whose value is missing, as the user typed it: commander names the option by all its
 * forms. Only the last argument can lack its value: `-c`, `--command`, or a group such as `-Tc`.
 */
function flagMissingItsValue(argv: readonly string[]): string {
  const last = argv.at(-1) ?? '';
  return last.startsWith('--') ? last : `-${last.slice(-1)}`;
}

/** commander's error, in the cf CLI's words (go-flags quotes a flag `like this'). */
function usageMessage(err: CommanderError, argv: readonly string[]): string {
  const quoted = /'([^']+)'/.exec(err.message)?.[1] ?? '';
  switch (err.code) {
    case 'commander.unknownOption':
      return `unknown flag \`${quoted.replace(/^--?/, '')}'`;
    case 'commander.missingArgument':
      return `the required argument \`${quoted}\` was not provided`;
    case 'commander.optionMissingArgument':
      return `expected argument for flag \`${flagMissingItsValue(argv)}'`;
    default:
      return err.message.replace(/^error: /, '');
  }
}

export async function runCli(argv: string[], ctx: Context): Promise<number> {
  const { term } = ctx;
  const answer = answerWithoutCommand(argv, ctx.bin);
  if (answer !== undefined) {
    term.out(answer);
    return 0;
  }
  const [first = ''] = argv;
  if (!first.startsWith('-') && first !== 'help' && !isCommandName(first)) {
    term.err(`'${first}' is not a registered command. See '${ctx.bin} help'.`);
    return 1;
  }
  const current = COMMAND_SPECS.find((s) => s.name === first);

  const commander = await import('commander');
  const { Command, CommanderError } = commander;
  let exitCode = 0;
  const program = new Command(ctx.bin)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => term.streams.stdout.write(s),
      writeErr: (s) => term.streams.stderr.write(s),
      outputError: () => undefined, // errors are written below, in cf's words
    })
    .version(VERSION, '-v, --version', 'Print the version')
    .configureHelp({ formatHelp: () => programHelp(COMMAND_SPECS, ctx.bin) });

  for (const name of COMMAND_NAMES) {
    const spec: CommandSpec = SPECS[name];
    const command = program.command(spec.name).description(spec.description).allowExcessArguments(true);
    for (const argument of spec.arguments ?? []) command.argument(commanderArgument(argument));
    const options = (spec.options ?? []).map((option) => ({ spec: option, option: commanderOption(commander, option) }));
    for (const { option } of options) command.addOption(option);
    command.configureHelp({ formatHelp: () => `${helpFor(ctx, spec)}\n` });
    command.action(async (...params: unknown[]) => {
      const self = params[params.length - 1] as Command;
      const declared = spec.arguments ?? [];
      if (!declared.some((a) => a.kind === 'rest') && self.args.length > declared.length) {
        throw new UsageError(`unexpected argument "${self.args.slice(declared.length).join(' ')}"`);
      }
      // Parsed: the command will run. axios loads meanwhile, for the first request, unless it may make none.
      if (!SOMETIMES_REQUESTING.has(name)) ctx.preloadHttp();
      // The one place where a spec's typed input meets the generic parse: each run is typed by its spec.
      const run = (await COMMANDS[name]()) as CommandRun<CommandSpec>;
      const dashDash = argv.indexOf('--');
      const input = commandInput(spec, options, self);
      exitCode = (await run(ctx, dashDash < 0 ? input : { ...input, afterDashDash: argv.length - dashDash - 1 })) ?? 0;
    });
  }

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (['commander.helpDisplayed', 'commander.help', 'commander.version'].includes(err.code)) return 0;
      // A flag or argument that did not parse: the message, an empty line, then the help.
      term.err(`Incorrect Usage: ${usageMessage(err, argv)}`);
      term.err();
      term.out(helpFor(ctx, current));
      return 1;
    }
    // Stopped by a signal or a closed stdout, and cleaned up: the user knows why, nothing to add.
    if (err instanceof StoppedError) return err.exitCode;
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
  if (!spec) return programHelp(COMMAND_SPECS, ctx.bin).trimEnd();
  // Inside cf, a command goes by its name there (cf xssh), which its help must show.
  const name = ctx.bin === 'cf' ? (pluginNameOf(spec) ?? spec.name) : spec.name;
  return commandHelp(spec, ctx.bin, name).trimEnd();
}
