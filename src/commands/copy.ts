import { loggedInClients } from '../actions/cf-clients.js';
import { type CopyProgress, runCopy } from '../actions/copy.js';
import { parseOperands } from '../actions/copy-operands.js';
import type { Context } from '../context.js';
import { UsageError } from '../errors.js';
import { startProgress } from '../io/progress.js';
import { checkSshSettings } from '../ssh/settings.js';
import type { CommandRun } from './command-spec.js';
import { instanceIndex } from './option-values.js';
import type { SPECS } from './specs.js';

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

/** The bar's text: bytes so far of all, the rate since the start, and the time left at that rate. */
function byteProgress(ctx: Context, startedAt: number) {
  return (done: number, total: number) => {
    const seconds = (ctx.now() - startedAt) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    const eta = rate > 0 ? `ETA ${Math.ceil((total - done) / rate)} s` : 'ETA -';
    return `${formatBytes(done)}/${formatBytes(total)} ${formatBytes(Math.round(rate))}/s ${eta}`;
  };
}

/** A bar on stderr when it is a terminal and not --quiet: nothing otherwise. */
function progressOn(ctx: Context, quiet: boolean): CopyProgress {
  let bar: Promise<{ update(done: number, total: number): void; stop(): void }> | undefined;
  let done = 0;
  let total = 0;
  return {
    begin(label, totalBytes) {
      if (quiet) return;
      total = totalBytes;
      bar = startProgress(ctx.term, label, byteProgress(ctx, ctx.now()));
    },
    advance(bytes) {
      done += bytes;
      void bar?.then((b) => b.update(done, total));
    },
    end() {
      void bar?.then((b) => b.stop());
    },
  };
}

export const run: CommandRun<typeof SPECS.copy> = async (ctx, { args, options }) => {
  const { source, destination, appName } = parseOperands(args.source, args.destination);
  if (options.force && options.resume) throw new UsageError('--force starts every file over and --resume continues them: give one of them');
  const index = instanceIndex(options.appInstanceIndex) ?? 0;
  checkSshSettings(ctx.env);
  const cf = await loggedInClients(ctx, 'space', ctx.term.notice);
  const startedAt = ctx.now();
  const result = await runCopy(
    ctx,
    cf,
    {
      source,
      destination,
      appName,
      processType: options.process ?? 'web',
      index,
      skipHostValidation: options.skipHostValidation,
      recursive: options.recursive,
      force: options.force,
      preserve: options.preserve,
      resume: options.resume,
      verify: options.verify,
      followSymlinks: options.followSymlinks,
    },
    ctx.term,
    progressOn(ctx, options.quiet),
  );
  if (options.quiet) return;
  const seconds = Math.max(ctx.now() - startedAt, 1) / 1000;
  const files = result.files === 1 ? '1 file' : `${result.files} files`;
  const resumed = result.resumed > 0 ? `, ${result.resumed} resumed` : '';
  const verified = result.verified ? ', SHA-256 verified' : '';
  ctx.term.err(`Copied ${files} (${formatBytes(result.bytes)}${resumed}) in ${seconds.toFixed(1)} s, ${formatBytes(Math.round(result.bytes / seconds))}/s${verified}.`);
};
