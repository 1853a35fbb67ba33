// What `copy SRC DST` does: connect to the instance, open its SFTP subsystem, plan the copy
// (what goes where; refusals before any byte moves: an existing file without -f, a partial one
// that is not the start of its source), then move each file with many requests in flight,
// keeping modes and times with -p and comparing SHA-256 at the end with --verify.
import type { Context } from '../context.js';
import { UserError } from '../errors.js';
import type { Entry } from '../ssh/sftp.js';
import { Sftp } from '../ssh/sftp.js';
import { pipeline } from '../ssh/sftp-pipeline.js';
import { keepaliveMs } from '../ssh/settings.js';
import type { CfClients } from './cf-clients.js';
import type { Operand } from './copy-operands.js';
import { CopyError, localSide, onFile, remoteSide, type Side } from './copy-sides.js';
import { openInstanceConnection } from './instance-connection.js';
import { type Reporter, withLifecycle } from './lifecycle.js';

export interface CopyRequest {
  source: Operand;
  destination: Operand;
  appName: string;
  processType: string;
  index: number;
  skipHostValidation: boolean;
  /** -r: folders and what they hold. */
  recursive: boolean;
  /** -f: overwrite existing files. */
  force: boolean;
  /** -p: modes and times as the source's. */
  preserve: boolean;
  /** Continue partial files whose content is the start of their source's. */
  resume: boolean;
  /** Compare SHA-256 of each file on both sides at the end. */
  verify: boolean;
  /** Copy what links inside folders point to, rather than skipping them. */
  followSymlinks: boolean;
}

/** Where the command shows how far the bytes have come (a bar on a terminal). */
export interface CopyProgress {
  begin(label: string, totalBytes: number): void;
  advance(bytes: number): void;
  end(): void;
}

export interface CopyResult {
  files: number;
  /** Bytes moved in this run (a resumed file's existing part not counted). */
  bytes: number;
  resumed: number;
  verified: boolean;
}

interface PlannedFile {
  from: string;
  to: string;
  entry: Entry;
  /** Where writing starts: the size of a partial file that --resume continues. */
  startAt: number;
}

interface Plan {
  /** Parents before their children. */
  folders: { to: string; entry: Entry; exists: boolean }[];
  files: PlannedFile[];
}

export async function runCopy(ctx: Context, cf: CfClients, request: CopyRequest, reporter: Reporter, progress: CopyProgress): Promise<CopyResult> {
  return withLifecycle(ctx, reporter, async (life) => {
    const instance = `${request.appName}/${request.index}`;
    const { connection } = await reporter.spin(`Connecting to ${instance}...`, () => life.until(openInstanceConnection(ctx, cf, request, life.signal)));
    life.watch(connection, keepaliveMs(ctx.env));
    const sftp = await life.until(Sftp.open(connection));
    life.defer('the SFTP session', () => sftp.end());
    const remote = remoteSide(instance, sftp, connection);
    const [from, to] = request.source.side === 'remote' ? [remote, localSide] : [localSide, remote];
    const plan = await life.until(planCopy(from, request.source.path, to, request.destination.path, request, reporter.notice));

    const pending = plan.files.reduce((sum, file) => sum + file.entry.size - file.startAt, 0);
    const [only] = plan.files;
    progress.begin(plan.files.length === 1 && only && plan.folders.length === 0 ? to.path.basename(only.to) : `${plan.files.length} files`, pending);
    let bytes = 0;
    // The file being written once its first bytes are: a copy cut short says how to continue it.
    let partial: PlannedFile | undefined;
    const written = (file: PlannedFile, count: number) => {
      partial = file;
      bytes += count;
      progress.advance(count);
    };
    try {
      for (const folder of plan.folders) if (!folder.exists) await life.until(onFile(to, folder.to, () => to.mkdir(folder.to)));
      for (const file of plan.files) {
        partial = file.startAt > 0 ? file : undefined;
        await life.until(copyFile(from, to, file, life.signal, (count) => written(file, count)));
        partial = undefined;
        if (request.preserve) await life.until(onFile(to, file.to, () => to.setAttributes(file.to, file.entry)));
        if (request.verify) await life.until(verify(from, to, file));
      }
      // Last, deepest first: writing into a folder changes its times.
      if (request.preserve) for (const folder of [...plan.folders].reverse()) await life.until(onFile(to, folder.to, () => to.setAttributes(folder.to, folder.entry)));
    } catch (err) {
      if (partial) reporter.notice(`${to.name}: ${partial.to} is incomplete: run the same copy with --resume to continue it.`);
      throw err;
    } finally {
      progress.end();
    }
    return { files: plan.files.length, bytes, resumed: plan.files.filter((f) => f.startAt > 0).length, verified: request.verify };
  });
}

/** What goes where; refuses what needs -r, -f or a partial file that is not a start of its source. */
async function planCopy(from: Side, source: string, to: Side, destination: string, request: CopyRequest, notice: (text: string) => void): Promise<Plan> {
  // The operand itself is followed when a link: it was named.
  const top = await onFile(from, source, () => from.entry(source, true));
  if (!top) throw new CopyError(from, source, 'no such file');
  if (top.kind === 'folder' && !request.recursive) throw new CopyError(from, source, 'is a folder: copy it with -r');
  if (top.kind !== 'folder' && top.kind !== 'file') throw new CopyError(from, source, 'not a regular file or folder');
  const there = await onFile(to, destination, () => to.entry(destination, true));
  let target = destination;
  if (there?.kind === 'folder') target = to.path.join(destination, from.path.basename(await onFile(from, source, () => from.absolute(source))));
  else if (there && top.kind === 'folder') throw new CopyError(to, destination, 'not a folder');
  else if (!there && /[\\/]$/.test(destination)) throw new CopyError(to, destination, 'no such folder');

  const plan: Plan = { folders: [], files: [] };
  const visit = async (fromPath: string, toPath: string, entry: Entry): Promise<void> => {
    if (entry.kind === 'folder') {
      const existing = await onFile(to, toPath, () => to.entry(toPath, true));
      if (existing && existing.kind !== 'folder') throw new CopyError(to, toPath, 'exists and is not a folder');
      plan.folders.push({ to: toPath, entry, exists: existing !== undefined });
      const children = await onFile(from, fromPath, () => from.list(fromPath));
      for (const child of children.sort((a, b) => (a.name < b.name ? -1 : 1))) {
        const childPath = from.path.join(fromPath, child.name);
        const followed = child.entry.kind === 'link' && request.followSymlinks ? await onFile(from, childPath, () => from.entry(childPath, true)) : child.entry;
        if (followed?.kind === 'link') notice(`Skipped ${from.name}: ${childPath}: a symbolic link (--follow-symlinks copies what it points to)`);
        else if (followed?.kind !== 'file' && followed?.kind !== 'folder') notice(`Skipped ${from.name}: ${childPath}: not a regular file or folder`);
        else await visit(childPath, to.path.join(toPath, child.name), followed);
      }
      return;
    }
    plan.files.push({ from: fromPath, to: toPath, entry, startAt: await startOf(from, fromPath, entry, to, toPath, request) });
  };
  await visit(source, target, top);
  return plan;
}

/** Where a file's copy starts: 0, or the end of a partial file --resume continues; refuses to overwrite without -f. */
async function startOf(from: Side, fromPath: string, entry: Entry, to: Side, toPath: string, request: CopyRequest): Promise<number> {
  const existing = await onFile(to, toPath, () => to.entry(toPath, true));
  if (!existing) return 0;
  if (existing.kind === 'folder') throw new CopyError(to, toPath, 'is a folder');
  if (!request.resume) {
    if (request.force) return 0;
    throw new CopyError(to, toPath, 'exists: add -f to overwrite it (or --resume to continue a partial copy)');
  }
  if (existing.size > entry.size) {
    throw new CopyError(to, toPath, `is larger (${existing.size} bytes) than ${from.name}: ${fromPath} (${entry.size} bytes), so not a part of it: copy with -f instead`);
  }
  if (existing.size === 0) return 0;
  const [source, partial] = await Promise.all([onFile(from, fromPath, () => from.sha256(fromPath, existing.size)), onFile(to, toPath, () => to.sha256(toPath, existing.size))]);
  if (source === undefined || partial === undefined) {
    const remote = source === undefined ? from : to;
    throw new UserError(`${remote.name}: cannot check that ${toPath} is the start of ${fromPath}: the instance has no sha256sum. Copy with -f to start over.`);
  }
  if (source !== partial) throw new CopyError(to, toPath, `its ${existing.size} bytes differ from the start of ${from.name}: ${fromPath}: copy with -f to start over`);
  return existing.size;
}

/** Moves one file's bytes, telling `onWritten` as they land. */
async function copyFile(from: Side, to: Side, file: PlannedFile, signal: AbortSignal, onWritten: (bytes: number) => void): Promise<void> {
  const reader = await onFile(from, file.from, () => from.open(file.from, 'read'));
  try {
    const writer = await onFile(to, file.to, () => to.open(file.to, file.startAt > 0 ? 'continue' : 'write'));
    try {
      await pipeline({
        start: file.startAt,
        end: file.entry.size,
        requestBytes: Math.min(reader.largestRead, writer.largestWrite),
        read: (position, into) => onFile(from, file.from, () => reader.read(position, into)),
        write: (data, position) => onFile(to, file.to, () => writer.write(data, position)),
        onWritten,
        signal,
      });
    } finally {
      await closeQuietly(writer);
    }
  } finally {
    await closeQuietly(reader);
  }
}

/** A handle on a connection already lost cannot be closed: that is no news. */
async function closeQuietly(file: { close(): Promise<void> }): Promise<void> {
  await file.close().catch(() => undefined);
}

async function verify(from: Side, to: Side, file: PlannedFile): Promise<void> {
  const [source, copied] = await Promise.all([onFile(from, file.from, () => from.sha256(file.from)), onFile(to, file.to, () => to.sha256(file.to))]);
  if (source === undefined || copied === undefined) {
    throw new UserError(`${(source === undefined ? from : to).name}: cannot verify ${file.to}: the instance has no sha256sum.`);
  }
  if (source !== copied) throw new CopyError(to, file.to, `its SHA-256 ${copied} differs from ${from.name}: ${file.from}'s ${source}`);
}
