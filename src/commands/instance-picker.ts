// The instance picker: when a process runs several instances and no -i was given on a
// terminal, show them (index, state, uptime, CPU, memory) and let the user choose.
import type { App, InstanceStats, Process } from '../cf/cloud-controller.js';
import type { Context } from '../context.js';
import { UserError } from '../errors.js';

function duration(seconds = 0): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return d > 0 ? `${d}d${h}h` : h > 0 ? `${h}h${m}m` : `${m}m${Math.floor(seconds % 60)}s`;
}

function megabytes(bytes = 0): string {
  return `${Math.round(bytes / 1048576)}M`;
}

export async function chooseInstance(ctx: Context, app: App, process: Process, stats: InstanceStats[]): Promise<number> {
  const { term } = ctx;
  const rows = stats.map((s) => [
    String(s.index),
    s.state,
    s.state === 'RUNNING' ? duration(s.uptime) : '-',
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
  const firstRunning = stats.find((s) => s.state === 'RUNNING')?.index ?? 0;
  const answer = (await term.prompt(`Instance (enter for ${firstRunning}): `)).trim();
  if (answer === '') return firstRunning;
  if (!/^\d+$/.test(answer)) throw new UserError(`'${answer}' is not an instance index.`);
  return Number(answer);
}
