// Time-boxed SSH (enable-ssh --for/--reason, disable-ssh --expired, ssh-enabled's grant) and
// the rolling restart (enable-ssh --restart rolling): the grant's rules on their own, then the
// CLI and the foundation in-process, the clock given to each run.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EXPIRES_AT_ANNOTATION, grantDuration, MAX_GRANT_MS, REASON_ANNOTATION, sshGrantOf } from '../../src/actions/ssh-grant.js';
import { deploymentOutcome } from '../../src/actions/ssh-switches.js';
import type { App, CloudController, Deployment } from '../../src/cf/cloud-controller.js';
import { type Foundation, startFoundation } from '../foundation/server.js';
import { assertRequests, expectRequests } from '../helpers/expect-requests.js';
import { passwordGrant } from '../helpers/foundation.js';
import { loggedIn, type RunOptions, runCli, startCli } from '../helpers/run-cli.js';

const HOUR = 3600_000;
/**
 * The runs' clock starts here, in the past: the login's tokens, issued by the wall clock, look
 * fresh to it. Berlin is an hour ahead of UTC in December.
 */
const T0 = Date.parse('2025-12-01T11:00:00Z');
const BERLIN = { TZ: 'Europe/Berlin' };
const at = (ms: number): RunOptions => ({ now: () => ms, env: BERLIN });
const appWith = (annotations?: Record<string, unknown>): App => ({ guid: 'g', name: 'demo-app', state: 'STARTED', metadata: { annotations } });

describe('a grant on its own', () => {
  it('durations: m, h, d and their sums, from a minute to 30 days', () => {
    assert.equal(grantDuration('30m'), 30 * 60_000);
    assert.equal(grantDuration('2h'), 2 * HOUR);
    assert.equal(grantDuration('1d12h'), 36 * HOUR);
    assert.equal(grantDuration('30d'), MAX_GRANT_MS);
    for (const [text, why] of [
      ['2', /is not a duration/],
      ['2x', /is not a duration/],
      ['1.5h', /is not a duration/],
      ['-1h', /is not a duration/],
      ['', /is not a duration/],
      ['h', /is not a duration/],
      ['0m', /is no time at all/],
      ['30d1m', /longer than 30 days/],
      ['99999999999999999999d', /longer than 30 days/],
    ] as const) {
      assert.throws(() => grantDuration(text), { name: 'UsageError', message: why }, text);
    }
  });

  it('sshGrantOf reads the annotations: none, running, expired from its very second, unreadable', () => {
    const at = Date.parse('2026-12-01T13:00:00Z');
    assert.equal(sshGrantOf(appWith(), at), undefined);
    assert.equal(sshGrantOf({}, at), undefined);
    // A reason alone is no grant: nothing writes one without an expiry.
    assert.equal(sshGrantOf(appWith({ [REASON_ANNOTATION]: 'INC-1' }), at), undefined);
    const granted = appWith({ [EXPIRES_AT_ANNOTATION]: '2026-12-01T13:00:00Z', [REASON_ANNOTATION]: 'INC-1234' });
    assert.deepEqual(sshGrantOf(granted, at - 1), { expiresAt: new Date(at), reason: 'INC-1234', expired: false });
    assert.deepEqual(sshGrantOf(granted, at), { expiresAt: new Date(at), reason: 'INC-1234', expired: true });
    // Anything but a UTC time counts as expired, so that enforcement ends it rather than leaving it on for good.
    for (const unreadable of ['2026-12-01T13:00:00', '2026-12-01 13:00', 'tomorrow', '2026-13-45T99:00:00Z']) {
      assert.deepEqual(sshGrantOf(appWith({ [EXPIRES_AT_ANNOTATION]: unreadable }), at), { expiresAt: undefined, reason: undefined, expired: true }, unreadable);
    }
  });
});

describe('how a deployment ended', () => {
  // A deployment already at its end is read as it is: nothing is asked of the Cloud Controller.
  const noCc = {} as CloudController;
  const ended = (deployment: Deployment) => deploymentOutcome(noCc, deployment, new AbortController().signal);

  it("reads today's status and the older state alike; only DEPLOYED is a success", async () => {
    for (const [deployment, finished, deployed, reason] of [
      [{ guid: 'd', status: { value: 'FINALIZED', reason: 'DEPLOYED' } }, true, true, 'DEPLOYED'],
      [{ guid: 'd', status: { value: 'FINALIZED', reason: 'CANCELED' } }, true, false, 'CANCELED'],
      [{ guid: 'd', status: { value: 'FINALIZED', reason: 'SUPERSEDED' } }, true, false, 'SUPERSEDED'],
      // CCs before status (3.76) sent only `state`.
      [{ guid: 'd', state: 'DEPLOYED' }, true, true, 'DEPLOYED'],
      [{ guid: 'd', state: 'CANCELED' }, true, false, 'CANCELED'],
    ] as const) {
      assert.deepEqual(await ended(deployment), { deployment, finished, deployed, reason });
    }
  });
});

describe('time-boxed SSH through the CLI', () => {
  let foundation: Foundation;
  let developer: string;
  let auditor: string;
  let adminToken: string;

  const appNamed = (name: string) => {
    const app = foundation.world.apps.find((a) => a.name === name);
    assert.ok(app, name);
    return app;
  };
  /** GET as CC's admin would: what any client of CC would read. */
  const ccGet = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${foundation.url}${path}`, { headers: { Authorization: `bearer ${adminToken}` } });
    assert.equal(res.status, 200, path);
    return (await res.json()) as T;
  };
  const annotationsOf = async (name: string) => (await ccGet<{ metadata: { annotations: Record<string, string> } }>(`/v3/apps/${appNamed(name).guid}`)).metadata.annotations;
  const updatesOf = async (name: string) =>
    (
      await ccGet<{ resources: { actor: { name: string }; data: { request?: { metadata?: unknown } } }[] }>(
        `/v3/audit_events?types=audit.app.update&target_guids=${appNamed(name).guid}`,
      )
    ).resources;

  before(async () => {
    foundation = await startFoundation({ ssh: false });
    [developer, auditor, adminToken] = await Promise.all([
      loggedIn(foundation.url, 'developer'),
      loggedIn(foundation.url, 'auditor'),
      passwordGrant(foundation.url, 'admin', 'admin-pass').then((t) => t.access_token),
    ]);
  });
  after(() => foundation.stop());

  it('enable-ssh --for writes the grant before the switch, as one audit.app.update, and says the expiry in local time and UTC', async () => {
    const r = await expectRequests(
      foundation,
      [
        'GET /v3/apps?names=no-ssh-app&space_guids=:space',
        // The grant first: no failure can leave SSH on without its expiry.
        'PATCH /v3/apps/:guid',
        'GET /v3/apps/:guid/features/ssh',
        'PATCH /v3/apps/:guid/features/ssh',
        'GET /v3/apps/:guid/ssh_enabled',
        'GET /v3/apps/:guid/features/ssh',
        'GET /v3/spaces/:guid/features/ssh',
      ],
      () => runCli(developer, ['enable-ssh', 'no-ssh-app', '--for', '2h', '--reason', 'INC-1234'], at(T0)),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.equal(
      r.stdout,
      [
        'Enabling ssh support for app no-ssh-app as developer...',
        'OK',
        '',
        "SSH for app 'no-ssh-app' is granted until 2025-12-01 14:00 GMT+1 (2025-12-01T13:00:00Z): INC-1234.",
        "It stays on until the first 'cf-ssh-tools disable-ssh --expired' or 'cf-ssh-tools ssh-audit --enforce' in this space after that time.",
        'TIP: An app restart is required for the change to take effect.',
        "Instances start their SSH server only when they start with SSH enabled: 'cf-ssh-tools enable-ssh no-ssh-app --restart rolling' restarts them one by one, so the app keeps serving.",
        '',
      ].join('\n'),
    );
    assert.equal(appNamed('no-ssh-app').sshEnabled, true);
    const grant = { [EXPIRES_AT_ANNOTATION]: '2025-12-01T13:00:00Z', [REASON_ANNOTATION]: 'INC-1234' };
    assert.deepEqual(await annotationsOf('no-ssh-app'), grant);
    const updates = await updatesOf('no-ssh-app');
    assert.equal(updates.length, 1);
    assert.equal(updates[0]?.actor.name, 'developer@example.com');
    assert.deepEqual(updates[0]?.data.request?.metadata, { annotations: grant });
  });

  it('ssh-enabled shows a running grant, and an expired one loudly while SSH is still on', async () => {
    const running = await runCli(developer, ['ssh-enabled', 'no-ssh-app'], at(T0 + HOUR + 30 * 60_000));
    assert.equal(running.code, 0, running.stderr);
    assert.equal(running.stderr, '');
    assert.equal(
      running.stdout,
      "ssh support is enabled for app 'no-ssh-app'.\nTime-boxed: until 2025-12-01 14:00 GMT+1 (2025-12-01T13:00:00Z), 30m from now; reason: INC-1234.\n",
    );
    const expired = await runCli(developer, ['ssh-enabled', 'no-ssh-app'], at(T0 + 3 * HOUR + 5 * 60_000));
    assert.equal(expired.code, 0);
    assert.equal(
      expired.stdout,
      "ssh support is enabled for app 'no-ssh-app'.\nTime-boxed: expired at 2025-12-01 14:00 GMT+1 (2025-12-01T13:00:00Z), 1h 5m ago; reason: INC-1234.\n",
    );
    assert.equal(
      expired.stderr,
      "WARNING: the SSH grant of app 'no-ssh-app' has expired but SSH is still enabled for it. It stays so until someone runs 'cf-ssh-tools disable-ssh --expired' or 'cf-ssh-tools ssh-audit --enforce' in space 'demo-space'.\n",
    );
    const json = JSON.parse((await runCli(auditor, ['ssh-enabled', 'no-ssh-app', '--json'], at(T0 + 3 * HOUR))).stdout) as { enabled: boolean; grant: unknown };
    assert.equal(json.enabled, true);
    assert.deepEqual(json.grant, { expiresAt: '2025-12-01T13:00:00Z', reason: 'INC-1234', expired: true });
    // Reading changed nothing: SSH stays on until someone ends it.
    assert.equal(appNamed('no-ssh-app').sshEnabled, true);
  });

  it('disable-ssh --expired: a dry run only reads; the run ends what expired and leaves what runs', async () => {
    const grantDemo = await runCli(developer, ['enable-ssh', 'demo-app', '--for', '1d'], at(T0));
    assert.equal(grantDemo.code, 0, grantDemo.stderr);
    const later = at(T0 + 3 * HOUR);
    const dry = await expectRequests(foundation, ['GET /v3/apps?space_guids=:space&per_page=5000', 'GET /v3/apps/:guid/features/ssh'], () =>
      runCli(developer, ['disable-ssh', '--expired', '--dry-run'], later),
    );
    assert.equal(dry.code, 0, dry.stderr);
    assert.equal(
      dry.stdout,
      [
        'Looking for ssh support for apps whose grant has expired in space demo-space as developer...',
        'no-ssh-app: expired at 2025-12-01 14:00 GMT+1 (2025-12-01T13:00:00Z), 1h ago; reason: INC-1234: would be: ssh disabled, grant removed',
        'demo-app: until 2025-12-02 12:00 GMT+1 (2025-12-02T11:00:00Z), 21h from now: left on',
        'Nothing was changed (--dry-run).',
        'OK',
        '',
      ].join('\n') + '\n',
    );
    assert.equal(appNamed('no-ssh-app').sshEnabled, true);
    assert.equal((await annotationsOf('no-ssh-app'))[EXPIRES_AT_ANNOTATION], '2025-12-01T13:00:00Z');

    const real = await expectRequests(
      foundation,
      ['GET /v3/apps?space_guids=:space&per_page=5000', 'GET /v3/apps/:guid/features/ssh', 'PATCH /v3/apps/:guid/features/ssh', 'PATCH /v3/apps/:guid'],
      () => runCli(developer, ['disable-ssh', '--expired'], later),
    );
    assert.equal(real.code, 0, real.stderr);
    assert.match(real.stdout, /^Disabling ssh support for apps whose grant has expired in space demo-space as developer\.\.\.\n/);
    assert.match(real.stdout, /\nno-ssh-app: expired at .*: ssh disabled, grant removed\ndemo-app: until .*: left on\nOK\n\nTIP: New SSH logins are refused from now on/);
    assert.equal(appNamed('no-ssh-app').sshEnabled, false);
    assert.deepEqual(await annotationsOf('no-ssh-app'), {});
    assert.equal(appNamed('demo-app').sshEnabled, true);
    assert.equal((await annotationsOf('demo-app'))[EXPIRES_AT_ANNOTATION], '2025-12-02T11:00:00Z');

    const again = await runCli(developer, ['disable-ssh', '--expired'], later);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /\ndemo-app: until .*: left on\nNo grant has expired\.\nOK\n\n$/);
  });

  it('enable-ssh without --for ends the time box; disable-ssh APP removes the grant with the switch', async () => {
    const forGood = await runCli(developer, ['enable-ssh', 'demo-app'], at(T0 + HOUR));
    assert.equal(forGood.code, 0, forGood.stderr);
    assert.match(
      forGood.stdout,
      /\nSSH for app 'demo-app' is no longer time-boxed \(the grant was until 2025-12-02 12:00 GMT\+1 \(2025-12-02T11:00:00Z\), 23h from now\): it stays on until disabled\.\n/,
    );
    assert.deepEqual(await annotationsOf('demo-app'), {});
    assert.equal(appNamed('demo-app').sshEnabled, true);

    assert.equal((await runCli(developer, ['enable-ssh', 'demo-app', '--for', '30m', '--reason', 'INC-7'], at(T0))).code, 0);
    const off = await runCli(developer, ['disable-ssh', 'demo-app'], at(T0 + 10 * 60_000));
    assert.equal(off.code, 0, off.stderr);
    assert.match(off.stdout, /\nIts time-boxed grant \(until 2025-12-01 12:30 GMT\+1 \(2025-12-01T11:30:00Z\), 20m from now; reason: INC-7\) is removed\.\nTIP: New SSH logins/);
    assert.deepEqual(await annotationsOf('demo-app'), {});
    assert.equal(appNamed('demo-app').sshEnabled, false);
    assert.equal((await runCli(developer, ['enable-ssh', 'demo-app'])).code, 0);
  });

  it('an auditor may not grant: refused at the grant, so neither the switch nor the annotations change', async () => {
    const before = (await updatesOf('no-ssh-app')).length;
    const r = await expectRequests(foundation, ['GET /v3/apps?names=no-ssh-app&space_guids=:space', 'PATCH /v3/apps/:guid'], () =>
      runCli(auditor, ['enable-ssh', 'no-ssh-app', '--for', '1h'], at(T0)),
    );
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'You are not authorized to perform the requested action\n');
    assert.equal(r.stdout, 'Enabling ssh support for app no-ssh-app as auditor...\nFAILED\n');
    assert.equal(appNamed('no-ssh-app').sshEnabled, false);
    assert.deepEqual(await annotationsOf('no-ssh-app'), {});
    assert.equal((await updatesOf('no-ssh-app')).length, before);
  });

  it('refuses what does not fit before sending anything', async () => {
    const usage = (message: string) => `Incorrect Usage: ${message}\n`;
    for (const [args, message] of [
      [['enable-ssh', 'demo-app', '--for', '2x'], "--for '2x' is not a duration: give a whole number with m, h or d, such as 30m, 2h or 1d12h."],
      [['enable-ssh', 'demo-app', '--for', '0h'], "--for '0h' is no time at all: give at least 1m."],
      [['enable-ssh', 'demo-app', '--for', '31d'], "--for '31d' is longer than 30 days, the most a time-boxed grant may run."],
      [['enable-ssh', 'demo-app', '--reason', 'INC-1'], '--reason goes with --for: it is kept beside the expiry of a time-boxed grant.'],
      [['enable-ssh', 'demo-app', '--for', '1h', '--reason', '  '], '--reason is empty: say why SSH is needed (an incident or ticket number, say).'],
      [['enable-ssh', 'demo-app', '--restart', 'blue-green'], "--restart 'blue-green' is no strategy cf-ssh-tools knows: use --restart rolling."],
      [['disable-ssh'], 'the required argument `APP_NAME` was not provided'],
      [['disable-ssh', 'demo-app', '--expired'], '--expired looks at every app of the targeted space: give it no APP_NAME.'],
      [['disable-ssh', 'demo-app', '--dry-run'], '--dry-run goes with --expired.'],
    ] as const) {
      const r = await expectRequests(foundation, [], () => runCli(developer, [...args]));
      assert.equal(r.code, 1, args.join(' '));
      assert.equal(r.stderr, usage(message), args.join(' '));
      assert.match(r.stdout, /^FAILED\n\nNAME:\n/, args.join(' '));
    }
    assert.equal(foundation.world.apps.find((a) => a.name === 'demo-app')?.sshEnabled, true);
  });

  it('--restart rolling restarts with a rolling deployment, waits for it, and says how it ended', async () => {
    const web = () => appNamed('demo-app').processes.find((p) => p.type === 'web')?.guid;
    const webBefore = web();
    const from = foundation.requests.length;
    const r = await runCli(developer, ['enable-ssh', 'demo-app', '--restart', 'rolling']);
    assert.equal(r.code, 0, r.stderr);
    const deployment = foundation.deployments.all.at(-1);
    assert.ok(deployment);
    assert.equal(
      r.stdout,
      [
        'Enabling ssh support for app demo-app as developer...',
        "ssh support for app 'demo-app' is already enabled.",
        'OK',
        '',
        'Restarting app demo-app with a rolling deployment as developer, so that its instances start with SSH...',
        `Deployment ${deployment.guid} started.`,
        `Deployment ${deployment.guid} DEPLOYED: the instances of app 'demo-app' run with SSH.`,
        'OK',
        '',
        '',
      ].join('\n'),
    );
    assert.equal(r.stderr, '');
    assert.deepEqual([deployment.value, deployment.reason], ['FINALIZED', 'DEPLOYED']);
    // As on CC, a new web process (a new GUID: a new SSH user name) replaced the old one.
    assert.notEqual(web(), webBefore);
    const made = foundation.requests.slice(from);
    const polls = made.filter((q) => q.method === 'GET' && q.path === `/v3/deployments/${deployment.guid}`);
    assert.ok(polls.length >= 1, 'the deployment was asked after');
    assertRequests(
      made.filter((q) => !polls.includes(q)),
      [
        'GET /v3/apps?names=demo-app&space_guids=:space',
        'GET /v3/apps/:guid/features/ssh',
        'PATCH /v3/apps/:guid/features/ssh',
        'GET /v3/apps/:guid/ssh_enabled',
        'GET /v3/apps/:guid/features/ssh',
        'GET /v3/spaces/:guid/features/ssh',
        'POST /v3/deployments',
      ],
    );
  });

  it('--restart rolling: a stopped app, or SSH still blocked, is not restarted', async () => {
    const deployments = foundation.deployments.all.length;
    const stopped = await runCli(developer, ['enable-ssh', 'stopped-app', '--restart', 'rolling']);
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.match(stopped.stdout, /\nApp 'stopped-app' is stopped: its instances start with SSH when it is started\. Not restarting\.\n$/);
    const locked = await runCli(await loggedIn(foundation.url, 'developer', 'locked-space'), ['enable-ssh', 'locked-app', '--restart', 'rolling']);
    assert.equal(locked.code, 0, locked.stderr);
    assert.match(locked.stdout, /\nTIP: SSH is not allowed in space 'locked-space'.*\nNot restarting: the instances would start without SSH all the same\.\n$/);
    assert.equal(foundation.deployments.all.length, deployments);
  });

  it('--restart rolling: a deployment that does not end DEPLOYED fails the run, with its reason', async () => {
    foundation.deployments.rolloutMs = 60_000;
    const running = startCli(developer, ['enable-ssh', 'demo-app', '--restart', 'rolling']);
    const [, guid] = await running.waitFor('stdout', /Deployment (\S+) started\./);
    // Someone else deploys meanwhile: CC finalizes the first as SUPERSEDED.
    foundation.deployments.start(appNamed('demo-app'));
    const r = await running.result;
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      `The rolling deployment ${guid} of app 'demo-app' was SUPERSEDED by a newer one, whose instances start with SSH too: follow it with 'cf app demo-app'.\n`,
    );
    assert.match(r.stdout, /started\.\nFAILED\n$/);
  });

  it('--restart rolling: Ctrl-C stops the waiting, not the deployment, and says so', async () => {
    foundation.deployments.rolloutMs = 60_000;
    const running = startCli(developer, ['enable-ssh', 'demo-app', '--restart', 'rolling']);
    const [, guid] = await running.waitFor('stdout', /Deployment (\S+) started\./);
    assert.equal(running.signals.send('SIGINT'), 1, 'the wait listens for stops');
    const r = await running.result;
    assert.equal(r.code, 130);
    assert.equal(
      r.stderr,
      `Stopped waiting. The rolling deployment ${guid} of app 'demo-app' goes on in Cloud Foundry: follow it with 'cf app demo-app', or stop it with 'cf cancel-deployment demo-app'.\n`,
    );
    assert.doesNotMatch(r.stdout, /FAILED|DEPLOYED/);
    const deployment = foundation.deployments.all.find((d) => d.guid === guid);
    assert.deepEqual([deployment?.value, deployment?.reason], ['ACTIVE', 'DEPLOYING']);
    assert.equal(running.signals.subscribed, 0, 'no stop subscription left behind');
  });
});
