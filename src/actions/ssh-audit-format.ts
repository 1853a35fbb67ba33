// How an ssh-audit report, its events and its drift are written: a table to read, JSON and
// CSV for tools, and a header (API, user, time, scope) with the SHA-256 of the body below it,
// so a report filed as evidence can be checked: the hash is over exactly the bytes after the
// header's empty line, as printed.
import { createHash } from 'node:crypto';
import type { EnforceResult } from './ssh-audit-enforce.js';
import type { Drift } from './ssh-audit-snapshot.js';
import { type AppAudit, type AuditReport, expiredButOn, type SshEventRow, unusedInWindow } from './ssh-audit.js';

export type AuditFormat = 'table' | 'json' | 'csv';

const onOff = (value: boolean | null) => (value === true ? 'on' : value === false ? 'off' : 'unknown');

/** Columns padded to their widest cell, two spaces apart. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [headers, ...rows].map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')).join('\n');
}

/**
 * RFC 4180 CSV. A cell a spreadsheet would run as a formula (=, +, -, @ first) is prefixed with
 * an apostrophe: names come from the foundation's users, and a report is opened in spreadsheets.
 */
export function csv(headers: string[], rows: string[][]): string {
  const cell = (value: string) => {
    const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
    return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
  };
  return [headers, ...rows].map((row) => row.map(cell).join(',')).join('\n');
}

const loginText = (app: AppAudit) => (app.lastLogin ? `${app.lastLogin.actor} #${app.lastLogin.index ?? '?'} ${app.lastLogin.at}` : '-');
const grantText = (app: AppAudit) => (app.grant ? `${app.grant.expired ? 'EXPIRED' : 'until'} ${app.grant.expiresAt}${app.grant.reason ? ` (${app.grant.reason})` : ''}` : '-');

const APP_COLUMNS = ['org', 'space', 'app', 'state', 'global', 'space ssh', 'app ssh', 'effective', 'blocked by', 'last ssh login', 'denied', 'time-boxed grant'];

function appCells(app: AppAudit): string[] {
  return [
    app.org,
    app.space,
    app.app,
    app.state,
    onOff(app.levels.global),
    onOff(app.levels.space),
    onOff(app.levels.app),
    onOff(app.effective),
    app.blockedBy ?? '-',
    loginText(app),
    String(app.deniedLogins),
    grantText(app),
  ];
}

const where = (app: AppAudit) => `${app.org}/${app.space}/${app.app}`;

/** An expired time-boxed grant whose SSH is still on, one line each, loud. */
export function expiredGrantLines(report: AuditReport): string[] {
  return report.apps
    .filter(expiredButOn)
    .map(
      (a) =>
        `!!! EXPIRED SSH GRANT: ${where(a)} expired ${a.grant?.expiresAt}${a.grant?.reason ? ` (${a.grant.reason})` : ''} and its SSH is still on: run ssh-audit --enforce or disable-ssh --expired.`,
    );
}

/** Lines that need a person's attention: expired grants first, then unknown states, then unused SSH. */
export function findings(report: AuditReport): string[] {
  return [
    ...expiredGrantLines(report),
    ...report.apps.filter((a) => a.effective === null).map((a) => `Unknown: ${where(a)}: ${a.unknownBecause ?? 'a level could not be read'}.`),
    ...report.apps.filter((a) => unusedInWindow(a, report)).map((a) => `Unused: ${where(a)} has SSH on and no SSH login since ${report.window.from}.`),
  ];
}

function summary(report: AuditReport): string {
  const count = (test: (a: AppAudit) => boolean) => report.apps.filter(test).length;
  const blocked = (['global', 'space', 'app'] as const).map((level) => `${count((a) => a.blockedBy === level)} by ${level}`).join(', ');
  return `${report.apps.length} apps in ${report.spaces.length} spaces: SSH on for ${count((a) => a.effective === true)}, off for ${count((a) => a.effective === false)} (blocked ${blocked}), unknown for ${count((a) => a.effective === null)}.`;
}

function reportTable(report: AuditReport): string {
  const spaces = table(
    ['org', 'space', 'space ssh', 'may change space ssh', 'may change app ssh'],
    report.spaces.map((s) => [
      s.org,
      s.space,
      onOff(s.ssh),
      s.mayChange ? s.mayChange.space.join(', ') || '-' : 'unknown',
      s.mayChange ? s.mayChange.app.join(', ') || '-' : 'unknown',
    ]),
  );
  const lines = [
    `Global SSH: ${onOff(report.global)}`,
    `Window: ${report.window.since}, ${report.window.from} to ${report.window.to}`,
    ...(report.history.note ? [`Note: ${report.history.note}`] : []),
    '',
    'Spaces:',
    spaces,
    '',
    'Apps:',
    report.apps.length > 0 ? table(APP_COLUMNS, report.apps.map(appCells)) : '(none)',
    '',
    summary(report),
  ];
  const found = findings(report);
  if (found.length > 0) lines.push('', 'Findings:', ...found);
  return lines.join('\n');
}

/** The report as JSON: what was read, with what the table derives (unused, expired grants) spelled out. */
function reportJson(report: AuditReport): unknown {
  const { events: _events, ...rest } = report;
  return {
    ...rest,
    apps: report.apps.map((a) => ({ ...a, unusedInWindow: unusedInWindow(a, report), expiredGrantStillOn: expiredButOn(a) })),
  };
}

const CSV_COLUMNS = [
  'org',
  'space',
  'app',
  'app_guid',
  'state',
  'global_ssh',
  'space_ssh',
  'app_ssh',
  'effective',
  'blocked_by',
  'last_login_actor',
  'last_login_index',
  'last_login_at',
  'denied_logins',
  'unused_in_window',
  'grant_expires_at',
  'grant_reason',
  'grant_expired',
  'may_change_space_ssh',
  'may_change_app_ssh',
];

function reportCsv(report: AuditReport): string {
  const spaces = new Map(report.spaces.map((s) => [`${s.org}/${s.space}`, s]));
  return csv(
    CSV_COLUMNS,
    report.apps.map((a) => {
      const may = spaces.get(`${a.org}/${a.space}`)?.mayChange;
      return [
        a.org,
        a.space,
        a.app,
        a.guid,
        a.state,
        onOff(a.levels.global),
        onOff(a.levels.space),
        onOff(a.levels.app),
        onOff(a.effective),
        a.blockedBy ?? '',
        a.lastLogin?.actor ?? '',
        a.lastLogin?.index?.toString() ?? '',
        a.lastLogin?.at ?? '',
        String(a.deniedLogins),
        String(unusedInWindow(a, report)),
        a.grant?.expiresAt ?? '',
        a.grant?.reason ?? '',
        a.grant ? String(a.grant.expired) : '',
        may ? may.space.join(';') : 'unknown',
        may ? may.app.join(';') : 'unknown',
      ];
    }),
  );
}

export function renderReport(report: AuditReport, format: AuditFormat): string {
  if (format === 'json') return JSON.stringify(reportJson(report), null, 2);
  if (format === 'csv') return reportCsv(report);
  return reportTable(report);
}

const EVENT_COLUMNS = ['time', 'org', 'space', 'app', 'instance', 'actor', 'result'];

export function renderEvents(report: AuditReport, format: AuditFormat): string {
  const rows = report.events;
  if (format === 'json') return JSON.stringify({ window: report.window, history: report.history, events: rows }, null, 2);
  const cells = (e: SshEventRow) => [e.at, e.org, e.space, e.app, e.index?.toString() ?? '', e.actor, e.authorized ? 'authorized' : 'unauthorized'];
  if (format === 'csv') return csv(EVENT_COLUMNS, rows.map(cells));
  const lines = [`SSH logins from ${report.window.from} to ${report.window.to}:`];
  if (report.history.note) lines.push(`Note: ${report.history.note}`);
  lines.push(rows.length > 0 ? table(EVENT_COLUMNS, rows.map(cells)) : '(none)');
  return lines.join('\n');
}

export function renderDrift(drift: Drift, format: AuditFormat): string {
  if (format === 'json') return JSON.stringify(drift, null, 2);
  const columns = ['change', 'where', 'what', 'who'];
  const rows = drift.items.map((i) => [i.kind, i.where, i.what, i.who ?? 'unknown']);
  if (format === 'csv') return csv(columns, rows);
  return [
    `Changes since ${drift.since}:`,
    rows.length > 0 ? table(columns, rows) : '(none)',
    '',
    'Switching SSH on or off leaves no audit event in Cloud Controller: "who" is known only where the app has another event (an annotation change, a create or delete) since then.',
  ].join('\n');
}

/** One line per change enforcement made, would make, or could not make; then a summary. */
export function enforcementLines(result: EnforceResult, dryRun: boolean): string[] {
  const where = (c: EnforceResult['changes'][number]) => (c.app ? `app ${c.org}/${c.space}/${c.app}` : `space ${c.org}/${c.space}`);
  const lines = result.changes.map((c) => {
    if (c.outcome === 'would') return `Would disable SSH for ${where(c)} (${c.why}).`;
    if (c.outcome === 'done') return `Disabled SSH for ${where(c)} (${c.why}).`;
    return `FAILED to disable SSH for ${where(c)}: ${c.error}`;
  });
  for (const kept of result.keptGrants) lines.push(`Kept SSH for app ${kept.org}/${kept.space}/${kept.app}: time-boxed until ${kept.grant?.expiresAt}.`);
  const failed = result.changes.filter((c) => c.outcome === 'failed').length;
  const done = result.changes.length - failed;
  lines.push(
    dryRun
      ? `Dry run: ${result.changes.length} change(s) would be made; nothing was changed.`
      : `Enforced: ${done} disabled, ${failed} failed${failed > 0 ? ' (see above: switching SSH needs a space developer for apps, a space or org manager for spaces)' : ''}.`,
  );
  return lines;
}

export interface ReportHeader {
  api: string;
  user: string;
  time: string;
  scope: string;
}

/** The header lines (each "# "), an empty line, and the body; the hash is of the body and its final newline. */
export function withHeader(header: ReportHeader, body: string): string {
  const sha256 = createHash('sha256').update(`${body}\n`, 'utf8').digest('hex');
  return [
    '# cf-ssh-tools ssh-audit',
    `# API: ${header.api}`,
    `# User: ${header.user}`,
    `# Time: ${header.time}`,
    `# Scope: ${header.scope}`,
    `# SHA-256 of the body (the lines after the first empty line): ${sha256}`,
    '',
    body,
  ].join('\n');
}
