// `ssh APP --all-instances -c CMD` and `--instances LIST`: the options that go with them, checked,
// then the run and how it is told: a summary line on stderr (or a JSON document on stdout), and
// an exit status that is 0 only when the command succeeded everywhere it ran.
import { type AllInstancesResult, type InstanceEnd, type InstanceOutput, instanceLabel, runOnAllInstances } from '../actions/all-instances.js';
import { loggedInClients } from '../actions/cf-clients.js';
import type { Context } from '../context.js';
import { signalExitCode, UsageError } from '../errors.js';
import { Collected, PrefixedLines } from '../io/prefixed-lines.js';
import type { CommandInput } from './command-spec.js';
import type { SPECS } from './specs.js';

type SshOptions = CommandInput<typeof SPECS.ssh>['options'];

/** How the instances' output is shown: lines as they come, a block per instance as it ends, or kept for JSON. */
type OutputMode = 'lines' | 'group' | 'json';

const DEFAULT_MAX_PARALLEL = 8;
/** A bound on --max-parallel: each instance is a connection and a one-time code. */
const MAX_PARALLEL = 64;

/** Whether the run is one on many instances: --all-instances, --instances, or an option only they take. */
export function wantsManyInstances(options: SshOptions): boolean {
  return options.allInstances || options.instances !== undefined;
}

/** "0,2-4" → [0, 2, 3, 4]: ascending, each once. */
export function instanceList(value: string): number[] {
  const refuse = () => new UsageError(`--instances takes indexes and ranges separated by commas (0,2-4), not '${value}'`);
  const indexes = new Set<number>();
  for (const part of value.split(',')) {
    const range = /^(\d{1,6})(?:-(\d{1,6}))?$/.exec(part.trim());
    if (!range) throw refuse();
    const first = Number(range[1]);
    const last = range[2] === undefined ? first : Number(range[2]);
    if (last < first) throw refuse();
    for (let index = first; index <= last; index += 1) indexes.add(index);
  }
  return [...indexes].sort((a, b) => a - b);
}

function maxParallel(value: string | undefined): number {
  if (value === undefined) return DEFAULT_MAX_PARALLEL;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > MAX_PARALLEL) {
    throw new UsageError(`--max-parallel takes a number from 1 to ${MAX_PARALLEL}, not '${value}'`);
  }
  return Number(value);
}

/** Refuses what a run on many instances cannot do, and the options that need one without it. */
function checkedMode(options: SshOptions, hasCommand: boolean, sshArgs: readonly string[]): OutputMode {
  const many = wantsManyInstances(options);
  const onlyWithMany = [options.maxParallel !== undefined && '--max-parallel', options.group && '--group', options.json && '--json'].filter(Boolean);
  if (!many) {
    if (onlyWithMany.length > 0) throw new UsageError(`${onlyWithMany.join(', ')} go${onlyWithMany.length === 1 ? 'es' : ''} with --all-instances or --instances`);
    return 'lines';
  }
  if (options.allInstances && options.instances !== undefined) throw new UsageError('The following arguments cannot be used together: --all-instances, --instances');
  if (!hasCommand) throw new UsageError('--all-instances and --instances run a command: give it with -c COMMAND');
  const refused = [
    options.appInstanceIndex !== undefined && '--app-instance-index, -i',
    options.skipRemoteExecution && '--skip-remote-execution, -N',
    options.forwards.length > 0 && '-L',
    (options.forcePseudoTty || options.requestPseudoTty > 0) && 'a pseudo-tty',
    options.sshClient !== undefined && '--ssh-client',
    sshArgs.length > 0 && 'SSH_ARGS',
  ].filter(Boolean);
  if (refused.length > 0) throw new UsageError(`--all-instances and --instances cannot be used with ${refused.join(', ')}`);
  if (options.group && options.json) throw new UsageError('The following arguments cannot be used together: --group, --json');
  return options.json ? 'json' : options.group ? 'group' : 'lines';
}

/** One instance's output, each line marked with the instance: on the terminal as it comes, or kept. */
function instanceOutput(ctx: Context, mode: OutputMode, label: string): InstanceOutput {
  const prefix = `[${label}] `;
  const terminal = ctx.term.streams;
  const sinks = {
    stdout: mode === 'lines' ? new PrefixedLines(prefix, terminal.stdout) : new Collected(),
    stderr: mode === 'lines' ? new PrefixedLines(prefix, terminal.stderr) : new Collected(),
  };
  return {
    ...sinks,
    finish(failure) {
      if (mode === 'json') return;
      for (const name of ['stdout', 'stderr'] as const) {
        const sink = sinks[name];
        // In a group the whole block is written at once, as the instance ends.
        const lines = sink instanceof PrefixedLines ? sink : new PrefixedLines(prefix, terminal[name]);
        if (sink instanceof Collected) lines.write(sink.bytes());
        lines.flush();
      }
      if (failure) terminal.stderr.write(`${prefix}${failure}\n`);
    },
    kept: (name) => (mode === 'json' ? (sinks[name] as Collected).bytes() : Buffer.alloc(0)),
  };
}

/** The exit status an instance's end stands for; 0 for one that did not run. */
function exitStatusOf(end: InstanceEnd): number {
  if (end.kind === 'exited') return end.code;
  if (end.kind === 'signal') return signalExitCode(end.signal);
  return end.kind === 'failed' ? 1 : 0;
}

function endText(end: InstanceEnd): string {
  switch (end.kind) {
    case 'exited':
      return `exit ${end.code}`;
    case 'signal':
      return `signal ${end.signal}`;
    case 'failed':
      return 'failed';
    case 'skipped':
      return end.state;
  }
}

/** One line: how many succeeded, and which failed or did not run, each with how. */
function summaryLine({ appName, processType, runs }: AllInstancesResult): string {
  const label = (index: number) => instanceLabel(processType, index);
  const ran = runs.filter((run) => run.end.kind !== 'skipped');
  const succeeded = ran.filter((run) => exitStatusOf(run.end) === 0);
  const failed = ran.filter((run) => exitStatusOf(run.end) !== 0);
  const skipped = runs.filter((run) => run.end.kind === 'skipped');
  const parts = [`${appName}: ${succeeded.length} of ${ran.length} instance${ran.length === 1 ? '' : 's'} succeeded`];
  if (failed.length > 0) parts.push(`failed: ${failed.map((run) => `${label(run.index)} (${endText(run.end)})`).join(', ')}`);
  if (skipped.length > 0) parts.push(`not running: ${skipped.map((run) => `${label(run.index)} (${endText(run.end)})`).join(', ')}`);
  return parts.join('; ');
}

function jsonDocument({ appName, processType, runs }: AllInstancesResult): unknown {
  return {
    app: appName,
    process: processType,
    instances: runs.map(({ index, end, stdout, stderr, durationMs }) => ({
      index,
      ...(end.kind === 'exited' && { exitStatus: end.code }),
      ...(end.kind === 'signal' && { signal: end.signal }),
      ...(end.kind === 'failed' && { error: end.error }),
      ...(end.kind === 'skipped' && { notRunning: end.state }),
      stdout: stdout.toString('utf8'),
      stderr: stderr.toString('utf8'),
      durationMs,
    })),
  };
}

/**
 * The run on many instances, when the options ask for one; undefined when they do not (after
 * refusing the options that need one). `command` is the command as it will be sent.
 */
export async function runOnManyInstances(ctx: Context, appName: string, options: SshOptions, command: string | undefined, sshArgs: readonly string[]): Promise<number | undefined> {
  const output = checkedMode(options, command !== undefined, sshArgs);
  if (!wantsManyInstances(options) || command === undefined) return undefined;
  const request = {
    appName,
    processType: options.process ?? 'web',
    indexes: options.instances === undefined ? undefined : instanceList(options.instances),
    command,
    maxParallel: maxParallel(options.maxParallel),
    skipHostValidation: options.skipHostValidation,
    outputFor: (label: string) => instanceOutput(ctx, output, label),
  };
  const cf = await loggedInClients(ctx, 'space', ctx.term.notice);
  const result = await runOnAllInstances(ctx, cf, request, ctx.term);
  if (output === 'json') ctx.term.out(JSON.stringify(jsonDocument(result), null, 2));
  ctx.term.err(summaryLine(result));
  // A named instance that is not running was asked for and did not run: a failure; --all-instances only skips it.
  const failure = result.runs.find((run) => exitStatusOf(run.end) !== 0 || (run.end.kind === 'skipped' && request.indexes !== undefined));
  if (failure) return exitStatusOf(failure.end) || 1;
  return result.runs.some((run) => run.end.kind !== 'skipped') ? 0 : 1;
}
