// ssh-audit --enforce: SSH switched off where a report found it on, at app level (the default)
// or space level. Each change is tried on its own: one CC refuses (an auditor's 403) is reported
// with CC's words and the others still go ahead. A valid time-boxed grant is left alone; an
// expired one is switched off like any other.
import { CfApiError } from '../errors.js';
import type { CfClients } from './cf-clients.js';
import { APP_READ_CONCURRENCY, type AppAudit, type AuditReport, effectiveOf, mapBounded } from './ssh-audit.js';

export type EnforceLevel = 'app' | 'space';

export interface EnforceChange {
  level: EnforceLevel;
  org: string;
  space: string;
  /** Absent for a space. */
  app?: string;
  guid: string;
  /** Why it is switched off: "SSH on", or "grant expired <when>". */
  why: string;
  /** done, would (dry run), or failed with CC's message. */
  outcome: 'done' | 'would' | 'failed';
  error?: string;
}

export interface EnforceResult {
  changes: EnforceChange[];
  /** Apps left on because of a valid time-boxed grant. */
  keptGrants: AppAudit[];
}

/** What enforcement would switch off in `report`, without asking CC anything. */
function planned(report: AuditReport, level: EnforceLevel): EnforceResult {
  if (level === 'space') {
    const changes = report.spaces
      .filter((s) => s.ssh === true)
      .map((s): EnforceChange => ({ level, org: s.org, space: s.space, guid: s.guid, why: 'SSH allowed in the space', outcome: 'would' }));
    return { changes, keptGrants: [] };
  }
  const on = report.apps.filter((a) => a.levels.app === true);
  const keptGrants = on.filter((a) => a.grant && !a.grant.expired);
  const changes = on
    .filter((a) => !keptGrants.includes(a))
    .map((a): EnforceChange => ({
      level,
      org: a.org,
      space: a.space,
      app: a.app,
      guid: a.guid,
      why: a.grant ? `time-boxed grant expired ${a.grant.expiresAt}` : 'SSH enabled for the app',
      outcome: 'would',
    }));
  return { changes, keptGrants };
}

/**
 * Switches SSH off for each planned change (or only says what would change, on a dry run),
 * and updates `report` to the state after the changes that CC accepted.
 */
export async function enforceSshOff(cf: CfClients, report: AuditReport, level: EnforceLevel, dryRun: boolean): Promise<EnforceResult> {
  const plan = planned(report, level);
  if (dryRun) return plan;
  const changes = await mapBounded(plan.changes, APP_READ_CONCURRENCY, async (change): Promise<EnforceChange> => {
    try {
      if (change.level === 'space') await cf.cc.setSpaceSshFeature(change.guid, false);
      else await cf.cc.setAppSshFeature(change.guid, false);
      return { ...change, outcome: 'done' };
    } catch (err) {
      if (!(err instanceof CfApiError)) throw err;
      return { ...change, outcome: 'failed', error: err.message };
    }
  });
  for (const change of changes.filter((c) => c.outcome === 'done')) {
    if (change.level === 'space') {
      const space = report.spaces.find((s) => s.guid === change.guid);
      if (space) space.ssh = false;
      for (const app of report.apps.filter((a) => a.org === change.org && a.space === change.space)) switchedOff(app, 'space');
    } else {
      const app = report.apps.find((a) => a.guid === change.guid);
      if (app) switchedOff(app, 'app');
    }
  }
  return { changes, keptGrants: plan.keptGrants };
}

function switchedOff(app: AppAudit, level: EnforceLevel): void {
  app.levels[level] = false;
  Object.assign(app, effectiveOf(app.levels));
}
