// ssh-audit --save and --diff: switching SSH on or off records no audit event in Cloud
// Controller, so drift is found by comparing with a saved report. Who made a change is known
// only where CC did record something for the app (an annotation change, a create or delete).
import { CfApiError, UserError } from '../errors.js';
import type { CfClients } from './cf-clients.js';
import { type AppAudit, type AuditReport, chunks, GUIDS_PER_FILTER } from './ssh-audit.js';

export const SNAPSHOT_FORMAT = 'cf-ssh-tools/ssh-audit-snapshot/1';

export interface Snapshot {
  format: typeof SNAPSHOT_FORMAT;
  api: string;
  takenAt: string;
  report: Pick<AuditReport, 'scope' | 'global' | 'spaces' | 'apps'>;
}

export function snapshotOf(report: AuditReport, api: string, takenAt: string): Snapshot {
  const { scope, global, spaces, apps } = report;
  return { format: SNAPSHOT_FORMAT, api, takenAt, report: { scope, global, spaces, apps } };
}

/** A snapshot from its file's text; anything else is refused by name. */
export function readSnapshot(text: string, file: string): Snapshot {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UserError(`${file} is not an ssh-audit snapshot (not JSON): make one with --save.`);
  }
  const snapshot = parsed as Partial<Snapshot> | null;
  if (snapshot?.format !== SNAPSHOT_FORMAT || !Array.isArray(snapshot.report?.apps) || !Array.isArray(snapshot.report.spaces) || typeof snapshot.takenAt !== 'string') {
    throw new UserError(`${file} is not an ssh-audit snapshot (format ${SNAPSHOT_FORMAT}): make one with --save.`);
  }
  return snapshot as Snapshot;
}

export interface DriftItem {
  kind: 'global' | 'space' | 'app-added' | 'app-removed' | 'app';
  /** org/space or org/space/app. */
  where: string;
  what: string;
  /** Who, from CC's audit events, when there is one. */
  who?: string;
}

export interface Drift {
  since: string;
  items: DriftItem[];
}

const onOff = (value: boolean | null | undefined) => (value === true ? 'on' : value === false ? 'off' : 'unknown');
const appPath = (a: Pick<AppAudit, 'org' | 'space' | 'app'>) => `${a.org}/${a.space}/${a.app}`;

/** The events CC records on an app that tell who touched it: SSH switches record none. */
const APP_CHANGE_EVENTS = ['audit.app.update', 'audit.app.create', 'audit.app.delete-request'];

/** What changed between a snapshot and a report of now, with who where an audit event says so. */
export async function driftSince(cf: CfClients, snapshot: Snapshot, now: AuditReport): Promise<Drift> {
  const items: (DriftItem & { guid?: string })[] = [];
  const before = snapshot.report;
  if (before.global !== now.global) items.push({ kind: 'global', where: 'global', what: `global SSH ${onOff(before.global)} → ${onOff(now.global)}` });
  const spacesBefore = new Map(before.spaces.map((s) => [s.guid, s]));
  for (const space of now.spaces) {
    const old = spacesBefore.get(space.guid);
    if (old && old.ssh !== space.ssh) items.push({ kind: 'space', where: `${space.org}/${space.space}`, what: `space SSH ${onOff(old.ssh)} → ${onOff(space.ssh)}` });
  }
  const appsBefore = new Map(before.apps.map((a) => [a.guid, a]));
  const appsNow = new Set(now.apps.map((a) => a.guid));
  for (const app of now.apps) {
    const old = appsBefore.get(app.guid);
    if (!old) {
      items.push({ kind: 'app-added', where: appPath(app), what: `app added (SSH effectively ${onOff(app.effective)})`, guid: app.guid });
      continue;
    }
    const changes: string[] = [];
    if (old.levels.app !== app.levels.app) changes.push(`app SSH ${onOff(old.levels.app)} → ${onOff(app.levels.app)}`);
    if (old.effective !== app.effective) changes.push(`effective ${onOff(old.effective)} → ${onOff(app.effective)}`);
    if (changes.length > 0) items.push({ kind: 'app', where: appPath(app), what: changes.join(', '), guid: app.guid });
  }
  for (const old of before.apps) {
    if (!appsNow.has(old.guid)) items.push({ kind: 'app-removed', where: appPath(old), what: 'app removed (or no longer visible)', guid: old.guid });
  }

  const guids = items.flatMap((i) => (i.guid ? [i.guid] : []));
  const who = new Map<string, string>();
  if (guids.length > 0) {
    try {
      for (const part of chunks(guids, GUIDS_PER_FILTER)) {
        // gte: takenAt is cut to the second, and a change in that same second counts.
        const events = await cf.cc.auditEvents({ types: APP_CHANGE_EVENTS.join(','), target_guids: part.join(','), 'created_ats[gte]': snapshot.takenAt });
        for (const event of events) who.set(event.target.guid, `${event.actor.name || event.actor.guid} (${event.type} at ${event.created_at})`);
      }
    } catch (err) {
      // Who is a bonus: without audit events (not this user's to read) the drift is still reported.
      if (!(err instanceof CfApiError)) throw err;
    }
  }
  return { since: snapshot.takenAt, items: items.map(({ guid, ...item }) => ({ ...item, who: guid ? who.get(guid) : undefined })) };
}
