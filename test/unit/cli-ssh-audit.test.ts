// ssh-audit against the test foundation, the CLI and the foundation in-process: each level
// blocking, the hashed header, formats, scopes, the policy's exit status, enforcement by
// someone who may and someone who may not, dry runs, snapshots and drift, and the window.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { csv, table } from '../../src/actions/ssh-audit-format.js';
import { Pacer, parseWindow } from '../../src/actions/ssh-audit.js';
import { startProgress } from '../../src/io/progress.js';
import { Terminal } from '../../src/io/terminal.js';
import { type Foundation, startFoundation } from '../foundation/server.js';
import { expectRequests } from '../helpers/expect-requests.js';
import { type LocalServer, localServer, sendJson } from '../helpers/local-server.js';
import { loggedIn, runCli, tempHome } from '../helpers/run-cli.js';

/** The body after the header's empty line, checked against the header's SHA-256. */
function verifiedBody(stdout: string): string {
  const split = stdout.indexOf('\n\n');
  assert.ok(split > 0, `no header in:\n${stdout}`);
  const hash = /^# SHA-256 of the body \(the lines after the first empty line\): ([0-9a-f]{64})$/m.exec(stdout.slice(0, split))?.[1];
  const body = stdout.slice(split + 2);
  assert.equal(createHash('sha256').update(body).digest('hex'), hash, 'the header hashes the body as printed');
  return body;
}

interface JsonApp {
  app: string;
  space: string;
  levels: { global: boolean | null; space: boolean | null; app: boolean | null };
  effective: boolean | null;
  blockedBy?: string;
}

const jsonApps = (stdout: string) => (JSON.parse(verifiedBody(stdout)) as { apps: JsonApp[] }).apps;

describe('ssh-audit', () => {
  let foundation: Foundation;
  let developer: string;
  let auditor: string;
  let manager: string;
  let files: string;

  const app = (name: string) => foundation.world.apps.find((a) => a.name === name);
  const space = (name: string) => foundation.world.spaces.find((s) => s.name === name);
  const patches = (from: number) => foundation.requests.slice(from).filter((r) => r.method === 'PATCH');

  before(async () => {
    foundation = await startFoundation({ ssh: false });
    [developer, auditor, manager] = await Promise.all([loggedIn(foundation.url, 'developer'), loggedIn(foundation.url, 'auditor'), loggedIn(foundation.url, 'manager')]);
    files = mkdtempSync(path.join(tmpdir(), 'ssh-audit-test-'));
  });
  after(async () => {
    await foundation.stop();
    rmSync(files, { recursive: true, force: true });
  });

  it('reports the targeted space by default: a table under a header whose hash is of the body printed', async () => {
    const r = await runCli(developer, ['ssh-audit']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '', 'nothing on stderr when it is not a terminal');
    assert.match(
      r.stdout,
      /^# cf-ssh-tools ssh-audit\n# API: http:\/\/127\.0\.0\.1:\d+\n# User: developer\n# Time: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n# Scope: space demo-org\/demo-space\n/,
    );
    const body = verifiedBody(r.stdout);
    assert.match(body, /^Global SSH: on\nWindow: 7d, /);
    assert.match(body, /^demo-org {2}demo-space {2}demo-app {5}STARTED {2}on {6}on {9}on {7}on {9}- /m);
    assert.match(body, /^demo-org {2}demo-space {2}no-ssh-app {3}STARTED {2}on {6}on {9}off {6}off {8}app /m);
    assert.doesNotMatch(body, /locked-app/, 'another space is not in the default scope');
    assert.match(body, /^3 apps in 1 spaces: SSH on for 2, off for 1 \(blocked 0 by global, 0 by space, 1 by app\), unknown for 0\.$/m);
  });

  it('names the level that blocks each app: app, space, then global over both', async () => {
    const org = jsonApps((await runCli(developer, ['ssh-audit', '-o', 'demo-org', '--json'])).stdout);
    const byName = new Map(org.map((a) => [a.app, a]));
    assert.deepEqual(byName.get('no-ssh-app'), { ...byName.get('no-ssh-app'), levels: { global: true, space: true, app: false }, effective: false, blockedBy: 'app' });
    assert.deepEqual(byName.get('locked-app'), {
      ...byName.get('locked-app'),
      space: 'locked-space',
      levels: { global: true, space: false, app: true },
      effective: false,
      blockedBy: 'space',
    });
    assert.equal(byName.get('demo-app')?.effective, true);
    assert.equal(byName.get('demo-app')?.blockedBy, undefined);

    foundation.world.globalSsh = false;
    try {
      const off = jsonApps((await runCli(developer, ['ssh-audit', '-o', 'demo-org', '--json'])).stdout);
      assert.deepEqual(
        off.map((a) => [a.app, a.levels.global, a.effective, a.blockedBy]),
        [
          ['demo-app', false, false, 'global'],
          ['no-ssh-app', false, false, 'global'],
          ['stopped-app', false, false, 'global'],
          ['locked-app', false, false, 'global'],
        ],
      );
    } finally {
      foundation.world.globalSsh = true;
    }
  });

  it('reads one list per kind at the largest page, one switch per app and space, and one ssh_enabled for the global switch', async () => {
    const r = await expectRequests(
      foundation,
      [
        'GET /v3/organizations?names=demo-org',
        'GET /v3/spaces?organization_guids=:org&order_by=name&per_page=5000',
        'GET /v3/apps?space_guids=:spaces&order_by=name&per_page=5000',
        'GET /v3/spaces/:guid/features/ssh',
        'GET /v3/spaces/:guid/features/ssh',
        'GET /v3/roles?types=space_manager,space_developer&space_guids=:spaces&include=user&per_page=5000',
        'GET /v3/roles?types=organization_manager&organization_guids=:org&include=user&per_page=5000',
        'GET /v3/audit_events?types=audit.app.ssh-authorized,audit.app.ssh-unauthorized&space_guids=:spaces&created_ats[gt]=:from&order_by=created_at&per_page=5000',
        'GET /v3/audit_events?space_guids=:spaces&order_by=created_at&per_page=1',
        'GET /v3/apps/:guid/ssh_enabled',
        'GET /v3/apps/:guid/features/ssh',
        'GET /v3/apps/:guid/features/ssh',
        'GET /v3/apps/:guid/features/ssh',
        'GET /v3/apps/:guid/features/ssh',
      ],
      () => runCli(developer, ['ssh-audit', '-o', 'demo-org', '--csv']),
    );
    assert.equal(r.code, 0, r.stderr);
    const [columns, ...rows] = verifiedBody(r.stdout).trimEnd().split('\n');
    assert.match(columns ?? '', /^org,space,app,app_guid,state,global_ssh,space_ssh,app_ssh,effective,blocked_by,/);
    assert.deepEqual(
      rows.map((row) => row.split(',').filter((_, i) => [0, 1, 2, 8, 9].includes(i))),
      [
        ['demo-org', 'demo-space', 'demo-app', 'on', ''],
        ['demo-org', 'demo-space', 'no-ssh-app', 'off', 'app'],
        ['demo-org', 'demo-space', 'stopped-app', 'on', ''],
        ['demo-org', 'locked-space', 'locked-app', 'off', 'space'],
      ],
    );
  });

  it('--all covers every org the user can see, listed at the largest page', async () => {
    const admin = await loggedIn(foundation.url, 'admin');
    const from = foundation.requests.length;
    const r = await runCli(admin, ['ssh-audit', '--all']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^# Scope: every org visible to admin$/m);
    const orgLists = foundation.requests.slice(from).filter((q) => q.path === '/v3/organizations');
    assert.deepEqual(
      orgLists.map((q) => q.query),
      ['?order_by=name&per_page=5000'],
    );
    const body = verifiedBody(r.stdout);
    assert.match(body, /^4 apps in 2 spaces: /m);
    const developerSees = jsonApps((await runCli(developer, ['ssh-audit', '--all', '--json'])).stdout);
    assert.deepEqual(
      developerSees.map((a) => a.app),
      ['demo-app', 'no-ssh-app', 'stopped-app', 'locked-app'],
    );
  });

  it('--policy disabled exits 3 and names what is on; 0 when nothing is', async () => {
    const broken = await runCli(developer, ['ssh-audit', '--policy', 'disabled']);
    assert.equal(broken.code, 3);
    assert.equal(broken.stderr, "Policy 'disabled' broken: SSH is on (or could not be read) for 2 app(s): demo-org/demo-space/demo-app, demo-org/demo-space/stopped-app\n");
    const home = await loggedIn(foundation.url, 'developer', 'locked-space');
    const kept = await runCli(home, ['ssh-audit', '--policy', 'disabled']);
    assert.equal(kept.code, 0, kept.stderr);
    assert.equal(kept.stderr, '');
    const unknown = await runCli(developer, ['ssh-audit', '--policy', 'enabled']);
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr, "Incorrect Usage: --policy knows 'disabled', not 'enabled'.\n");
  });

  it('--enforce --dry-run says what would change and changes nothing', async () => {
    const from = foundation.requests.length;
    const r = await runCli(developer, ['ssh-audit', '--enforce', '--dry-run']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /\n\nWould disable SSH for app demo-org\/demo-space\/demo-app \(SSH enabled for the app\)\.\nWould disable SSH for app demo-org\/demo-space\/stopped-app \(SSH enabled for the app\)\.\nDry run: 2 change\(s\) would be made; nothing was changed\.\n$/,
    );
    assert.deepEqual(patches(from), []);
    assert.equal(app('demo-app')?.sshEnabled, true);
  });

  it('an auditor can report but not enforce: each refusal in CC words, a summary, exit 4, nothing changed', async () => {
    const report = await runCli(auditor, ['ssh-audit', '--json']);
    assert.equal(report.code, 0, report.stderr);
    assert.equal(jsonApps(report.stdout).length, 3);
    const r = await runCli(auditor, ['ssh-audit', '--enforce']);
    assert.equal(r.code, 4);
    assert.match(r.stdout, /\nFAILED to disable SSH for app demo-org\/demo-space\/demo-app: You are not authorized to perform the requested action\n/);
    assert.match(r.stdout, /\nFAILED to disable SSH for app demo-org\/demo-space\/stopped-app: You are not authorized to perform the requested action\n/);
    assert.match(r.stdout, /\nEnforced: 0 disabled, 2 failed \(see above: switching SSH needs a space developer for apps, a space or org manager for spaces\)\.\n$/);
    assert.equal(app('demo-app')?.sshEnabled, true);
    assert.equal(app('stopped-app')?.sshEnabled, true);
  });

  it('--enforce turns app switches off, prints each, and the policy then holds', async () => {
    try {
      const from = foundation.requests.length;
      const r = await runCli(developer, ['ssh-audit', '--enforce', '--policy', 'disabled', '--json']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(
        r.stderr,
        'Disabled SSH for app demo-org/demo-space/demo-app (SSH enabled for the app).\nDisabled SSH for app demo-org/demo-space/stopped-app (SSH enabled for the app).\nEnforced: 2 disabled, 0 failed.\n',
      );
      assert.equal(patches(from).length, 2);
      assert.equal(app('demo-app')?.sshEnabled, false);
      assert.equal(app('stopped-app')?.sshEnabled, false);
      assert.equal(app('no-ssh-app')?.sshEnabled, false);
      // The JSON is the state found, before enforcement: the evidence of what was on.
      assert.equal(jsonApps(r.stdout).find((a) => a.app === 'demo-app')?.effective, true);
    } finally {
      for (const name of ['demo-app', 'stopped-app']) assert.equal((await runCli(developer, ['enable-ssh', name])).code, 0);
    }
  });

  it('--enforce space needs a space or org manager: a developer is refused, the org manager switches it off', async () => {
    const denied = await runCli(developer, ['ssh-audit', '--enforce', 'space']);
    assert.equal(denied.code, 4);
    assert.match(denied.stdout, /FAILED to disable SSH for space demo-org\/demo-space: You are not authorized to perform the requested action\n/);
    assert.equal(space('demo-space')?.allowSsh, true);
    try {
      const r = await runCli(manager, ['ssh-audit', '-o', 'demo-org', '--enforce', 'space']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /\n\nDisabled SSH for space demo-org\/demo-space \(SSH allowed in the space\)\.\nEnforced: 1 disabled, 0 failed\.\n$/);
      assert.equal(space('demo-space')?.allowSsh, false);
      assert.equal(space('locked-space')?.allowSsh, false);
    } finally {
      assert.equal((await runCli(manager, ['allow-space-ssh', 'demo-space'])).code, 0);
    }
    const misuse = await runCli(developer, ['ssh-audit', 'space']);
    assert.equal(misuse.code, 1);
    assert.equal(misuse.stderr, "Incorrect Usage: 'space' is not an option of ssh-audit: did you mean --enforce space?\n");
  });

  it('--save writes a snapshot; --diff names what changed since, and says toggles leave no audit event', async () => {
    const snapshot = path.join(files, 'before.json');
    const saved = await runCli(developer, ['ssh-audit', '-o', 'demo-org', '--save', snapshot]);
    assert.equal(saved.code, 0, saved.stderr);
    assert.equal(saved.stderr, `Snapshot saved to ${snapshot}: compare later with --diff ${snapshot}.\n`);
    const written = JSON.parse(readFileSync(snapshot, 'utf8')) as { format: string; report: { apps: unknown[] } };
    assert.equal(written.format, 'cf-ssh-tools/ssh-audit-snapshot/1');
    assert.equal(written.report.apps.length, 4);

    const added = foundation.world.addApp(space('demo-space') ?? assert.fail('no demo-space'), 'audit-new-app');
    try {
      assert.equal((await runCli(developer, ['disable-ssh', 'demo-app'])).code, 0);
      const r = await runCli(developer, ['ssh-audit', '-o', 'demo-org', '--diff', snapshot]);
      assert.equal(r.code, 0, r.stderr);
      const body = verifiedBody(r.stdout);
      assert.match(body, /^Changes since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ:\n/);
      assert.match(body, /^app {8}demo-org\/demo-space\/demo-app {7}app SSH on → off, effective on → off {2}unknown$/m);
      assert.match(body, /^app-added {2}demo-org\/demo-space\/audit-new-app {2}app added \(SSH effectively on\) {8}unknown$/m);
      assert.match(body, /Switching SSH on or off leaves no audit event in Cloud Controller: "who" is known only where/);
      const json = JSON.parse(verifiedBody((await runCli(developer, ['ssh-audit', '-o', 'demo-org', '--diff', snapshot, '--json'])).stdout)) as { items: { kind: string }[] };
      assert.deepEqual(json.items.map((i) => i.kind).sort(), ['app', 'app-added']);
    } finally {
      foundation.world.apps.splice(foundation.world.apps.indexOf(added), 1);
      assert.equal((await runCli(developer, ['enable-ssh', 'demo-app'])).code, 0);
    }
    const removed = await runCli(developer, ['ssh-audit', '--diff', snapshot]);
    assert.equal(removed.stderr, 'The snapshot covers org demo-org, this run space demo-org/demo-space: what lies outside this run shows as removed.\n');
    assert.match(verifiedBody(removed.stdout), /^app-removed {2}demo-org\/locked-space\/locked-app\s+app removed \(or no longer visible\)\s+unknown$/m);

    const notSnapshot = path.join(files, 'other.json');
    writeFileSync(notSnapshot, '{"apps": []}');
    const refused = await expectRequests(foundation, [], () => runCli(developer, ['ssh-audit', '--diff', notSnapshot]));
    assert.equal(refused.code, 1);
    assert.equal(refused.stderr, `${notSnapshot} is not an ssh-audit snapshot (format cf-ssh-tools/ssh-audit-snapshot/1): make one with --save.\n`);
  });

  it('the window: --since in days, hours or minutes, ending at the run; anything else is refused', async () => {
    const now = Date.parse('2026-11-26T08:00:00.500Z');
    assert.deepEqual(parseWindow('7d', now), { since: '7d', from: '2026-11-19T08:00:00Z', to: '2026-11-26T08:00:00Z' });
    assert.deepEqual(parseWindow('36h', now), { since: '36h', from: '2026-11-24T20:00:00Z', to: '2026-11-26T08:00:00Z' });
    assert.deepEqual(parseWindow('90m', now), { since: '90m', from: '2026-11-26T06:30:00Z', to: '2026-11-26T08:00:00Z' });
    const r = await runCli(developer, ['ssh-audit', '--since', '12h', '--json'], { now: () => Date.now() });
    assert.equal(r.code, 0, r.stderr);
    const { window } = JSON.parse(verifiedBody(r.stdout)) as { window: { since: string; from: string; to: string } };
    assert.equal(window.since, '12h');
    assert.equal(Date.parse(window.to) - Date.parse(window.from), 12 * 3_600_000);
    for (const bad of ['7', '0d', '1w', '366d', '-1d']) {
      const refused = await runCli(developer, ['ssh-audit', '--since', bad]);
      assert.equal(refused.code, 1, bad);
      assert.equal(refused.stderr, `Incorrect Usage: --since takes a length such as 7d, 12h or 30m (at most 365d), not '${bad}'.\n`);
    }
  });

  it('who may change SSH comes from CC roles: space and org managers for the space, developers for apps', async () => {
    const r = await runCli(auditor, ['ssh-audit', '-o', 'demo-org', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const { spaces } = JSON.parse(verifiedBody(r.stdout)) as { spaces: { space: string; ssh: boolean; mayChange: unknown }[] };
    assert.deepEqual(
      spaces.map((s) => [s.space, s.ssh, s.mayChange]),
      [
        ['demo-space', true, { space: ['manager', 'space-manager'], app: ['ci-client', 'developer'] }],
        ['locked-space', false, { space: ['manager', 'space-manager'], app: ['developer'] }],
      ],
    );
  });

  it('the last authorized login per app, refused ones counted, and SSH on but unused in the window', async () => {
    const week = await runCli(developer, ['ssh-audit', '--json']);
    const report = JSON.parse(verifiedBody(week.stdout)) as {
      apps: (JsonApp & { lastLogin?: { actor: string; index: number; at: string }; deniedLogins: number; unusedInWindow: boolean })[];
    };
    const demo = report.apps.find((a) => a.app === 'demo-app');
    assert.equal(demo?.lastLogin?.actor, 'developer@example.com');
    assert.equal(demo?.lastLogin?.index, 0);
    // Seeded two days before the foundation started.
    assert.ok(Math.abs(Date.now() - 2 * 86_400_000 - Date.parse(demo?.lastLogin?.at ?? '')) < 60_000, demo?.lastLogin?.at);
    assert.equal(demo?.deniedLogins, 1);
    assert.equal(demo?.unusedInWindow, false);
    assert.equal(report.apps.find((a) => a.app === 'stopped-app')?.unusedInWindow, true);

    const day = await runCli(developer, ['ssh-audit', '--since', '1d']);
    const body = verifiedBody(day.stdout);
    assert.match(body, /^Unused: demo-org\/demo-space\/demo-app has SSH on and no SSH login since /m);
    assert.match(body, /^Unused: demo-org\/demo-space\/stopped-app has SSH on and no SSH login since /m);
    assert.doesNotMatch(body, /^Note:/m);
  });

  it('says when the window reaches past what CC keeps, and when this user sees no events at all', async () => {
    const month = verifiedBody((await runCli(developer, ['ssh-audit', '--since', '30d'])).stdout);
    // The oldest event kept is 20 days old: CC pruned those of 40 and 45 days (31 days' retention).
    assert.match(month, /^Note: The window starts \S+, before the oldest audit event the Cloud Controller still keeps here \((\S+)\): older logins may have been pruned\.$/m);
    assert.match(month, /^demo-org {2}demo-space {2}demo-app {5}.* developer@example\.com #0 /m);

    // Managers see no audit events on CC: no "unused" claims are made for them.
    const managed = verifiedBody((await runCli(manager, ['ssh-audit', '-o', 'demo-org'])).stdout);
    assert.match(managed, /^Note: No audit events visible here: the Cloud Controller shows them to space developers and auditors, org auditors and admins/m);
    assert.doesNotMatch(managed, /Unused:/);
  });

  it('--events lists each login of the window, authorized or not, in table, CSV and JSON', async () => {
    const table = verifiedBody((await runCli(developer, ['ssh-audit', '-o', 'demo-org', '--events'])).stdout)
      .trimEnd()
      .split('\n');
    assert.match(table[0] ?? '', /^SSH logins from \S+Z to \S+Z:$/);
    assert.deepEqual(
      table.slice(2).map((line) => line.split(/ {2,}/).slice(1)),
      [
        ['demo-org', 'locked-space', 'locked-app', '0', 'developer@example.com', 'unauthorized'],
        ['demo-org', 'demo-space', 'demo-app', '0', 'auditor@example.com', 'unauthorized'],
        ['demo-org', 'demo-space', 'demo-app', '0', 'developer@example.com', 'authorized'],
      ],
    );
    const csvRows = verifiedBody((await runCli(developer, ['ssh-audit', '--events', '--csv', '--since', '10d'])).stdout)
      .trimEnd()
      .split('\n');
    assert.equal(csvRows[0], 'time,org,space,app,instance,actor,result');
    assert.deepEqual(
      csvRows.slice(1).map((row) => row.split(',').slice(3)),
      [
        ['demo-app', '1', 'developer@example.com', 'authorized'],
        ['no-ssh-app', '0', 'developer@example.com', 'unauthorized'],
        ['demo-app', '0', 'auditor@example.com', 'unauthorized'],
        ['demo-app', '0', 'developer@example.com', 'authorized'],
      ],
    );
    const json = JSON.parse(verifiedBody((await runCli(developer, ['ssh-audit', '--events', '--json', '--since', '1d'])).stdout)) as { events: unknown[] };
    assert.deepEqual(json.events, []);
  });

  it('time-boxed grants: an expired one is flagged loudly and enforced, a valid one kept and allowed by the policy', async () => {
    const grant = (name: string, expiresAt: string, reason: string) => {
      const annotations = (app(name) ?? assert.fail(name)).metadata.annotations;
      annotations['ssh.cf-ssh-tools/expires-at'] = expiresAt;
      annotations['ssh.cf-ssh-tools/reason'] = reason;
    };
    grant('demo-app', new Date(Date.now() + 3_600_000).toISOString(), 'INC-1234');
    grant('stopped-app', '2026-01-02T03:04:05Z', 'INC-1000');
    try {
      const r = await runCli(developer, ['ssh-audit', '--csv', '--policy', 'disabled']);
      assert.equal(r.code, 3);
      assert.equal(
        r.stderr,
        [
          '!!! EXPIRED SSH GRANT: demo-org/demo-space/stopped-app expired 2026-01-02T03:04:05Z (INC-1000) and its SSH is still on: run ssh-audit --enforce or disable-ssh --expired.',
          "Policy 'disabled' broken: SSH is on (or could not be read) for 1 app(s): demo-org/demo-space/stopped-app",
          '',
        ].join('\n'),
      );
      const table = verifiedBody((await runCli(developer, ['ssh-audit'])).stdout);
      assert.match(table, /^Findings:\n!!! EXPIRED SSH GRANT: demo-org\/demo-space\/stopped-app expired 2026-01-02T03:04:05Z \(INC-1000\)/m);
      assert.match(table, / until \S+ \(INC-1234\)$/m);

      const enforced = await runCli(developer, ['ssh-audit', '--enforce', '--policy', 'disabled']);
      assert.equal(enforced.code, 0, enforced.stderr);
      assert.match(
        enforced.stdout,
        /\n\nDisabled SSH for app demo-org\/demo-space\/stopped-app \(time-boxed grant expired 2026-01-02T03:04:05Z\)\.\nKept SSH for app demo-org\/demo-space\/demo-app: time-boxed until \S+\.\nEnforced: 1 disabled, 0 failed\.\n$/,
      );
      assert.equal(app('stopped-app')?.sshEnabled, false);
      assert.equal(app('demo-app')?.sshEnabled, true);
      // Off now: an expired grant is no longer worth a shout.
      assert.doesNotMatch((await runCli(developer, ['ssh-audit'])).stdout, /EXPIRED SSH GRANT/);
    } finally {
      for (const name of ['demo-app', 'stopped-app']) {
        const annotations = app(name)?.metadata.annotations ?? {};
        delete annotations['ssh.cf-ssh-tools/expires-at'];
        delete annotations['ssh.cf-ssh-tools/reason'];
      }
      assert.equal((await runCli(developer, ['enable-ssh', 'stopped-app'])).code, 0);
    }
  });

  it("reads the global switch from CC's reason in the pre-2019 wording too", async () => {
    foundation.world.globalSsh = false;
    foundation.world.sshReasonWording = 'pre-2019';
    try {
      const apps = jsonApps((await runCli(developer, ['ssh-audit', '--json'])).stdout);
      assert.deepEqual(
        apps.map((a) => a.blockedBy),
        ['global', 'global', 'global'],
      );
    } finally {
      foundation.world.globalSsh = true;
      foundation.world.sshReasonWording = 'current';
    }
  });

  it('-o and --all, --json and --csv exclude each other', async () => {
    for (const [args, message] of [
      [['-o', 'demo-org', '--all'], 'Give -o ORG or --all, not both.'],
      [['--json', '--csv'], 'Give --json or --csv, not both.'],
      [['--dry-run'], '--dry-run goes with --enforce.'],
    ] as const) {
      const r = await expectRequests(foundation, [], () => runCli(developer, ['ssh-audit', ...args]));
      assert.equal(r.code, 1);
      assert.equal(r.stderr, `Incorrect Usage: ${message}\n`);
    }
  });
});

describe('ssh-audit across many pages', () => {
  let foundation: Foundation;

  before(async () => {
    foundation = await startFoundation({ ssh: false });
  });
  after(() => foundation.stop());

  it('reads 5,050 apps over two pages of 5,000 and every switch, 16 at a time at most', async () => {
    const locked = foundation.world.spaces.find((s) => s.name === 'locked-space') ?? assert.fail('no locked-space');
    for (let i = 0; i < 5049; i += 1) foundation.world.addApp(locked, `bulk-${String(i).padStart(4, '0')}`, { sshEnabled: i % 2 === 0 });
    const home = await loggedIn(foundation.url, 'developer', 'locked-space');
    const from = foundation.requests.length;
    const r = await runCli(home, ['ssh-audit', '--json'], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    const apps = jsonApps(r.stdout);
    assert.equal(apps.length, 5050);
    assert.equal(apps.filter((a) => a.levels.app === true).length, 2526);
    assert.ok(apps.every((a) => a.blockedBy === 'space'));
    const made = foundation.requests.slice(from);
    const appPages = made.filter((q) => q.path === '/v3/apps');
    assert.deepEqual(
      appPages.map((q) => new URLSearchParams(q.query).get('page')),
      [null, '2'],
    );
    assert.equal(made.filter((q) => /^\/v3\/apps\/[^/]+\/features\/ssh$/.test(q.path)).length, 5050);
  });
});

describe('ssh-audit helpers', () => {
  it('CSV quotes what needs it and defuses cells a spreadsheet would run', () => {
    assert.equal(
      csv(
        ['a', 'b'],
        [
          ['=cmd|calc', 'x,"y"'],
          ['-1', 'plain'],
        ],
      ),
      `a,b\n'=cmd|calc,"x,""y"""\n'-1,plain`,
    );
  });

  it('a table pads every column but the last', () => {
    assert.equal(table(['a', 'bb'], [['ccc', 'd']]), 'a    bb\nccc  d');
  });

  it('paces requests when the rate limit runs low, says so once, and stops when it recovers', async () => {
    const notices: string[] = [];
    const pacer = new Pacer(
      () => Date.now(),
      (n) => notices.push(n),
    );
    pacer.observe({ remaining: 10, resetAtMs: Date.now() + 400 });
    const started = Date.now();
    await pacer.turn();
    await pacer.turn();
    await pacer.turn();
    // Three turns 40 ms apart: the second and third wait.
    assert.ok(Date.now() - started >= 70, `paced: ${Date.now() - started} ms`);
    pacer.observe({ remaining: 9, resetAtMs: Date.now() + 400 });
    assert.equal(notices.length, 1);
    assert.match(notices[0] ?? '', /^The Cloud Controller's rate limit has 10 requests left until \d{4}-.*Z: pacing requests \(up to 2 s apart\)\.$/);
    pacer.observe({ remaining: 1000, resetAtMs: Date.now() + 400 });
    const free = Date.now();
    await pacer.turn();
    assert.ok(Date.now() - free < 20);
  });
});

describe('ssh-audit progress', () => {
  const terminal = (isTTY: boolean) => {
    let written = '';
    const stderr = Object.assign(
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          written += chunk.toString();
          callback();
        },
      }),
      // What ora calls on a terminal stream to redraw its line.
      { isTTY, columns: 120, cursorTo: () => true, clearLine: () => true, moveCursor: () => true },
    );
    const term = new Terminal({ stdin: new PassThrough(), stdout: new PassThrough(), stderr });
    return { term, written: () => written };
  };

  it('draws a bar with the count on a terminal, and writes nothing elsewhere', async () => {
    const tty = terminal(true);
    const progress = await startProgress(tty.term, 'Reading SSH switches');
    progress.update(8, 16);
    // ora draws on its next frame: waited for, not slept.
    const deadline = Date.now() + 5_000;
    while (!tty.written().includes('8/16') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    progress.stop();
    assert.match(tty.written(), /Reading SSH switches \[#{12}-{12}\] 8\/16/);
    const piped = terminal(false);
    const silent = await startProgress(piped.term, 'Reading SSH switches');
    silent.update(1, 2);
    silent.stop();
    assert.equal(piped.written(), '');
  });
});

describe('ssh-audit under rate limiting', () => {
  let foundation: Foundation;
  let front: LocalServer;
  let limitedApp: string;
  let home: string;

  before(async () => {
    foundation = await startFoundation({ ssh: false });
    limitedApp = foundation.world.apps.find((a) => a.name === 'demo-app')?.guid ?? assert.fail('no demo-app');
    // In front of the foundation, as CC's rate limiter: every answer says 3 requests are left
    // until the next second, and one app's switch is refused with 429 each time it is asked.
    front = await localServer((req, res) => {
      void (async () => {
        if (req.url === `/v3/apps/${limitedApp}/features/ssh`) {
          sendJson(res, 429, { errors: [{ code: 10013, title: 'CF-RateLimitExceeded', detail: 'Rate Limit Exceeded' }] }, { 'Retry-After': '0' });
          return;
        }
        const chunks: Buffer[] = [];
        for await (const chunk of req) chunks.push(chunk as Buffer);
        const upstream = await fetch(`${foundation.url}${req.url}`, {
          method: req.method,
          headers: { ...(req.headers.authorization ? { Authorization: req.headers.authorization } : {}), 'Content-Type': req.headers['content-type'] ?? 'application/json' },
          body: chunks.length > 0 ? Buffer.concat(chunks) : undefined,
        });
        res.writeHead(upstream.status, {
          'Content-Type': upstream.headers.get('content-type') ?? 'application/json',
          'X-RateLimit-Limit': '100',
          'X-RateLimit-Remaining': '3',
          'X-RateLimit-Reset': String(Math.ceil(Date.now() / 1000) + 1),
        });
        res.end(Buffer.from(await upstream.arrayBuffer()));
      })();
    });
    home = tempHome();
    const login = await runCli(home, ['login', '-a', front.url, '-u', 'developer', '-p', 'developer-pass', '-o', 'demo-org', '-s', 'demo-space']);
    assert.equal(login.code, 0, login.stderr);
  });
  after(async () => {
    await front.close();
    await foundation.stop();
  });

  it('paces when few requests are left, says so once, and leaves a refused app unknown without failing the report', async () => {
    const r = await runCli(home, ['ssh-audit', '--json', '--policy', 'disabled']);
    // Unknown is not compliant: the policy cannot be shown to hold.
    assert.equal(r.code, 3);
    const paced = r.stderr.split('\n').filter((line) => line.startsWith("The Cloud Controller's rate limit"));
    assert.equal(paced.length, 1, r.stderr);
    assert.match(paced[0] ?? '', /^The Cloud Controller's rate limit has 3 requests left until \S+Z: pacing requests \(up to 2 s apart\)\.$/);
    const apps = JSON.parse(verifiedBody(r.stdout)) as { apps: (JsonApp & { unknownBecause?: string })[] };
    assert.deepEqual(
      apps.apps.map((a) => [a.app, a.levels.app, a.effective, a.unknownBecause]),
      [
        ['demo-app', null, null, 'rate limited by the Cloud Controller'],
        ['no-ssh-app', false, false, undefined],
        ['stopped-app', true, true, undefined],
      ],
    );
    // Asked three times (two retries), then left unknown.
    assert.equal(front.requests.filter((q) => q === `GET /v3/apps/${limitedApp}/features/ssh`).length, 3);
    assert.match(r.stderr, /Policy 'disabled' broken: SSH is on \(or could not be read\) for 2 app\(s\): demo-org\/demo-space\/demo-app, demo-org\/demo-space\/stopped-app\n$/);
  });
});
