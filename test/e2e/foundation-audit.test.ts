// The foundation answers as today's Cloud Controller does: ssh_enabled's reasons, audit events
// (recorded by the SSH proxy, env reads and app updates; listed with CC's filters, shapes and
// roles; pruned after the retention), metadata, roles, rolling deployments, and seeded apps.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import ssh2 from 'ssh2';
import { type Foundation, startFoundation } from '../foundation/server.js';
import { seedApps } from '../foundation/seed.js';
import { World } from '../foundation/state.js';
import { passwordGrant } from '../helpers/foundation.js';

const DAY_MS = 24 * 3600 * 1000;

interface Page<T> {
  pagination: { total_results: number; total_pages: number; next: { href: string } | null };
  resources: T[];
  included?: { users: { guid: string; username: string | null; origin: string | null }[] };
}

interface Event {
  guid: string;
  created_at: string;
  type: string;
  actor: { guid: string; type: string; name: string | null };
  target: { guid: string; type: string; name: string };
  data: Record<string, unknown>;
  space: { guid: string };
  organization: { guid: string };
  links: { self: { href: string } };
}

interface Answer<T> {
  status: number;
  body: T;
}

/** Talks to the foundation's CC as each seeded user, with a token from its UAA. */
class Caller {
  private readonly tokens = new Map<string, string>();
  constructor(readonly foundation: Foundation) {}

  async as<T>(user: string, method: string, path: string, body?: unknown): Promise<Answer<T>> {
    let token = this.tokens.get(user);
    if (!token) {
      token = (await passwordGrant(this.foundation.url, user, `${user}-pass`)).access_token;
      this.tokens.set(user, token);
    }
    const res = await fetch(`${this.foundation.url}${path}`, {
      method,
      headers: { Authorization: `bearer ${token}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as T };
  }

  async ok<T>(user: string, method: string, path: string, body?: unknown): Promise<T> {
    const answer = await this.as<T>(user, method, path, body);
    assert.ok(answer.status < 300, `${method} ${path} as ${user}: ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer.body;
  }

  async control(body: unknown): Promise<void> {
    const res = await fetch(`${this.foundation.url}/foundation/compliance`, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(res.status, 200, await res.text());
  }

  /** A one-time code, as `cf ssh-code` gets one. */
  async code(user: string): Promise<string> {
    const { access_token } = await passwordGrant(this.foundation.url, user, `${user}-pass`);
    const authorize = await fetch(`${this.foundation.url}/uaa/oauth/authorize?client_id=ssh-proxy&response_type=code`, {
      headers: { Authorization: `bearer ${access_token}` },
      redirect: 'manual',
    });
    return new URL(authorize.headers.get('location')!).searchParams.get('code')!;
  }

  /** Logs in through the SSH proxy and out again; true when it let the user in. */
  async ssh(user: string, processGuid: string, index = 0): Promise<boolean> {
    const password = await this.code(user);
    return new Promise((resolve) => {
      const client = new ssh2.Client();
      client.once('ready', () => {
        client.end();
        resolve(true);
      });
      client.once('error', () => resolve(false));
      client.connect({ host: '127.0.0.1', port: this.foundation.ssh!.proxy.port, username: `cf:${processGuid}/${index}`, password, readyTimeout: 10_000 });
    });
  }
}

const error = (body: unknown) => (body as { errors: { detail: string; title: string; code: number }[] }).errors[0];

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('the foundation as today’s Cloud Controller', { timeout: 120_000 }, () => {
  let foundation: Foundation;
  let cc: Caller;
  const app = (name: string) => foundation.world.apps.find((a) => a.name === name)!;
  const space = (name: string) => foundation.world.spaces.find((s) => s.name === name)!;
  const events = (user: string, query = '') => cc.ok<Page<Event>>(user, 'GET', `/v3/audit_events?per_page=5000${query}`);

  before(async () => {
    foundation = await startFoundation({ sshBackend: 'builtin' });
    cc = new Caller(foundation);
  });
  after(() => foundation.stop());

  it("ssh_enabled gives CC's reasons since October 2019, and the older ones when asked", async () => {
    const reason = async (name: string) => cc.ok<{ enabled: boolean; reason: string }>('admin', 'GET', `/v3/apps/${app(name).guid}/ssh_enabled`);
    assert.deepEqual(await reason('demo-app'), { enabled: true, reason: '' });
    assert.deepEqual(await reason('no-ssh-app'), { enabled: false, reason: 'ssh is disabled for app' });
    assert.deepEqual(await reason('locked-app'), { enabled: false, reason: "ssh is disabled for space 'locked-space'" });
    foundation.world.globalSsh = false;
    try {
      assert.deepEqual(await reason('demo-app'), { enabled: false, reason: 'ssh is disabled globally' });
      await cc.control({ ssh_reason_wording: 'pre-2019' });
      assert.deepEqual(await reason('demo-app'), { enabled: false, reason: 'Disabled globally' });
    } finally {
      foundation.world.globalSsh = true;
    }
    assert.deepEqual(await reason('locked-app'), { enabled: false, reason: 'Disabled for space locked-space' });
    assert.deepEqual(await reason('no-ssh-app'), { enabled: false, reason: 'Disabled for app' });
    await cc.control({ ssh_reason_wording: 'current' });
    assert.deepEqual(await reason('no-ssh-app'), { enabled: false, reason: 'ssh is disabled for app' });
  });

  it("records each SSH login the proxy checks with CC, in CC's shape: actor, the process, the index", async () => {
    const demo = app('demo-app');
    const since = new Date(Date.now() - 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    assert.equal(await cc.ssh('developer', demo.guid, 1), true);
    assert.equal(await cc.ssh('auditor', demo.guid, 0), false);
    assert.equal(await cc.ssh('developer', app('no-ssh-app').guid), false);
    // Diego, not CC, finds no instance 5: CC has let the user in by then.
    assert.equal(await cc.ssh('developer', demo.guid, 5), false);
    // A process that does not exist is no event: CC has nothing to record it against.
    assert.equal(await cc.ssh('developer', '00000000-0000-4000-8000-000000000000'), false);
    const recorded = await events('admin', `&types=audit.app.ssh-authorized,audit.app.ssh-unauthorized&created_ats[gte]=${since}`);
    const developer = foundation.world.userByName('developer')!;
    const demoSpace = space('demo-space');
    assert.deepEqual(
      recorded.resources.map((e) => [e.type, e.actor.name, e.target.name, e.data.index]),
      [
        ['audit.app.ssh-authorized', 'developer@example.com', 'demo-app', '1'],
        ['audit.app.ssh-unauthorized', 'auditor@example.com', 'demo-app', '0'],
        ['audit.app.ssh-unauthorized', 'developer@example.com', 'no-ssh-app', '0'],
        ['audit.app.ssh-authorized', 'developer@example.com', 'demo-app', '5'],
      ],
    );
    const [first] = recorded.resources as [Event];
    assert.deepEqual(first, {
      guid: first.guid,
      created_at: first.created_at,
      updated_at: first.created_at,
      type: 'audit.app.ssh-authorized',
      actor: { guid: developer.guid, type: 'user', name: 'developer@example.com' },
      target: { guid: demo.processes[0]!.guid, type: 'app', name: 'demo-app' },
      data: { index: '1' },
      space: { guid: demoSpace.guid },
      organization: { guid: demoSpace.orgGuid },
      links: { self: { href: `${foundation.url}/v3/audit_events/${first.guid}` } },
    } as Event & { updated_at: string });
    assert.match(first.created_at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    assert.deepEqual(await cc.ok('auditor', 'GET', `/v3/audit_events/${first.guid}`), { ...first, updated_at: first.created_at });
  });

  it('records env reads and app updates, not SSH switches; annotations and labels as CC checks them', async () => {
    const demo = app('demo-app');
    const since = new Date(Date.now() - 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    await cc.ok('developer', 'GET', `/v3/apps/${demo.guid}/env`);
    await cc.ok('developer', 'PATCH', `/v3/apps/${demo.guid}/features/ssh`, { enabled: true });
    const update = { metadata: { annotations: { 'cf-ssh-tools.io/expires': '2030-01-01T00:00:00Z', reason: 'INC-1234' }, labels: { tier: 'gold' } } };
    const patched = await cc.ok<{ metadata: unknown }>('developer', 'PATCH', `/v3/apps/${demo.guid}`, update);
    assert.deepEqual(patched.metadata, update.metadata);
    const removed = await cc.ok<{ metadata: unknown }>('developer', 'PATCH', `/v3/apps/${demo.guid}`, { metadata: { annotations: { reason: null }, labels: { tier: null } } });
    assert.deepEqual(removed.metadata, { labels: {}, annotations: { 'cf-ssh-tools.io/expires': '2030-01-01T00:00:00Z' } });
    assert.deepEqual((await cc.ok<{ metadata: unknown }>('auditor', 'GET', `/v3/apps/${demo.guid}`)).metadata, removed.metadata);

    const recorded = await events('developer', `&target_guids=${demo.guid}&created_ats[gte]=${since}`);
    assert.deepEqual(
      // The logins of the test before may fall in the same second; switching SSH leaves no event.
      recorded.resources.filter((e) => !e.type.startsWith('audit.app.ssh-')).map((e) => [e.type, e.data]),
      [
        ['audit.app.environment.show', {}],
        ['audit.app.update', { request: update }],
        ['audit.app.update', { request: { metadata: { annotations: { reason: null }, labels: { tier: null } } } }],
      ],
    );

    const invalid = await cc.as('developer', 'PATCH', `/v3/apps/${demo.guid}`, {
      metadata: { labels: { 'bad key!': 'x', good: '-dash' }, annotations: { 'cloudfoundry.org/x': 'y', 'a/b/c': null }, colour: 'red' },
    });
    assert.equal(invalid.status, 422);
    assert.deepEqual(error(invalid.body), {
      code: 10008,
      title: 'CF-UnprocessableEntity',
      detail:
        "Metadata has unexpected field(s): 'colour', Metadata label key error: 'bad key!' contains invalid characters, Metadata label value error: '-dash' starts or ends with invalid characters, Metadata annotation key error: prefix 'cloudfoundry.org' is reserved",
    });
    const long = await cc.as('developer', 'PATCH', `/v3/apps/${demo.guid}`, { metadata: { annotations: { note: 'x'.repeat(5001) } } });
    assert.equal(error(long.body)?.detail, "Metadata annotation value error: 'xxxxxxxx...' is greater than 5000 characters");
    assert.equal((await cc.as('auditor', 'PATCH', `/v3/apps/${demo.guid}`, update)).status, 403);
    assert.equal((await cc.as('developer', 'PATCH', `/v3/apps/${app('no-ssh-app').guid}`, { colour: 1 })).status, 422);
    assert.deepEqual(app('demo-app').metadata, removed.metadata, 'refused updates change nothing');

    const lockedSpace = space('locked-space');
    const spaceUpdate = { metadata: { annotations: { 'ssh-policy': 'disabled' } } };
    assert.equal((await cc.as('developer', 'PATCH', `/v3/spaces/${lockedSpace.guid}`, spaceUpdate)).status, 403);
    assert.equal((await cc.as('org-auditor', 'PATCH', `/v3/spaces/${lockedSpace.guid}`, spaceUpdate)).status, 404);
    const spaceAnswer = await cc.ok<{ metadata: unknown }>('space-manager', 'PATCH', `/v3/spaces/${lockedSpace.guid}`, spaceUpdate);
    assert.deepEqual(spaceAnswer.metadata, { labels: {}, annotations: { 'ssh-policy': 'disabled' } });
    const spaceEvents = await events('admin', `&types=audit.space.update&target_guids=${lockedSpace.guid}`);
    assert.deepEqual(
      spaceEvents.resources.map((e) => [e.target, e.actor.name]),
      [[{ guid: lockedSpace.guid, type: 'space', name: 'locked-space' }, 'space-manager@example.com']],
    );
  });

  it('lists audit events with filters, time bounds, order and pages; refuses bad queries in CC words', async () => {
    const all = await events('admin');
    assert.ok(all.resources.length >= 8, 'seeded history is there');
    const times = all.resources.map((e) => Date.parse(e.created_at));
    assert.deepEqual(
      times,
      [...times].sort((a, b) => a - b),
      'oldest first',
    );
    const descending = await events('admin', '&order_by=-created_at');
    assert.deepEqual(
      descending.resources.map((e) => e.guid),
      all.resources.map((e) => e.guid).reverse(),
    );
    const cut = all.resources[3]!.created_at;
    const before = await events('admin', `&created_ats[lt]=${cut}`);
    const fromCut = await events('admin', `&created_ats[gte]=${cut}`);
    assert.equal(before.resources.length + fromCut.resources.length, all.resources.length);
    assert.ok(before.resources.every((e) => e.created_at < cut) && fromCut.resources.every((e) => e.created_at >= cut));
    const within = await events('admin', `&created_ats[gt]=${cut}&created_ats[lte]=${all.resources.at(-1)!.created_at}`);
    assert.ok(within.resources.every((e) => e.created_at > cut));

    const lockedSpace = space('locked-space');
    const inLocked = await events('admin', `&space_guids=${lockedSpace.guid}`);
    assert.ok(inLocked.resources.length > 0 && inLocked.resources.every((e) => e.space.guid === lockedSpace.guid));
    const inOrg = await events('admin', `&organization_guids=${lockedSpace.orgGuid}`);
    assert.equal(inOrg.resources.length, all.resources.length);
    const notDemo = await events('admin', `&target_guids[not]=${app('demo-app').guid}`);
    assert.ok(notDemo.resources.every((e) => e.target.guid !== app('demo-app').guid));

    const pages: string[] = [];
    let next: string | undefined = '/v3/audit_events?per_page=3';
    while (next) {
      const page: Page<Event> = await cc.ok<Page<Event>>('admin', 'GET', next);
      assert.equal(page.pagination.total_results, all.resources.length);
      pages.push(...page.resources.map((e) => e.guid));
      next = page.pagination.next ? page.pagination.next.href.slice(foundation.url.length) : undefined;
    }
    assert.deepEqual(
      pages,
      all.resources.map((e) => e.guid),
    );

    const refused = async (query: string) => {
      const answer = await cc.as('admin', 'GET', `/v3/audit_events?${query}`);
      assert.equal(answer.status, 400, query);
      assert.equal(error(answer.body)?.title, 'CF-BadQueryParameter');
      return error(answer.body)?.detail;
    };
    assert.equal(await refused('per_page=5001'), 'The query parameter is invalid: Per page must be between 1 and 5000');
    assert.equal(
      await refused('created_ats[gt]=yesterday'),
      "The query parameter is invalid: Created ats has an invalid timestamp format. Timestamps should be formatted as 'YYYY-MM-DDThh:mm:ssZ'",
    );
    assert.equal(await refused('order_by=type'), "The query parameter is invalid: Order by can only be: 'created_at', 'updated_at'");
    assert.match((await refused('actor_guids=x')) ?? '', /^The query parameter is invalid: Unknown query parameter\(s\): 'actor_guids'\. Valid parameters are: /);
    assert.equal((await cc.as('admin', 'GET', '/v3/audit_events/no-such-event')).status, 404);
  });

  it('shows events to admins, space developers and auditors, and org auditors only, as CC does', async () => {
    const all = await events('admin');
    const demoSpace = space('demo-space');
    const lockedSpace = space('locked-space');
    for (const user of ['developer', 'auditor', 'org-auditor']) {
      assert.equal((await events(user)).resources.length, all.resources.length, user);
    }
    // CC's readable_event_dataset leaves out space and org managers.
    for (const user of ['space-manager', 'manager']) {
      assert.deepEqual((await events(user)).resources, [], user);
      assert.equal((await cc.as(user, 'GET', `/v3/audit_events/${all.resources[0]!.guid}`)).status, 404);
    }
    const developer = foundation.world.users.get([...demoSpace.roles].find(([, r]) => r === 'developer')![0])!;
    lockedSpace.roles.delete(developer.guid);
    try {
      const seen = await events('developer');
      assert.ok(seen.resources.length > 0 && seen.resources.every((e) => e.space.guid === demoSpace.guid));
    } finally {
      lockedSpace.roles.set(developer.guid, 'developer');
    }
  });

  it('prunes events past the retention; seeded history reaches back further when kept longer', async () => {
    const oldest = (page: Page<Event>) => Date.now() - Date.parse(page.resources[0]!.created_at);
    assert.ok(oldest(await events('admin')) < 31 * DAY_MS);
    const keeping = await startFoundation({ ssh: false, auditRetentionDays: 60 });
    try {
      const longer = new Caller(keeping);
      const kept = await longer.ok<Page<Event>>('admin', 'GET', '/v3/audit_events?per_page=5000');
      assert.ok(oldest(kept) > 31 * DAY_MS && oldest(kept) < 60 * DAY_MS);
      await longer.control({ audit_retention_days: 7 });
      const pruned = await longer.ok<Page<Event>>('admin', 'GET', '/v3/audit_events?per_page=5000');
      assert.ok(pruned.resources.length > 0 && oldest(pruned) < 7 * DAY_MS);
    } finally {
      await keeping.stop();
    }
  });

  it("lists roles with CC's filters, include=user and visibility", async () => {
    const demoSpace = space('demo-space');
    const developer = foundation.world.userByName('developer')!;
    type Role = {
      guid: string;
      type: string;
      relationships: { user: { data: { guid: string } }; space: { data: { guid: string } | null }; organization: { data: { guid: string } | null } };
    };
    const inSpace = await cc.ok<Page<Role>>('developer', 'GET', `/v3/roles?space_guids=${demoSpace.guid}&include=user`);
    assert.deepEqual(inSpace.resources.map((r) => r.type).sort(), ['space_auditor', 'space_developer', 'space_developer', 'space_manager']);
    assert.ok(inSpace.resources.every((r) => r.relationships.space.data?.guid === demoSpace.guid && r.relationships.organization.data === null));
    assert.deepEqual(inSpace.included?.users.map((u) => u.username ?? '(a client)').sort(), ['(a client)', 'auditor', 'developer', 'space-manager']);
    const managers = await cc.ok<Page<Role>>('admin', 'GET', `/v3/roles?types=organization_manager,space_manager&organization_guids=${demoSpace.orgGuid}`);
    assert.deepEqual(
      managers.resources.map((r) => r.type),
      ['organization_manager'],
    );
    const mine = await cc.ok<Page<Role>>('developer', 'GET', `/v3/roles?user_guids=${developer.guid}&per_page=1`);
    assert.equal(mine.pagination.total_results, 3, 'organization_user and two space_developer roles');
    assert.equal(mine.resources.length, 1);
    const single = await cc.ok<Role>('developer', 'GET', `/v3/roles/${mine.resources[0]!.guid}`);
    assert.equal(single.guid, mine.resources[0]!.guid);
    // An org auditor sees the org's roles, not its spaces'.
    const audited = await cc.ok<Page<Role>>('org-auditor', 'GET', '/v3/roles?per_page=5000');
    assert.ok(audited.resources.length > 0 && audited.resources.every((r) => r.type.startsWith('organization_')));
  });

  it('rolls out a deployment: a new web process, a new SSH user name, the old process gone', async () => {
    await cc.control({ rollout_ms: 300 });
    const demo = app('demo-app');
    const oldGuid = demo.processes.find((p) => p.type === 'web')!.guid;
    const body = { strategy: 'rolling', relationships: { app: { data: { guid: demo.guid } } } };
    assert.equal(error((await cc.as('auditor', 'POST', '/v3/deployments', body)).body)?.detail, 'Unable to use app. Ensure that the app exists and you have access to it.');
    assert.equal(
      error((await cc.as('developer', 'POST', '/v3/deployments', { ...body, strategy: 'blue-green' })).body)?.detail,
      "Strategy 'blue-green' is not a supported deployment strategy",
    );
    type Deployment = { guid: string; status: { value: string; reason: string }; strategy: string; new_processes: { guid: string; type: string }[]; relationships: unknown };
    const created = await cc.as<Deployment>('developer', 'POST', '/v3/deployments', body);
    assert.equal(created.status, 201);
    const deployment = created.body;
    assert.deepEqual([deployment.status.value, deployment.status.reason, deployment.strategy], ['ACTIVE', 'DEPLOYING', 'rolling']);
    assert.deepEqual(deployment.relationships, { app: { data: { guid: demo.guid } } });
    const [fresh] = deployment.new_processes as [{ guid: string; type: string }];
    assert.notEqual(fresh.guid, oldGuid);
    const during = await cc.ok<Page<{ guid: string; type: string }>>('developer', 'GET', `/v3/apps/${demo.guid}/processes`);
    assert.deepEqual(
      during.resources.filter((p) => p.type === 'web').map((p) => p.guid),
      [oldGuid, fresh.guid],
    );
    const active = await cc.ok<Page<Deployment>>('auditor', 'GET', `/v3/deployments?app_guids=${demo.guid}&status_values=ACTIVE`);
    assert.deepEqual(
      active.resources.map((d) => d.guid),
      [deployment.guid],
    );

    const done = await until('the rollout', async () => {
      const now = await cc.ok<Deployment>('developer', 'GET', `/v3/deployments/${deployment.guid}`);
      return now.status.value === 'FINALIZED' ? now : undefined;
    });
    assert.equal(done.status.reason, 'DEPLOYED');
    const processes = await cc.ok<Page<{ guid: string; type: string }>>('developer', 'GET', `/v3/apps/${demo.guid}/processes`);
    assert.deepEqual(
      processes.resources.map((p) => [p.type, p.guid]),
      [
        ['web', fresh.guid],
        ['worker', demo.processes[1]!.guid],
      ],
    );
    const stats = await cc.ok<{ resources: { state: string }[] }>('developer', 'GET', `/v3/processes/${fresh.guid}/stats`);
    assert.deepEqual(
      stats.resources.map((i) => i.state),
      ['RUNNING', 'RUNNING'],
    );
    assert.equal((await cc.as('developer', 'GET', `/v3/processes/${oldGuid}`)).status, 404);
    assert.equal(await cc.ssh('developer', fresh.guid, 1), true);
    assert.equal(await cc.ssh('developer', oldGuid, 0), false);
    assert.deepEqual((await cc.ok<Page<Deployment>>('developer', 'GET', `/v3/deployments?app_guids=${demo.guid}&status_values=ACTIVE`)).resources, []);
  });
});

describe('seeded apps for benchmarks', () => {
  it('creates 5,000 apps in well under a second, 100 to a space, with varied SSH switches', () => {
    const world = new World();
    const started = performance.now();
    seedApps(world, 5000);
    const elapsedMs = performance.now() - started;
    assert.ok(elapsedMs < 1000, `took ${elapsedMs} ms`);
    const perf = world.apps.filter((a) => a.name.startsWith('perf-app-'));
    assert.equal(perf.length, 5000);
    const spaces = world.spaces.filter((s) => s.name.startsWith('perf-space-'));
    assert.equal(spaces.length, 50);
    assert.deepEqual(
      world.orgs.filter((o) => o.name.startsWith('perf-org-')).map((o) => o.name),
      ['perf-org-1'],
    );
    assert.ok(spaces.every((s) => perf.filter((a) => a.spaceGuid === s.guid).length === 100));
    const blocked = perf.map((a) => world.sshEnabled(a).reason);
    for (const reason of ['', 'ssh is disabled for app', "ssh is disabled for space 'perf-space-10'"]) assert.ok(blocked.includes(reason), reason);
    assert.ok(perf.some((a) => a.state === 'STOPPED'));
    assert.ok(
      world.audit.all().some((e) => e.target.name === 'perf-app-1'),
      'some were logged into lately',
    );
  });

  it('serves them to an org manager at CC page size 5000', async () => {
    const foundation = await startFoundation({ ssh: false, seedApps: 250 });
    try {
      const cc = new Caller(foundation);
      const org = foundation.world.orgs.find((o) => o.name === 'perf-org-1')!;
      const apps = await cc.ok<Page<{ name: string }>>('manager', 'GET', `/v3/apps?organization_guids=${org.guid}&per_page=5000`);
      assert.equal(apps.pagination.total_results, 250);
      const spaces = await cc.ok<Page<{ name: string }>>('auditor', 'GET', `/v3/spaces?organization_guids=${org.guid}`);
      assert.deepEqual(
        spaces.resources.map((s) => s.name),
        ['perf-space-1', 'perf-space-2', 'perf-space-3'],
      );
    } finally {
      await foundation.stop();
    }
  });
});
