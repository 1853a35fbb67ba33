// ssh-audit: the SSH state of a space, an org or every org a user can see, at each level
// (global, space, app), who may change it, time-boxed grants, and who logged in during a
// window. v3 has no bulk field for an app's SSH switch, so it takes one request per app:
// lists are read at CC's largest page and the per-app reads run a bounded number at a time,
// paced when CC's rate limit runs low. A read CC refuses or limits leaves that item unknown,
// never the whole report failed.
import { setTimeout as sleep } from 'node:timers/promises';
import type { AuditedApp, AuditEvent, CloudController, OrgSpace, RateLimit } from '../cf/cloud-controller.js';
import { CfApiError, LimitError, UsageError } from '../errors.js';
import { type CfClients, targetedOrg, targetedSpace } from './cf-clients.js';
import { findOrg } from './lookup.js';
import type { SshLevel } from './ssh-switches.js';
import { EXPIRES_AT_ANNOTATION, sshGrantOf, utcText } from './ssh-grant.js';

export type AuditScope = { kind: 'space' } | { kind: 'org'; org: string } | { kind: 'all' };

/** Per-app (and per-space) reads at once: enough to hide latency, few enough not to flood CC. */
export const APP_READ_CONCURRENCY = 16;
/** GUIDs per list filter: keeps URLs well under what proxies in front of CC accept. */
export const GUIDS_PER_FILTER = 50;
/** Pacing starts when CC says this few requests are left before its limit resets. */
const PACE_BELOW_REMAINING = 2 * APP_READ_CONCURRENCY;
/** The longest pause between two paced requests: a report slows down, it does not stall. */
const MAX_PACE_GAP_MS = 2_000;
/** The longest window: CC keeps events a few weeks; a year says anything reasonable. */
const MAX_WINDOW_MS = 365 * 86_400_000;
/** CC's audit event retention in its sample configuration, said when no event is found. */
export const CC_SAMPLE_RETENTION_DAYS = 31;

/** The annotations a time-boxed SSH grant is kept in (enable-ssh --for). */

export const SSH_AUTHORIZED = 'audit.app.ssh-authorized';
export const SSH_UNAUTHORIZED = 'audit.app.ssh-unauthorized';

export interface AuditWindow {
  /** As given: 7d, 12h, 30m. */
  since: string;
  from: string;
  to: string;
}

export interface SshGrant {
  expiresAt: string;
  reason?: string;
  expired: boolean;
}

export interface SshLogin {
  actor: string;
  index: number | null;
  at: string;
}

export interface AppAudit {
  org: string;
  space: string;
  app: string;
  guid: string;
  state: string;
  levels: Record<SshLevel, boolean | null>;
  /** On at every level; null when a level could not be read. */
  effective: boolean | null;
  /** The first level that is off, in the order CC checks them. */
  blockedBy?: SshLevel;
  grant?: SshGrant;
  lastLogin?: SshLogin;
  deniedLogins: number;
  /** Why a level is unknown (CC refused or rate-limited the read). */
  unknownBecause?: string;
}

export interface SpaceAudit {
  org: string;
  space: string;
  guid: string;
  orgGuid: string;
  ssh: boolean | null;
  /** Who may switch the space's SSH (its managers and the org's) and the apps' (its developers); null when roles cannot be read. */
  mayChange: { space: string[]; app: string[] } | null;
}

export interface SshEventRow {
  at: string;
  org: string;
  space: string;
  app: string;
  actor: string;
  index: number | null;
  authorized: boolean;
}

export interface AuditHistory {
  /** False when this user may not read audit events (or CC has none to show). */
  available: boolean;
  /** The oldest event CC still keeps in the scope. */
  oldestEvent?: string;
  /** Set when the window starts before what CC keeps. */
  note?: string;
}

export interface AuditReport {
  scope: { kind: AuditScope['kind']; org?: string; space?: string };
  window: AuditWindow;
  global: boolean | null;
  history: AuditHistory;
  spaces: SpaceAudit[];
  apps: AppAudit[];
  events: SshEventRow[];
}

export interface AuditProgress {
  (done: number, total: number): void;
}

export interface AuditOptions {
  scope: AuditScope;
  window: AuditWindow;
  now: number;
  onNotice: (text: string) => void;
  onProgress?: AuditProgress;
}

/** `7d`, `12h`, `30m`: the window's length in milliseconds. */
export function parseWindow(since: string, now: number): AuditWindow {
  const match = /^(\d{1,6})([dhm])$/.exec(since);
  const unit = { d: 86_400_000, h: 3_600_000, m: 60_000 };
  const ms = match?.[1] && match[2] ? Number(match[1]) * unit[match[2] as keyof typeof unit] : NaN;
  if (!(ms > 0) || ms > MAX_WINDOW_MS) throw new UsageError(`--since takes a length such as 7d, 12h or 30m (at most 365d), not '${since}'.`);
  return { since, from: isoSeconds(now - ms), to: isoSeconds(now) };
}

/** CC's timestamp format: seconds, UTC. */
export function isoSeconds(ms: number): string {
  return utcText(new Date(ms));
}

/** The time-boxed SSH grant in an app's annotations, if it has one, its expiry as written there (the report shows what is filed). */
export function grantOf(app: AuditedApp, now: number): SshGrant | undefined {
  const grant = sshGrantOf(app, now);
  return grant && { expiresAt: String(app.metadata?.annotations?.[EXPIRES_AT_ANNOTATION]), reason: grant.reason, expired: grant.expired };
}

/** Runs `work` on each item, at most `limit` at once, keeping the order of the results. */
export async function mapBounded<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const at = next++;
      results[at] = await work(items[at] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * Spaces requests out when CC's X-RateLimit-Remaining runs low: what is left is spread over
 * the time to X-RateLimit-Reset (each gap at most MAX_PACE_GAP_MS), and the user told once.
 */
export class Pacer {
  private nextAt = 0;
  private gapMs = 0;
  private told = false;

  constructor(
    private readonly now: () => number,
    private readonly onNotice: (text: string) => void,
  ) {}

  async turn(): Promise<void> {
    if (this.gapMs === 0) return;
    const now = this.now();
    const at = Math.max(now, this.nextAt);
    this.nextAt = at + this.gapMs;
    if (at > now) await sleep(at - now);
  }

  observe(limit: RateLimit | undefined): void {
    if (!limit) return;
    if (limit.remaining > PACE_BELOW_REMAINING || limit.resetAtMs === undefined) {
      this.gapMs = 0;
      return;
    }
    const untilReset = Math.max(0, limit.resetAtMs - this.now());
    this.gapMs = Math.min(MAX_PACE_GAP_MS, Math.ceil(untilReset / Math.max(1, limit.remaining)));
    if (!this.told && this.gapMs > 0) {
      this.told = true;
      this.onNotice(
        `The Cloud Controller's rate limit has ${limit.remaining} requests left until ${isoSeconds(limit.resetAtMs)}: pacing requests (up to ${MAX_PACE_GAP_MS / 1000} s apart).`,
      );
    }
  }
}

export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

type Read<T> = { value: T } | { unknownBecause: string };

/** What a read found, or null when it was left unknown. */
const known = <T>(read: Read<T> | undefined): T | null => (read && 'value' in read ? read.value : null);

/** A read whose refusal leaves its part unknown: 403/404 (not this user's), 429 or a limit (CC's rate limit). */
async function orUnknown<T>(read: () => Promise<T>): Promise<Read<T>> {
  try {
    return { value: await read() };
  } catch (err) {
    if (err instanceof CfApiError && (err.status === 403 || err.status === 404)) return { unknownBecause: `not readable (HTTP ${err.status})` };
    if (err instanceof CfApiError && err.status === 429) return { unknownBecause: 'rate limited by the Cloud Controller' };
    // A Retry-After longer than we wait, or a list that would not end: said in its own words.
    if (err instanceof LimitError) return { unknownBecause: err.message.replace(/\.$/, '') };
    throw err;
  }
}

const GLOBAL_REASON = /globally/i;

/** The spaces of the scope, with their org's name. */
async function scopeSpaces(cf: CfClients, scope: AuditScope): Promise<{ spaces: OrgSpace[]; orgNames: Map<string, string>; label: AuditReport['scope'] }> {
  const { cc } = cf;
  if (scope.kind === 'space') {
    const org = targetedOrg(cf);
    const space = targetedSpace(cf);
    return {
      spaces: [{ guid: space.guid, name: space.name, relationships: { organization: { data: { guid: org.guid } } } }],
      orgNames: new Map([[org.guid, org.name]]),
      label: { kind: 'space', org: org.name, space: space.name },
    };
  }
  const orgs = scope.kind === 'org' ? [await findOrg(cc, scope.org)] : await cc.organizationsAtMaxPage();
  const orgNames = new Map(orgs.map((o) => [o.guid, o.name]));
  let spaces: OrgSpace[] = [];
  for (const part of chunks(orgs, GUIDS_PER_FILTER)) spaces = spaces.concat(await cc.spacesOfOrgs(part.map((o) => o.guid)));
  spaces.sort((a, b) => compareNames(orgNames.get(orgGuidOf(a)) ?? '', orgNames.get(orgGuidOf(b)) ?? '') || compareNames(a.name, b.name));
  return { spaces, orgNames, label: scope.kind === 'org' ? { kind: 'org', org: orgs[0]?.name } : { kind: 'all' } };
}

const orgGuidOf = (space: OrgSpace) => space.relationships.organization.data.guid;
const compareNames = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

async function appsOf(cc: CloudController, spaces: OrgSpace[]): Promise<AuditedApp[]> {
  let apps: AuditedApp[] = [];
  for (const part of chunks(spaces, GUIDS_PER_FILTER)) apps = apps.concat(await cc.appsInSpaces(part.map((s) => s.guid)));
  return apps;
}

/** Who may switch SSH per space: space managers and org managers (space), space developers (apps). */
async function whoMayChange(cc: CloudController, spaces: OrgSpace[]): Promise<Map<string, SpaceAudit['mayChange']>> {
  const names = new Map<string, string>();
  const bySpace = new Map<string, { space: Set<string>; app: Set<string> }>(spaces.map((s) => [s.guid, { space: new Set<string>(), app: new Set<string>() }]));
  const orgManagers = new Map<string, Set<string>>();
  const read = await orUnknown(async () => {
    for (const part of chunks(spaces, GUIDS_PER_FILTER)) {
      const { roles, users } = await cc.rolesWithUsers({ types: 'space_manager,space_developer', space_guids: part.map((s) => s.guid).join(',') });
      for (const u of users) names.set(u.guid, u.username ?? u.presentation_name ?? u.guid);
      for (const role of roles) {
        const holder = bySpace.get(role.relationships.space?.data?.guid ?? '');
        const user = role.relationships.user?.data?.guid;
        if (!holder || !user) continue;
        (role.type === 'space_manager' ? holder.space : holder.app).add(user);
      }
    }
    const orgGuids = [...new Set(spaces.map(orgGuidOf))];
    for (const part of chunks(orgGuids, GUIDS_PER_FILTER)) {
      const { roles, users } = await cc.rolesWithUsers({ types: 'organization_manager', organization_guids: part.join(',') });
      for (const u of users) names.set(u.guid, u.username ?? u.presentation_name ?? u.guid);
      for (const role of roles) {
        const org = role.relationships.organization?.data?.guid;
        const user = role.relationships.user?.data?.guid;
        if (!org || !user) continue;
        const managers = orgManagers.get(org) ?? new Set<string>();
        managers.add(user);
        orgManagers.set(org, managers);
      }
    }
  });
  const result = new Map<string, SpaceAudit['mayChange']>();
  for (const space of spaces) {
    const holder = bySpace.get(space.guid);
    if (!('value' in read) || !holder) {
      result.set(space.guid, null);
      continue;
    }
    const named = (guids: Iterable<string>) => [...new Set([...guids].map((g) => names.get(g) ?? g))].sort(compareNames);
    result.set(space.guid, { space: named([...holder.space, ...(orgManagers.get(orgGuidOf(space)) ?? [])]), app: named(holder.app) });
  }
  return result;
}

/** SSH login events of the scope in the window, and how far back CC's history reaches. */
async function sshEvents(cc: CloudController, spaces: OrgSpace[], window: AuditWindow): Promise<{ events: AuditEvent[]; history: AuditHistory }> {
  let events: AuditEvent[] = [];
  let oldest: string | undefined;
  const read = await orUnknown(async () => {
    for (const part of chunks(spaces, GUIDS_PER_FILTER)) {
      const space_guids = part.map((s) => s.guid).join(',');
      const [found, first] = await Promise.all([
        cc.auditEvents({ types: `${SSH_AUTHORIZED},${SSH_UNAUTHORIZED}`, space_guids, 'created_ats[gt]': window.from }),
        cc.oldestAuditEvent({ space_guids }),
      ]);
      events = events.concat(found);
      if (first && (!oldest || first.created_at < oldest)) oldest = first.created_at;
    }
  });
  if (!('value' in read)) return { events: [], history: { available: false, note: `Audit events are ${read.unknownBecause}: logins are not reported.` } };
  if (!oldest) {
    // None at all, of any type: not one this user may see (CC shows them to a space's developers
    // and auditors, the org's auditors and admins), or all pruned. Nothing can be said of logins.
    return {
      events,
      history: {
        available: false,
        note: `No audit events visible here: the Cloud Controller shows them to space developers and auditors, org auditors and admins, and prunes them after its retention (${CC_SAMPLE_RETENTION_DAYS} days by default). Logins are not reported.`,
      },
    };
  }
  const note =
    oldest > window.from
      ? `The window starts ${window.from}, before the oldest audit event the Cloud Controller still keeps here (${oldest}): older logins may have been pruned.`
      : undefined;
  return { events, history: { available: true, oldestEvent: oldest, note } };
}

/** The order in which CC checks the switches. */
const LEVELS = ['global', 'space', 'app'] as const;

/** On when every level is; blocked by the first that is off; null when a level is unknown and none is off. */
export function effectiveOf(levels: AppAudit['levels']): Pick<AppAudit, 'effective' | 'blockedBy'> {
  const blockedBy = LEVELS.find((level) => levels[level] === false);
  return { effective: blockedBy ? false : LEVELS.every((level) => levels[level] === true) ? true : null, blockedBy };
}

/** The whole report for a scope: read only; nothing is changed. */
export async function auditSsh(cf: CfClients, options: AuditOptions): Promise<AuditReport> {
  const { cc } = cf;
  const { spaces, orgNames, label } = await scopeSpaces(cf, options.scope);
  const [apps, spaceSwitches, mayChange, { events, history }] = await Promise.all([
    appsOf(cc, spaces),
    mapBounded(spaces, APP_READ_CONCURRENCY, (s) => orUnknown(() => cc.spaceSshFeature(s.guid))),
    whoMayChange(cc, spaces),
    sshEvents(cc, spaces, options.window),
  ]);
  const spaceByGuid = new Map(spaces.map((s, i) => [s.guid, { space: s, ssh: spaceSwitches[i] }]));

  // One ssh_enabled answer says whether SSH is on globally: CC checks that switch first.
  const [probe] = apps;
  const global = probe ? await orUnknown(() => cc.sshEnabled(probe.guid)) : undefined;
  const globalAnswer = known(global);
  const globalOn = globalAnswer ? globalAnswer.enabled || !GLOBAL_REASON.test(globalAnswer.reason) : null;

  const pacer = new Pacer(() => Date.now(), options.onNotice);
  let done = 0;
  options.onProgress?.(0, apps.length);
  const appSwitches = await mapBounded(apps, APP_READ_CONCURRENCY, async (app) => {
    await pacer.turn();
    const read = await orUnknown(async () => {
      const { feature, rateLimit } = await cc.appSshFeatureMetered(app.guid);
      pacer.observe(rateLimit);
      return feature.enabled;
    });
    options.onProgress?.(++done, apps.length);
    return read;
  });

  const processToApp = new Map(apps.map((a) => [a.guid, a]));
  const appInSpace = new Map(apps.map((a) => [`${a.relationships.space.data.guid}/${a.name}`, a]));
  const rows: SshEventRow[] = [];
  const logins = new Map<string, { last?: SshLogin; denied: number }>();
  for (const event of events) {
    // The actee is the process: for web, usually the app's own GUID; otherwise its name is the app's.
    const app = processToApp.get(event.target.guid) ?? appInSpace.get(`${event.space?.guid ?? ''}/${event.target.name ?? ''}`);
    const spaceGuid = app?.relationships.space.data.guid ?? event.space?.guid ?? '';
    const space = spaceByGuid.get(spaceGuid)?.space;
    const index = typeof event.data?.index === 'number' ? event.data.index : typeof event.data?.index === 'string' ? Number(event.data.index) : null;
    const authorized = event.type === SSH_AUTHORIZED;
    rows.push({
      at: event.created_at,
      org: space ? (orgNames.get(orgGuidOf(space)) ?? '') : '',
      space: space?.name ?? '',
      app: app?.name ?? event.target.name ?? event.target.guid,
      actor: event.actor.name || event.actor.guid,
      index: Number.isFinite(index) ? index : null,
      authorized,
    });
    if (!app) continue;
    const seen = logins.get(app.guid) ?? { denied: 0 };
    if (authorized) {
      if (!seen.last || event.created_at >= seen.last.at)
        seen.last = { actor: event.actor.name || event.actor.guid, index: Number.isFinite(index) ? index : null, at: event.created_at };
    } else seen.denied += 1;
    logins.set(app.guid, seen);
  }
  rows.sort((a, b) => compareNames(a.at, b.at));

  const appAudits = apps.map((app, i): AppAudit => {
    const entry = spaceByGuid.get(app.relationships.space.data.guid);
    const spaceRead = entry?.ssh;
    const appRead = appSwitches[i];
    const levels: AppAudit['levels'] = {
      global: globalOn,
      space: known(spaceRead)?.enabled ?? null,
      app: known(appRead),
    };
    const { effective, blockedBy } = effectiveOf(levels);
    const unknownBecause = [appRead, spaceRead].map((r) => (r && 'unknownBecause' in r ? r.unknownBecause : undefined)).find(Boolean);
    const seen = logins.get(app.guid);
    return {
      org: entry ? (orgNames.get(orgGuidOf(entry.space)) ?? '') : '',
      space: entry?.space.name ?? '',
      app: app.name,
      guid: app.guid,
      state: app.state,
      levels,
      effective,
      blockedBy,
      grant: grantOf(app, options.now),
      lastLogin: seen?.last,
      deniedLogins: seen?.denied ?? 0,
      unknownBecause,
    };
  });
  appAudits.sort((a, b) => compareNames(a.org, b.org) || compareNames(a.space, b.space) || compareNames(a.app, b.app));

  const spaceAudits = spaces.map((s, i): SpaceAudit => ({
    org: orgNames.get(orgGuidOf(s)) ?? '',
    space: s.name,
    guid: s.guid,
    orgGuid: orgGuidOf(s),
    ssh: known(spaceSwitches[i])?.enabled ?? null,
    mayChange: mayChange.get(s.guid) ?? null,
  }));
  return { scope: label, window: options.window, global: globalOn, history, spaces: spaceAudits, apps: appAudits, events: rows };
}

/** An app with SSH on and no valid time-boxed grant for it: what `--policy disabled` forbids. Unknown counts: compliance cannot be shown. */
export function breaksDisabledPolicy(app: AppAudit): boolean {
  if (app.effective === false) return false;
  return !(app.grant && !app.grant.expired && app.effective === true);
}

/** SSH on and no authorized login in the window. */
export function unusedInWindow(app: AppAudit, report: Pick<AuditReport, 'history'>): boolean {
  return report.history.available && app.effective === true && !app.lastLogin;
}

/** An expired grant whose app still has SSH on at app level: flagged loudly until someone enforces it. */
export function expiredButOn(app: AppAudit): boolean {
  return Boolean(app.grant?.expired) && app.levels.app === true;
}
