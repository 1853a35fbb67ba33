// ssh-audit end to end: the built CLI against the foundation in its own process, with its SSH
// proxy and sshd backends, so the logins the report shows are real ones the proxy recorded;
// the exit statuses as a CI job sees them; enforcement, snapshots and drift with who, where an
// annotation change left an audit event.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cli, loggedIn, tempHome } from '../helpers/cli.js';
import { type RunningFoundation, startFoundationProcess } from '../helpers/foundation.js';

/** The body after the header's empty line, checked against the header's SHA-256. */
function verifiedBody(stdout: string): string {
  const split = stdout.indexOf('\n\n');
  const hash = /^# SHA-256 of the body \(the lines after the first empty line\): ([0-9a-f]{64})$/m.exec(stdout.slice(0, split))?.[1];
  const body = stdout.slice(split + 2);
  assert.equal(createHash('sha256').update(body).digest('hex'), hash, `the header hashes the body as printed:\n${stdout}`);
  return body;
}

interface AppRow {
  app: string;
  levels: { app: boolean | null };
  effective: boolean | null;
  lastLogin?: { actor: string; index: number; at: string };
  deniedLogins: number;
}

describe('ssh-audit against the foundation process', { timeout: 180_000 }, () => {
  let foundation: RunningFoundation;
  let developer: string;
  let auditor: string;
  let files: string;
  let started: number;

  const report = async (home: string, args: string[] = []) => {
    const r = await cli(home, ['ssh-audit', '--json', ...args]);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(verifiedBody(r.stdout)) as { apps: AppRow[] };
  };
  const appGuid = async (name: string) => {
    const { access_token } = await foundation.tokens('developer', 'developer-pass');
    const res = await fetch(`${foundation.url}/v3/apps?names=${name}`, { headers: { Authorization: `bearer ${access_token}` } });
    const { resources } = (await res.json()) as { resources: { guid: string }[] };
    return resources[0]?.guid ?? assert.fail(`no app ${name}`);
  };

  before(async () => {
    started = Date.now();
    foundation = await startFoundationProcess(['--no-databases']);
    [developer, auditor] = await Promise.all([loggedIn(foundation.url, 'developer'), loggedIn(foundation.url, 'auditor')]);
    files = tempHome();
  });
  after(async () => {
    await foundation.stop();
    rmSync(files, { recursive: true, force: true });
  });

  it('real SSH logins, let in and refused, are the events and the last login the report shows', async () => {
    assert.equal((await cli(developer, ['ssh', 'demo-app', '-i', '1', '-c', 'true'])).code, 0);
    assert.equal((await cli(developer, ['ssh', 'demo-app', '--process', 'worker', '-c', 'true'])).code, 0);
    const refused = await cli(auditor, ['ssh', 'demo-app', '-c', 'true']);
    assert.notEqual(refused.code, 0);

    const events = await cli(developer, ['ssh-audit', '--events', '--csv', '--since', '1h']);
    assert.equal(events.code, 0, events.stderr);
    assert.equal(events.stderr, '');
    const rows = verifiedBody(events.stdout).trimEnd().split('\n');
    assert.equal(rows[0], 'time,org,space,app,instance,actor,result');
    // The worker's login names its process, not the app: found by the app's name in its space.
    assert.deepEqual(
      rows.slice(1).map((row) => row.split(',').slice(1)),
      [
        ['demo-org', 'demo-space', 'demo-app', '1', 'developer@example.com', 'authorized'],
        ['demo-org', 'demo-space', 'demo-app', '0', 'developer@example.com', 'authorized'],
        ['demo-org', 'demo-space', 'demo-app', '0', 'auditor@example.com', 'unauthorized'],
      ],
    );
    for (const row of rows.slice(1)) assert.ok(Date.parse(row.split(',')[0] ?? '') >= Math.floor(started / 1000) * 1000, row);

    const demo = (await report(developer, ['--since', '1h'])).apps.find((a) => a.app === 'demo-app');
    assert.equal(demo?.lastLogin?.actor, 'developer@example.com');
    assert.equal(demo?.deniedLogins, 1);
  });

  it('exit 3 under --policy disabled while SSH is on, 0 where it is off', async () => {
    const broken = await cli(developer, ['ssh-audit', '--policy', 'disabled', '--csv']);
    assert.equal(broken.code, 3);
    assert.match(
      broken.stderr,
      /^Policy 'disabled' broken: SSH is on \(or could not be read\) for 2 app\(s\): demo-org\/demo-space\/demo-app, demo-org\/demo-space\/stopped-app\n$/,
    );
    const locked = await loggedIn(foundation.url, 'developer', 'locked-space');
    const kept = await cli(locked, ['ssh-audit', '--policy', 'disabled']);
    assert.equal(kept.code, 0, kept.stderr);
    assert.match(verifiedBody(kept.stdout), /^demo-org {2}locked-space {2}locked-app {2}STARTED {2}on {6}off {8}on {7}off {8}space /m);
  });

  it('an auditor cannot enforce (exit 4); a developer dry-runs, then enforces, and SSH is refused at the next login', async () => {
    const denied = await cli(auditor, ['ssh-audit', '--enforce']);
    assert.equal(denied.code, 4);
    assert.match(denied.stdout, /Enforced: 0 disabled, 2 failed/);

    const dry = await cli(developer, ['ssh-audit', '--enforce', '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /Dry run: 2 change\(s\) would be made; nothing was changed\.\n$/);
    assert.equal((await report(developer)).apps.find((a) => a.app === 'demo-app')?.levels.app, true);

    try {
      const enforced = await cli(developer, ['ssh-audit', '--enforce', '--policy', 'disabled']);
      assert.equal(enforced.code, 0, enforced.stderr);
      assert.match(enforced.stdout, /Disabled SSH for app demo-org\/demo-space\/demo-app \(SSH enabled for the app\)\.\n/);
      const refused = await cli(developer, ['ssh', 'demo-app', '-c', 'true']);
      assert.notEqual(refused.code, 0, 'disabling takes effect at the next login');
      const after = await report(developer);
      assert.ok(after.apps.every((a) => a.effective === false));
    } finally {
      for (const name of ['demo-app', 'stopped-app']) assert.equal((await cli(developer, ['enable-ssh', name])).code, 0);
    }
  });

  it('--save and --diff: a toggle shows with who unknown; an annotation change names who', async () => {
    const snapshot = path.join(files, 'ssh.json');
    const saved = await cli(developer, ['ssh-audit', '-o', 'demo-org', '--save', snapshot]);
    assert.equal(saved.code, 0, saved.stderr);
    assert.ok(existsSync(snapshot));

    try {
      assert.equal((await cli(developer, ['disable-ssh', 'demo-app'])).code, 0);
      // A time-boxed grant is an annotation change: CC records it as audit.app.update.
      const guid = await appGuid('stopped-app');
      const { access_token } = await foundation.tokens('developer', 'developer-pass');
      const patched = await fetch(`${foundation.url}/v3/apps/${guid}`, {
        method: 'PATCH',
        headers: { Authorization: `bearer ${access_token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ metadata: { annotations: { 'ssh.cf-ssh-tools/expires-at': '2026-01-01T00:00:00Z', 'ssh.cf-ssh-tools/reason': 'INC-9' } } }),
      });
      assert.equal(patched.status, 200);
      assert.equal((await cli(developer, ['disable-ssh', 'stopped-app'])).code, 0);

      const diff = await cli(developer, ['ssh-audit', '-o', 'demo-org', '--diff', snapshot, '--csv']);
      assert.equal(diff.code, 0, diff.stderr);
      const rows = verifiedBody(diff.stdout).trimEnd().split('\n');
      assert.equal(rows[0], 'change,where,what,who');
      const [toggled, annotated, ...more] = rows.slice(1).sort();
      assert.deepEqual(more, []);
      assert.equal(toggled, 'app,demo-org/demo-space/demo-app,"app SSH on → off, effective on → off",unknown');
      assert.match(annotated ?? '', /^app,demo-org\/demo-space\/stopped-app,"app SSH on → off, effective on → off",developer@example\.com \(audit\.app\.update at \S+Z\)$/);
    } finally {
      for (const name of ['demo-app', 'stopped-app']) assert.equal((await cli(developer, ['enable-ssh', name])).code, 0);
    }
  });

  it('the window: the seeded logins of days ago are in 7d, not in 1h; 30d reaches past what CC keeps', async () => {
    const week = (await report(developer, ['--since', '7d'])).apps.find((a) => a.app === 'demo-app');
    // The seeded refusal of three days ago and the auditor's in this run. The login refused after
    // enforcement left none: cf-ssh-tools ssh asks ssh_enabled first and never reached the proxy.
    assert.equal(week?.deniedLogins, 2);
    const hour = (await report(developer, ['--since', '1h'])).apps.find((a) => a.app === 'demo-app');
    assert.equal(hour?.deniedLogins, 1);
    const month = await cli(developer, ['ssh-audit', '--since', '30d']);
    assert.match(verifiedBody(month.stdout), /^Note: The window starts \S+, before the oldest audit event the Cloud Controller still keeps here/m);
  });
});
