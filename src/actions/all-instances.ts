// `ssh APP --all-instances -c CMD`: one command on many instances of a process at once, a
// bounded number in parallel, each on a connection of its own (each with its own one-time
// code, asked for more slowly when UAA says 429). One lifecycle for the whole run: every
// connection is deferred to it, and a stop ends them all. One instance failing, or its
// connection lost, ends that instance only.
import { Readable, type Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from 'ssh2';
import type { Context } from '../context.js';
import { describeError, UserError } from '../errors.js';
import { ConnectionLostError } from '../ssh/client.js';
import { runSession } from '../ssh/session.js';
import { keepaliveMs } from '../ssh/settings.js';
import { RateLimitedError, type UaaClient } from '../uaa/client.js';
import type { CfClients } from './cf-clients.js';
import { openInstanceConnection } from './instance-connection.js';
import { type Lifecycle, lossReason, type Reporter, withLifecycle } from './lifecycle.js';
import { ensureSshEnabled, type InstanceTarget, processAndStats, startedApp } from './ssh.js';

/** Where one instance's output goes (the command decides how it is shown). */
export interface InstanceOutput {
  stdout: Writable;
  stderr: Writable;
  /** The instance is done, or the run stopped: what is left is shown, with why it failed when it did. */
  finish(failure: string | undefined): void;
  /** What was kept of its output, for the result (nothing when it was shown as it came). */
  kept(stream: 'stdout' | 'stderr'): Buffer;
}

export interface AllInstancesRequest {
  appName: string;
  processType: string;
  /** --instances; every instance of the process when undefined. */
  indexes?: number[];
  command: string;
  maxParallel: number;
  skipHostValidation: boolean;
  /** The output of the instance with this label (`web/2`). */
  outputFor: (label: string) => InstanceOutput;
}

/** How the command ended on one instance, or why it did not run there. */
export type InstanceEnd =
  | { kind: 'exited'; code: number }
  | { kind: 'signal'; signal: string }
  | { kind: 'failed'; error: string }
  /** Not RUNNING when the run began: nothing was tried. */
  | { kind: 'skipped'; state: string };

export interface InstanceRun {
  index: number;
  end: InstanceEnd;
  stdout: Buffer;
  stderr: Buffer;
  durationMs: number;
}

export interface AllInstancesResult {
  appName: string;
  processType: string;
  /** In index order. */
  runs: InstanceRun[];
}

/** Tries for one code when UAA keeps answering 429, and the first wait (doubled after each). */
const CODE_TRIES = 6;
const FIRST_BACKOFF_MS = 500;

/**
 * The clients with UAA's one-time codes asked for at a pace UAA tolerates: after a 429 (one that
 * outlasted Retry-After) every connection waits, with backoff and jitter, before asking again.
 */
function pacedCodes(cf: CfClients, signal: AbortSignal): CfClients {
  let notBefore = 0;
  const uaa = Object.create(cf.uaa) as UaaClient;
  uaa.sshCode = async (accessToken, sshClient) => {
    for (let attempt = 1; ; attempt += 1) {
      const wait = notBefore - Date.now();
      if (wait > 0) await sleep(wait, undefined, { signal });
      try {
        return await cf.uaa.sshCode(accessToken, sshClient);
      } catch (err) {
        if (!(err instanceof RateLimitedError) || attempt >= CODE_TRIES) throw err;
        const backoff = FIRST_BACKOFF_MS * 2 ** (attempt - 1);
        notBefore = Math.max(notBefore, Date.now() + backoff / 2 + Math.random() * backoff);
      }
    }
  };
  return { ...cf, uaa };
}

/** The run's stop, or this connection's closing before the command ended (that instance alone is lost). */
function stoppedOrLost(ctx: Context, connection: Client, stop: AbortSignal): AbortSignal {
  const lost = new AbortController();
  const readyAt = ctx.now();
  let failure: Error | undefined;
  connection.on('error', (err) => void (failure ??= err));
  connection.once('close', () => {
    const seconds = Math.max(0, Math.round((ctx.now() - readyAt) / 1000));
    lost.abort(new ConnectionLostError(`after ${seconds} s`, lossReason(failure, keepaliveMs(ctx.env))));
  });
  return AbortSignal.any([stop, lost.signal]);
}

/** Runs `work` on each item, at most `limit` at a time; the first error thrown ends it. */
async function eachBounded<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** The instances asked for, each with its state; an index the process does not have is refused before anything connects. */
function chosenInstances(request: AllInstancesRequest, states: Map<number, string>): { index: number; state: string }[] {
  const indexes = request.indexes ?? [...states.keys()].sort((a, b) => a - b);
  const missing = indexes.filter((index) => !states.has(index));
  if (missing.length > 0) {
    const count = states.size;
    throw new UserError(
      `Instance${missing.length === 1 ? '' : 's'} ${missing.join(', ')} of process ${request.processType} not found: ${request.appName} has ${count} ${request.processType} instance${count === 1 ? '' : 's'}.`,
    );
  }
  return indexes.map((index) => ({ index, state: states.get(index)! }));
}

export const instanceLabel = (processType: string, index: number) => `${processType}/${index}`;

export async function runOnAllInstances(ctx: Context, cf: CfClients, request: AllInstancesRequest, reporter: Reporter): Promise<AllInstancesResult> {
  return withLifecycle(ctx, reporter, async (life) => {
    const app = await life.until(startedApp(cf, request.appName));
    const [{ process, stats }] = await life.until(Promise.all([processAndStats(cf, app, request.processType), ensureSshEnabled(cf, app, ctx.bin)]));
    const chosen = chosenInstances(request, new Map(stats.map((s) => [s.index, s.state])));
    const runs = new Map<number, InstanceRun>();
    for (const { index, state } of chosen) {
      if (state !== 'RUNNING') runs.set(index, { index, end: { kind: 'skipped', state }, stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), durationMs: 0 });
    }
    const paced = pacedCodes(cf, life.signal);
    const running = chosen.filter(({ state }) => state === 'RUNNING').map(({ index }) => index);
    await eachBounded(running, request.maxParallel, async (index) => {
      runs.set(index, await runOnInstance(ctx, paced, request, { app, process, index, stats }, life));
    });
    return { appName: request.appName, processType: request.processType, runs: [...runs.values()].sort((a, b) => a.index - b.index) };
  });
}

/** One instance's run; `instance` is checked already: the look-ups are made once for all instances. */
async function runOnInstance(ctx: Context, cf: CfClients, request: AllInstancesRequest, instance: InstanceTarget, life: Lifecycle): Promise<InstanceRun> {
  const { index } = instance;
  const label = instanceLabel(request.processType, index);
  const startedAt = ctx.now();
  const output = request.outputFor(label);
  let end: InstanceEnd;
  try {
    const wanted = { appName: request.appName, processType: request.processType, index, skipHostValidation: request.skipHostValidation, checked: instance };
    const { connection } = await life.until(openInstanceConnection(ctx, cf, wanted, life.signal));
    life.defer(`the SSH connection to ${label}`, () => connection.end());
    const streams = { stdin: Readable.from([]), stdout: output.stdout, stderr: output.stderr };
    const session = await runSession(connection, { command: request.command, streams }, stoppedOrLost(ctx, connection, life.signal));
    connection.end();
    if (session.code !== undefined) end = { kind: 'exited', code: session.code };
    else if (session.signal) end = { kind: 'signal', signal: session.signal };
    else end = { kind: 'failed', error: 'The remote process ended without an exit status.' };
  } catch (err) {
    if (life.signal.aborted) {
      // Stopped: what came so far is shown, the stop's message follows it.
      output.finish(undefined);
      throw err;
    }
    end = { kind: 'failed', error: describeError(err).message };
  }
  output.finish(end.kind === 'failed' ? end.error : undefined);
  return { index, end, stdout: output.kept('stdout'), stderr: output.kept('stderr'), durationMs: ctx.now() - startedAt };
}
