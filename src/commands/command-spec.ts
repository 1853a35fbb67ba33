// The shape of a command's description, and the types a command's run function gets from it:
// each option and argument declared once (in specs.ts) is a typed property of its input.
import type { Context } from '../context.js';

/** flag: on or off; value: one string; values: repeatable, each use one string; count: repeatable, no value (-tt). */
export type OptionKind = 'flag' | 'value' | 'values' | 'count';

export interface OptionSpec {
  /** As cf writes it: "--app-instance-index, -i", "-L", "--process". */
  readonly flag: string;
  /** The property of the command's options that holds it. */
  readonly key: string;
  readonly kind: OptionKind;
  /** The argument's name in help, for value and values. */
  readonly value?: string;
  readonly description: string;
}

/** required: APP_NAME; optional: [APP_NAME]; rest: [COMMAND...], everything left over. */
export type ArgumentKind = 'required' | 'optional' | 'rest';

export interface ArgumentSpec {
  /** As usage and cf's messages show it: APP_NAME. */
  readonly name: string;
  readonly key: string;
  readonly kind: ArgumentKind;
}

export interface CommandSpec {
  /** The command in the standalone binary (cf-ssh-tools NAME). */
  readonly name: string;
  /** The command inside cf; absent for standalone-only commands (cf's own login, logout, target). */
  readonly pluginName?: string;
  readonly description: string;
  /** {cmd} stands for "cf-ssh-tools NAME" or "cf PLUGIN_NAME"; may span lines. */
  readonly usage: string;
  readonly arguments?: readonly ArgumentSpec[];
  readonly options?: readonly OptionSpec[];
  /** Variables the command reads, with what they do. */
  readonly environment?: Readonly<Record<string, string>>;
  readonly seeAlso?: readonly string[];
}

type OptionValue<K extends OptionKind> = K extends 'flag' ? boolean : K extends 'value' ? string | undefined : K extends 'values' ? string[] : number;
type ArgumentValue<K extends ArgumentKind> = K extends 'required' ? string : K extends 'optional' ? string | undefined : string[];

type OptionsOf<S extends CommandSpec> = S['options'] extends readonly OptionSpec[]
  ? { readonly [O in S['options'][number] as O['key']]: OptionValue<O['kind']> }
  : Record<string, never>;

type ArgumentsOf<S extends CommandSpec> = S['arguments'] extends readonly ArgumentSpec[]
  ? { readonly [A in S['arguments'][number] as A['key']]: ArgumentValue<A['kind']> }
  : Record<string, never>;

export interface CommandInput<S extends CommandSpec> {
  args: ArgumentsOf<S>;
  options: OptionsOf<S>;
  /** How many of the rest argument's words came after `--` (the last ones): those before it are the command's own. */
  afterDashDash?: number;
}

/** A command: typed arguments and options in, output through ctx.term, exit code out (0 when void). */
export type CommandRun<S extends CommandSpec> = (ctx: Context, input: CommandInput<S>) => Promise<number | void>;
