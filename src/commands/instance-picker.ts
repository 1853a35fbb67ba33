// The instance picker: when a process runs several instances and no -i was given for an
// interactive shell, show them (index, state, uptime, CPU, memory) and let the user choose a
// running one, asking again after a wrong answer.
import type { App, InstanceStats, Process } from '../cf/cloud-controller.js';
import type { Context } from '../context.js';
import { uptimeText } from '../actions/ssh.js';
import { UserError } from '../errors.js';

/** Wrong answers the picker takes before it gives up. */
const PICKER_ATTEMPTS = 3;

function megabytes(bytes = 0): string {
  return `${Math.round(bytes / 1048576)}M`;
}

export async function chooseInstance(ctx: Context, app: App, process: Process, stats: InstanceStats[]): Promise<number> {
  const { term } = ctx;
  const rows = stats.map((s) => [
    String(s.index),
    s.state,
    uptimeText(s),
    s.usage?.cpu === undefined ? '-' : `${(s.usage.cpu * 100).toFixed(1)}%`,
    s.usage?.mem === undefined ? '-' : `${megabytes(s.usage.mem)} of ${megabytes(s.mem_quota)}`,
  ]);
  const header = ['#', 'state', 'uptime', 'cpu', 'memory'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const line = (cells: string[]) =>
    `  ${cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('   ')
      .trimEnd()}`;
  term.err(`${app.name} runs ${stats.length} ${process.type} instances:`);
  term.err(line(header));
  for (const row of rows) term.err(line(row));
  const firstRunning = stats.find((s) => s.state === 'RUNNING');
  if (!firstRunning) throw new UserError(`None of ${app.name}'s ${stats.length} ${process.type} instances is RUNNING.`);
  for (let attempt = 1; ; attempt += 1) {
    const answer = (await askForInstance(ctx, `Instance (enter for ${firstRunning.index}): `)).trim();
    if (answer === '') return firstRunning.index;
    const problem = whyNot(answer, app, process, stats);
    if (problem === undefined) return Number(answer);
    if (attempt >= PICKER_ATTEMPTS) throw new UserError(`${problem} No instance chosen after ${PICKER_ATTEMPTS} tries: give one with -i INDEX.`);
    term.err(problem);
  }
}

/** Why an answer does not name a running instance; undefined when it does. */
function whyNot(answer: string, app: App, process: Process, stats: InstanceStats[]): string | undefined {
  if (!/^\d+$/.test(answer)) return `'${answer}' is not an instance index.`;
  const chosen = stats.find((s) => s.index === Number(answer));
  if (!chosen) return `${app.name} has no ${process.type} instance ${answer}.`;
  if (chosen.state !== 'RUNNING') return `Instance ${answer} is ${chosen.state}${chosen.details ? ` (${chosen.details})` : ''}, not RUNNING.`;
  return undefined;
}

/** The prompt, with its end of input (Ctrl-D) as one line that says what to do instead; a cancel (exit 130) stays one. */
async function askForInstance(ctx: Context, question: string): Promise<string> {
  try {
    return await ctx.term.prompt(question);
  } catch (err) {
    if (err instanceof UserError && err.exitCode === 1) throw new UserError('No instance chosen (end of input): give one with -i INDEX.');
    throw err;
  }
}
