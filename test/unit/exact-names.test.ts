// Orgs, spaces, apps and service instances are found by exactly the name given. CC splits a
// `names=` filter on commas: today's first-result look-ups let `enable-ssh 'x,no-ssh-app'` turn
// SSH on for no-ssh-app. Each command in-process against the foundation (which splits filters as
// CC does) with comma names aimed at another resource; then the look-ups against servers whose
// filters are looser than CC's, and against CC's own decoding of an encoded comma.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { loggedInClients } from '../../src/actions/cf-clients.js';
import { appBindingTo, findApp, findOrg, findServiceInstance, findSpace, nameFilter } from '../../src/actions/lookup.js';
import type { CfClients } from '../../src/actions/cf-clients.js';
import type { App, CloudController, Resource } from '../../src/cf/cloud-controller.js';
import { createContext } from '../../src/context.js';
import { type Foundation, startFoundation } from '../foundation/server.js';
import { expectRequests } from '../helpers/expect-requests.js';
import { loggedIn, runCli } from '../helpers/run-cli.js';

describe('look-ups by exact name, through the commands', () => {
  let foundation: Foundation;
  let developer: string;
  let manager: string;

  const appSsh = (name: string) => foundation.world.apps.find((a) => a.name === name)?.sshEnabled;
  const spaceSsh = (name: string) => foundation.world.spaces.find((s) => s.name === name)?.allowSsh;

  before(async () => {
    foundation = await startFoundation({ ssh: true, sshBackend: 'builtin' });
    [developer, manager] = await Promise.all([loggedIn(foundation.url, 'developer'), loggedIn(foundation.url, 'manager')]);
    const space = foundation.world.spaces.find((s) => s.name === 'demo-space');
    assert.ok(space);
    const dbApp = foundation.world.addApp(space, 'db-app');
    const instance = foundation.world.addServiceInstance(space, {
      name: 'demo-pg',
      offering: { guid: 'pg-offering', label: 'postgres', description: 'postgres' },
      plan: { guid: 'pg-plan', name: 'small' },
      tags: ['postgres'],
      credentials: async () => ({ uri: 'postgres://u:p@127.0.0.1:1/db' }),
    });
    foundation.world.addBinding(instance, { type: 'app', app: dbApp }, 'admin');
  });
  after(() => foundation.stop());

  it("enable-ssh 'no-such-app,no-ssh-app' finds no app and turns nothing on", async () => {
    const r = await expectRequests(foundation, ['GET /v3/apps?names=no-such-app%252Cno-ssh-app&space_guids=:space'], () =>
      runCli(developer, ['enable-ssh', 'no-such-app,no-ssh-app']),
    );
    assert.equal(r.code, 1);
    assert.equal(r.stderr, "App 'no-such-app,no-ssh-app' not found.\n");
    assert.equal(r.stdout, 'Enabling ssh support for app no-such-app,no-ssh-app as developer...\nFAILED\n');
    assert.equal(appSsh('no-ssh-app'), false);
  });

  it("disable-ssh and ssh-enabled 'x,demo-app' find no app", async () => {
    const disable = await runCli(developer, ['disable-ssh', 'x,demo-app']);
    assert.equal(disable.code, 1);
    assert.equal(disable.stderr, "App 'x,demo-app' not found.\n");
    assert.equal(appSsh('demo-app'), true);
    const enabled = await runCli(developer, ['ssh-enabled', 'x, demo-app']);
    assert.equal(enabled.code, 1);
    assert.equal(enabled.stderr, "App 'x, demo-app' not found.\n");
  });

  it("ssh 'x,demo-app' -c hostname runs nowhere", async () => {
    const r = await runCli(developer, ['ssh', 'x,demo-app', '-c', 'hostname']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, "App 'x,demo-app' not found.\n");
    assert.deepEqual(foundation.ssh?.proxy.log, []);
  });

  it("space-ssh-allowed, allow-space-ssh 'x,locked-space' find no space and allow nothing", async () => {
    const read = await expectRequests(foundation, ['GET /v3/spaces?names=x%252Cdemo-space&organization_guids=:org&order_by=name'], () =>
      runCli(developer, ['space-ssh-allowed', 'x,demo-space']),
    );
    assert.equal(read.code, 1);
    assert.equal(read.stderr, "Space 'x,demo-space' not found.\n");
    const allow = await runCli(manager, ['allow-space-ssh', 'x,locked-space']);
    assert.equal(allow.code, 1);
    assert.equal(allow.stderr, "Space 'x,locked-space' not found.\n");
    assert.equal(spaceSsh('locked-space'), false);
  });

  it("target -o 'x,demo-org' and -s 'x,locked-space' target nothing", async () => {
    const org = await runCli(developer, ['target', '-o', 'x,demo-org']);
    assert.equal(org.code, 1);
    assert.equal(org.stderr, "Organization 'x,demo-org' not found.\n");
    const space = await runCli(developer, ['target', '-s', 'x,locked-space']);
    assert.equal(space.code, 1);
    assert.equal(space.stderr, "Space 'x,locked-space' not found.\n");
    const json = JSON.parse((await runCli(developer, ['target', '--json'])).stdout) as { org: string; space: string };
    assert.deepEqual([json.org, json.space], ['demo-org', 'demo-space']);
  });

  // connect.ts looks the binding and the instance up itself: these pass once it calls appBindingTo and findServiceInstance.

  it("connect-to-service db-app 'x,demo-pg' finds no binding", async () => {
    const r = await runCli(developer, ['connect-to-service', 'db-app', 'x,demo-pg', '--no-client']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, "Service instance 'x,demo-pg' is not bound to app 'db-app'. It is bound to: demo-pg.\n");
  });

  it("connect-to-service --credentials key 'x,demo-pg' finds no instance and makes no key", async () => {
    const r = await runCli(developer, ['connect-to-service', 'db-app', 'x,demo-pg', '--no-client', '--credentials', 'key']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, "Service instance 'x,demo-pg' not found.\n");
    assert.equal(foundation.world.bindings.filter((b) => b.type === 'key').length, 0);
  });

  describe('the service look-ups connect.ts is to call', () => {
    let cf: CfClients;

    before(async () => {
      const stream = () => Object.assign(new PassThrough(), { isTTY: false });
      const ctx = createContext({
        streams: { stdin: stream(), stdout: stream(), stderr: stream() },
        env: { HOME: developer, CF_HOME: developer, CF_SSH_TOOLS_NO_KEYCHAIN: 'true' },
        self: [],
        onStop: () => () => undefined,
      });
      cf = await loggedInClients(ctx, 'space', () => undefined);
    });

    it('findServiceInstance and appBindingTo take the exact name only', async () => {
      const dbApp = foundation.world.apps.find((a) => a.name === 'db-app');
      assert.ok(dbApp);
      const app = { guid: dbApp.guid, name: dbApp.name, state: 'STARTED' } as const;
      await assert.rejects(findServiceInstance(cf, 'x,demo-pg'), { message: "Service instance 'x,demo-pg' not found." });
      assert.equal(await appBindingTo(cf, app, 'x,demo-pg'), undefined);
      const found = await findServiceInstance(cf, 'demo-pg');
      const seeded = foundation.world.serviceInstances.find((i) => i.name === 'demo-pg');
      assert.ok(seeded?.type === 'managed');
      assert.deepEqual(
        { name: found.name, label: found.label, plan: found.plan, tags: found.tags },
        { name: 'demo-pg', label: seeded.offering.label, plan: seeded.plan.name, tags: seeded.tags },
        'the label, plan and tags VCAP_SERVICES would give it',
      );
      const binding = await expectRequests(
        foundation,
        [
          'GET /v3/service_instances?names=demo-pg&space_guids=:space&fields[service_plan]=guid,name&fields[service_plan.service_offering]=guid,name',
          'GET /v3/service_credential_bindings?app_guids=:app&service_instance_guids=:instance&type=app',
        ],
        () => appBindingTo(cf, app, 'demo-pg'),
      );
      assert.equal(binding?.relationships?.app?.data?.guid, dbApp.guid);
    });
  });
});

/** A Cloud Controller whose list filters match as `match` says: CC's decoding of names=, or looser. */
function fakeCc(resources: (Resource & { state?: App['state'] })[], match: (filter: string, name: string) => boolean): CloudController {
  const list = async (filter: string | undefined) => resources.filter((r) => filter === undefined || match(filter, r.name));
  return {
    organizationsNamed: list,
    spaces: (_org: string, filter?: string) => list(filter),
    appsNamed: (filter: string) => list(filter),
    serviceInstancesNamed: (filter: string) => list(filter),
  } as unknown as CloudController;
}

const clientsOf = (cc: CloudController) => ({ cc, login: { org: { guid: 'o', name: 'org' }, space: { guid: 's', name: 'space' } } }) as unknown as CfClients;

/** CC's BaseMessage.to_array!: split on commas and the spaces after them, then percent-decode each part. */
const ccNames = (filter: string) => filter.split(/,\s*/).map((part) => decodeURIComponent(part));

describe('look-ups by exact name, against servers', () => {
  const resources = [
    { guid: 'g1', name: 'a' },
    { guid: 'g2', name: 'b' },
    { guid: 'g3', name: 'a,b' },
    { guid: 'g4', name: 'Demo' },
    { guid: 'g5', name: '50%25, off' },
  ];

  it('sends a comma and a percent sign encoded, so CC decodes the name whole', async () => {
    assert.equal(nameFilter('a,b'), 'a%2Cb');
    assert.equal(nameFilter('50%25, off'), '50%2525%2C off');
    const cf = clientsOf(fakeCc(resources, (filter, name) => ccNames(filter).includes(name)));
    assert.equal((await findApp(cf, 'a,b')).guid, 'g3');
    assert.equal((await findApp(cf, 'a')).guid, 'g1');
    assert.equal((await findSpace(cf.cc, 'o', '50%25, off')).guid, 'g5');
    await assert.rejects(findOrg(cf.cc, 'a, b'), { message: "Organization 'a, b' not found." });
  });

  it('takes only the exact name from a server that ignores the filter or matches case-insensitively', async () => {
    const ignoring = clientsOf(fakeCc(resources, () => true));
    assert.equal((await findApp(ignoring, 'b')).guid, 'g2');
    await assert.rejects(findApp(ignoring, 'c'), { message: "App 'c' not found." });
    const caseless = clientsOf(fakeCc(resources, (filter, name) => ccNames(filter).some((n) => n.toLowerCase() === name.toLowerCase())));
    await assert.rejects(findApp(caseless, 'demo'), { message: "App 'demo' not found." });
    await assert.rejects(findServiceInstance(caseless, 'DEMO'), { message: "Service instance 'DEMO' not found." });
    assert.equal((await findSpace(caseless.cc, 'o', 'Demo')).guid, 'g4');
  });
});
