// ssh-audit: the report (table, JSON or CSV under a hashed header), then what --enforce
// changed, --save's snapshot, and --policy's verdict as the exit status; --events and --diff
// print their own lists instead of the report.
import { readFile, writeFile } from 'node:fs/promises';
import { loggedInClients } from '../actions/cf-clients.js';
import { type EnforceLevel, enforceSshOff } from '../actions/ssh-audit-enforce.js';
import { type AuditFormat, enforcementLines, expiredGrantLines, renderDrift, renderEvents, renderReport, withHeader } from '../actions/ssh-audit-format.js';
import { driftSince, readSnapshot, snapshotOf } from '../actions/ssh-audit-snapshot.js';
import { type AuditReport, type AuditScope, auditSsh, breaksDisabledPolicy, isoSeconds, parseWindow } from '../actions/ssh-audit.js';
import { UsageError, UserError } from '../errors.js';
import { startProgress } from '../io/progress.js';
import { safeText } from '../io/safe-text.js';
import type { CommandRun } from './command-spec.js';
import type { SPECS } from './specs.js';

/** The exit status when --policy disabled finds SSH on (or unknown) somewhere. */
export const POLICY_BROKEN_EXIT = 3;
/** The exit status when --enforce could not make every change (CC refused some). */
export const ENFORCE_FAILED_EXIT = 4;

const DEFAULT_WINDOW = '7d';

function scopeOf(org: string | undefined, all: boolean): AuditScope {
  if (org !== undefined && all) throw new UsageError('Give -o ORG or --all, not both.');
  if (org !== undefined) return { kind: 'org', org };
  return all ? { kind: 'all' } : { kind: 'space' };
}

function enforceLevelOf(enforce: boolean, given: string | undefined, dryRun: boolean): EnforceLevel | undefined {
  if (given !== undefined && !enforce) throw new UsageError(`'${given}' is not an option of ssh-audit: did you mean --enforce ${given}?`);
  if (dryRun && !enforce) throw new UsageError('--dry-run goes with --enforce.');
  if (!enforce) return undefined;
  if (given === undefined || given === 'app') return 'app';
  if (given === 'space') return 'space';
  throw new UsageError(`--enforce takes app (the default) or space, not '${given}'.`);
}

function scopeText({ scope }: Pick<AuditReport, 'scope'>, user: string): string {
  if (scope.kind === 'space') return `space ${scope.org}/${scope.space}`;
  if (scope.kind === 'org') return `org ${scope.org}`;
  return `every org visible to ${user}`;
}

export const run: CommandRun<(typeof SPECS)['ssh-audit']> = async (ctx, { args, options }) => {
  if (options.json && options.csv) throw new UsageError('Give --json or --csv, not both.');
  if (options.policy !== undefined && options.policy !== 'disabled') throw new UsageError(`--policy knows 'disabled', not '${options.policy}'.`);
  const format: AuditFormat = options.json ? 'json' : options.csv ? 'csv' : 'table';
  const scope = scopeOf(options.org, options.all);
  const enforceLevel = enforceLevelOf(options.enforce, args.enforceLevel, options.dryRun);
  const now = ctx.now();
  const window = parseWindow(options.since ?? DEFAULT_WINDOW, now);
  // Read before anything is asked of CC: a snapshot that cannot be read stops the run early.
  const snapshot = options.diff === undefined ? undefined : readSnapshot(await readText(options.diff), options.diff);

  const cf = await loggedInClients(ctx, scope.kind === 'space' ? 'space' : 'login', ctx.term.notice);
  const progress = await startProgress(ctx.term, 'Reading SSH switches');
  let report: AuditReport;
  try {
    report = await auditSsh(cf, { scope, window, now, onNotice: ctx.term.notice, onProgress: (done, total) => progress.update(done, total) });
  } finally {
    progress.stop();
  }

  const header = { api: cf.login.api, user: cf.auth.username, time: isoSeconds(now), scope: scopeText(report, cf.auth.username) };
  // Made safe before it is hashed: the hash is of the bytes printed.
  const print = (body: string) => ctx.term.out(withHeader(header, safeText(body)));
  if (options.events) print(renderEvents(report, format));
  else if (snapshot) {
    const then = scopeText(snapshot.report, cf.auth.username);
    if (then !== header.scope) ctx.term.notice(`The snapshot covers ${then}, this run ${header.scope}: what lies outside this run shows as removed.`);
    print(renderDrift(await driftSince(cf, snapshot, report), format));
  } else print(renderReport(report, format));
  // Loud on stderr too, where a JSON or CSV reader (or a CI log) sees it.
  if (format !== 'table') for (const line of expiredGrantLines(report)) ctx.term.notice(line);

  let exitCode = 0;
  if (enforceLevel) {
    const result = await enforceSshOff(cf, report, enforceLevel, options.dryRun);
    // On stderr when stdout carries JSON or CSV, which tools read whole.
    const say = format === 'table' ? (line: string) => ctx.term.out(line) : ctx.term.notice;
    if (format === 'table') say('');
    for (const line of enforcementLines(result, options.dryRun)) say(line);
    if (result.changes.some((c) => c.outcome === 'failed')) exitCode = ENFORCE_FAILED_EXIT;
  }
  if (options.save !== undefined) {
    await writeFile(options.save, `${JSON.stringify(snapshotOf(report, cf.login.api, isoSeconds(now)), null, 2)}\n`).catch((err: unknown) => {
      throw new UserError(`Cannot write the snapshot to ${options.save}: ${(err as Error).message}`);
    });
    ctx.term.notice(`Snapshot saved to ${options.save}: compare later with --diff ${options.save}.`);
  }
  if (options.policy === 'disabled') {
    const breaking = report.apps.filter(breaksDisabledPolicy);
    if (breaking.length > 0) {
      const names = breaking.map((a) => `${a.org}/${a.space}/${a.app}`);
      ctx.term.err(`Policy 'disabled' broken: SSH is on (or could not be read) for ${breaking.length} app(s): ${names.slice(0, 20).join(', ')}${names.length > 20 ? ', ...' : ''}`);
      exitCode ||= POLICY_BROKEN_EXIT;
    }
  }
  return exitCode;
};

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new UserError(`Cannot read the snapshot ${file}: ${(err as Error).message}`);
  }
}
