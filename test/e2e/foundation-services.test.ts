// The foundation's services: CC's service instance, credential binding and job endpoints with
// their shapes and roles, service keys created and deleted through jobs, and for each database
// server that runs here a real round trip of its own client through `ssh -L` into db-app.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { BIN, loggedIn, onPath } from '../helpers/cli.js';
import { type RunningFoundation, startFoundationProcess } from '../helpers/foundation.js';
import { freePort, waitForPort } from '../helpers/net.js';

// CC's JSON, read loosely: the assertions say what each field must be.
type Json = Record<string, any>;

interface CcAnswer {
  status: number;
  location: string | null;
  body: Json;
}

interface DatabaseStatus {
  kind: string;
  engine: string;
  state: string;
  startupMs?: number;
}

/** A CC client for one seeded user. */
async function ccAs(foundation: RunningFoundation, user: string) {
  const { access_token: token } = await foundation.tokens(user, `${user}-pass`);
  return async (method: string, route: string, body?: unknown): Promise<CcAnswer> => {
    const res = await fetch(`${foundation.url}${route}`, {
      method,
      headers: { Authorization: `bearer ${token}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, location: res.headers.get('location'), body: text ? JSON.parse(text) : {} };
  };
}

type Cc = Awaited<ReturnType<typeof ccAs>>;

/** Polls a job until it is no longer PROCESSING. */
async function finishedJob(cc: Cc, location: string): Promise<Json> {
  const route = new URL(location).pathname;
  for (let i = 0; i < 100; i++) {
    const { body } = await cc('GET', route);
    if (body.state !== 'PROCESSING') return body;
    await sleep(50);
  }
  throw new Error(`job ${location} is still PROCESSING`);
}

/** A local program run to its end, never longer than 20 s. */
function run(program: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(program, args, { env: { PATH: process.env.PATH, HOME: os.tmpdir(), ...env }, timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

/** `cf-ssh-tools ssh db-app -N -L LOCAL:host:port`, open until close(). */
async function tunnel(home: string, host: string, port: number | string): Promise<{ port: number; close(): Promise<void> }> {
  const local = await freePort();
  const child = spawn(process.execPath, [BIN, 'ssh', 'db-app', '-N', '-L', `${local}:${host}:${port}`], {
    env: { PATH: process.env.PATH, HOME: home, CF_HOME: home, CF_SSH_TOOLS_NO_KEYCHAIN: 'true' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const close = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGINT');
    const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(killer);
  };
  try {
    await Promise.race([waitForPort(local), exited.then((code) => Promise.reject(new Error(`ssh exited with ${code}: ${stderr}`)))]);
  } catch (err) {
    await close();
    throw err;
  }
  return { port: local, close };
}

describe('the foundation’s services', () => {
  let foundation: RunningFoundation;
  let developer: Cc;
  let auditor: Cc;
  let dbApp: Json;
  let scratch: string;
  let postgresOffered = false;

  /** Most tests use demo-pg: they need PostgreSQL or PGlite. */
  const needingPostgres = (test: () => Promise<void>) => async (t: TestContext) => {
    if (!postgresOffered) return t.skip('neither PostgreSQL nor PGlite is installed');
    await test();
  };

  /** The credentials of db-app's binding to `instance`, as a developer reads them. */
  const appBindingCredentials = async (instance: string): Promise<Json> => {
    const { body } = await developer('GET', `/v3/service_credential_bindings?app_guids=${dbApp.guid}&service_instance_names=${instance}`);
    assert.equal(body.resources.length, 1, `db-app is bound to ${instance}`);
    const details = await developer('GET', `/v3/service_credential_bindings/${body.resources[0].guid}/details`);
    assert.equal(details.status, 200, JSON.stringify(details.body));
    return details.body.credentials;
  };
  const instanceGuid = async (name: string): Promise<string> => (await developer('GET', `/v3/service_instances?names=${name}`)).body.resources[0].guid;
  const createKey = (name: string, instance: string) =>
    developer('POST', '/v3/service_credential_bindings', { type: 'key', name, relationships: { service_instance: { data: { guid: instance } } } });
  const deleteKey = async (guid: string) => {
    const deleted = await developer('DELETE', `/v3/service_credential_bindings/${guid}`);
    assert.equal(deleted.status, 202);
    assert.equal((await finishedJob(developer, deleted.location!)).state, 'COMPLETE');
  };
  const databases = async () => (await foundation.control<{ databases: DatabaseStatus[] }>('GET', '/foundation/databases')).databases;
  const offered = async (t: TestContext, kind: string, client: string): Promise<DatabaseStatus | undefined> => {
    const database = (await databases()).find((d) => d.kind === kind);
    if (database?.startupMs) t.diagnostic(`${kind} (${database.engine}) started in ${database.startupMs} ms`);
    if (!database) t.skip(`no ${kind} server is installed here`);
    else if (!onPath(client)) t.skip(`${client} is not installed`);
    return database && onPath(client) ? database : undefined;
  };
  /** A 0600 file in the scratch folder (client options, CA certificates). */
  const privateFile = (name: string, content: string) => {
    const file = path.join(scratch, name);
    writeFileSync(file, content, { mode: 0o600 });
    return file;
  };

  before(async () => {
    foundation = await startFoundationProcess(['--databases', 'postgres,mysql,redis']);
    [developer, auditor] = await Promise.all([ccAs(foundation, 'developer'), ccAs(foundation, 'auditor')]);
    dbApp = (await developer('GET', '/v3/apps?names=db-app')).body.resources[0];
    scratch = mkdtempSync(path.join(os.tmpdir(), 'cf-ssh-tools-services-test-'));
    postgresOffered = (await databases()).some((d) => d.kind === 'postgres');
  });
  after(async () => {
    await foundation.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  describe('CC endpoints', () => {
    it('db-app runs one instance; no database starts before anyone needs one', async () => {
      assert.equal(dbApp.state, 'STARTED');
      const { body } = await developer('GET', `/v3/processes/${dbApp.guid}/stats`);
      assert.deepEqual(
        body.resources.map((r: Json) => r.state),
        ['RUNNING'],
      );
      assert.ok(
        (await databases()).every((d) => d.state === 'not started'),
        JSON.stringify(await databases()),
      );
    });

    it(
      'lists service instances by name and space, with plans and offerings in `included` on request',
      needingPostgres(async () => {
        const space = (await developer('GET', '/v3/spaces?names=demo-space')).body.resources[0];
        const { body } = await developer('GET', `/v3/service_instances?space_guids=${space.guid}&order_by=name`);
        const names = body.resources.map((r: Json) => r.name);
        assert.ok(names.includes('demo-pg') && names.includes('credhub-pg'), names.join(', '));
        const pg = await developer('GET', '/v3/service_instances?names=demo-pg&fields[service_plan]=name,guid&fields[service_plan.service_offering]=name');
        assert.equal(pg.body.pagination.total_results, 1);
        const [instance] = pg.body.resources;
        assert.equal(instance.type, 'managed');
        assert.deepEqual(instance.tags, ['database', 'RDS']);
        assert.equal(instance.relationships.space.data.guid, space.guid);
        assert.equal(instance.last_operation.state, 'succeeded');
        const [plan] = pg.body.included.service_plans;
        assert.equal(plan.name, 'micro-psql');
        assert.equal(plan.guid, instance.relationships.service_plan.data.guid);
        assert.deepEqual(pg.body.included.service_offerings, [{ name: 'aws-rds' }]);
        assert.equal((await developer('GET', `/v3/service_instances/${instance.guid}`)).body.name, 'demo-pg');
        assert.equal((await developer('GET', '/v3/service_instances/no-such-guid')).status, 404);
        assert.equal((await auditor('GET', '/v3/service_instances?names=demo-pg')).body.resources.length, 1, 'auditors see instances');
      }),
    );

    it(
      'lists credential bindings by app, instance name, name and type; refuses an unknown type',
      needingPostgres(async () => {
        const { body } = await developer('GET', `/v3/service_credential_bindings?app_guids=${dbApp.guid}`);
        assert.ok(body.resources.length >= 2);
        for (const binding of body.resources) {
          assert.equal(binding.type, 'app');
          assert.equal(binding.relationships.app.data.guid, dbApp.guid);
          assert.match(binding.links.details.href, /\/v3\/service_credential_bindings\/[0-9a-f-]+\/details$/);
        }
        const one = await developer('GET', `/v3/service_credential_bindings?service_instance_names=demo-pg&type=app`);
        assert.equal(one.body.resources.length, 1);
        assert.equal((await developer('GET', `/v3/service_credential_bindings/${one.body.resources[0].guid}`)).body.guid, one.body.resources[0].guid);
        assert.equal((await developer('GET', '/v3/service_credential_bindings?type=key')).body.resources.length, 0);
        const bad = await developer('GET', '/v3/service_credential_bindings?type=route');
        assert.equal(bad.status, 400);
        assert.equal(bad.body.errors[0].detail, "Type must be one of 'app', 'key'");
        assert.equal((await auditor('GET', `/v3/service_credential_bindings?app_guids=${dbApp.guid}`)).body.resources.length, body.resources.length);
      }),
    );

    it(
      'gives credentials in real brokers’ shapes to developers; auditors get 404 on details and 403 on the app env, as on CC',
      needingPostgres(async () => {
        const pg = await appBindingCredentials('demo-pg');
        assert.deepEqual(Object.keys(pg).sort(), ['db_name', 'host', 'name', 'password', 'port', 'uri', 'username']);
        assert.equal(typeof pg.port, 'string', 'aws-rds gives the port as a string');
        assert.equal(pg.uri, `postgres://${pg.username}:${pg.password}@${pg.host}:${pg.port}/${pg.db_name}`);
        const binding = (await developer('GET', '/v3/service_credential_bindings?service_instance_names=demo-pg')).body.resources[0];
        const denied = await auditor('GET', `/v3/service_credential_bindings/${binding.guid}/details`);
        assert.equal(denied.status, 404);
        assert.equal(denied.body.errors[0].detail, 'Service credential binding not found');
        assert.equal((await auditor('GET', `/v3/apps/${dbApp.guid}/env`)).status, 403);
        const databasesNow = await databases();
        for (const kind of ['mysql', 'redis']) {
          if (!databasesNow.some((d) => d.kind === kind)) continue;
          const credentials = await appBindingCredentials(kind === 'mysql' ? 'demo-mysql' : 'demo-redis');
          if (kind === 'mysql') {
            assert.deepEqual(Object.keys(credentials).sort(), ['hostname', 'jdbcUrl', 'name', 'password', 'port', 'tls', 'uri', 'username']);
            assert.equal(typeof credentials.port, 'number');
            assert.match(credentials.uri, /^mysql:\/\/demo_user:[0-9a-f]+@localhost:\d+\/service_instance_db\?reconnect=true$/);
            assert.match(credentials.tls.cert.ca, /^-----BEGIN CERTIFICATE-----/);
          } else {
            assert.deepEqual(Object.keys(credentials), ['uri']);
            assert.match(credentials.uri, /^redis:\/\/:[0-9a-f]+@127\.0\.0\.1:\d+$/);
          }
        }
      }),
    );

    it(
      'puts VCAP_SERVICES, grouped by label, in the app env and in the instance’s environment',
      needingPostgres(async () => {
        const { body } = await developer('GET', `/v3/apps/${dbApp.guid}/env`);
        const services = body.system_env_json.VCAP_SERVICES;
        const rds = services['aws-rds'].find((s: Json) => s.name === 'demo-pg');
        assert.deepEqual(
          { label: rds.label, plan: rds.plan, tags: rds.tags, instance_name: rds.instance_name, binding_name: rds.binding_name },
          { label: 'aws-rds', plan: 'micro-psql', tags: ['database', 'RDS'], instance_name: 'demo-pg', binding_name: null },
        );
        assert.deepEqual(rds.credentials, await appBindingCredentials('demo-pg'));
        const home = await loggedIn(foundation.url);
        const inInstance = await run(process.execPath, [BIN, 'ssh', 'db-app', '-c', 'echo "$VCAP_SERVICES"'], { HOME: home, CF_HOME: home, CF_SSH_TOOLS_NO_KEYCHAIN: 'true' });
        assert.equal(inInstance.code, 0, inInstance.stderr);
        assert.deepEqual(JSON.parse(inInstance.stdout), services);
        assert.ok(
          (await databases()).every((d) => d.state === 'running'),
          'reading credentials started the databases',
        );
      }),
    );

    it(
      'credhub-pg: bindings hold only a credhub-ref; a service key’s details resolve it (as CC does for keys only)',
      needingPostgres(async () => {
        const { body } = await developer('GET', `/v3/apps/${dbApp.guid}/env`);
        const [entry] = body.system_env_json.VCAP_SERVICES.postgres;
        assert.equal(entry.name, 'credhub-pg');
        assert.deepEqual(Object.keys(entry.credentials), ['credhub-ref']);
        assert.match(entry.credentials['credhub-ref'], /^\/c\/[0-9a-f-]+\/[0-9a-f-]+\/[0-9a-f-]+\/credentials$/);
        assert.deepEqual(await appBindingCredentials('credhub-pg'), entry.credentials);
        const created = await createKey('credhub-key', await instanceGuid('credhub-pg'));
        const job = await finishedJob(developer, created.location!);
        assert.equal(job.state, 'COMPLETE');
        const key = (await developer('GET', '/v3/service_credential_bindings?type=key&names=credhub-key')).body.resources[0];
        try {
          const { credentials } = (await developer('GET', `/v3/service_credential_bindings/${key.guid}/details`)).body;
          assert.deepEqual(Object.keys(credentials).sort(), ['db', 'hosts', 'jdbcUrl', 'password', 'port', 'uri', 'user']);
          assert.deepEqual(credentials.hosts, ['localhost']);
        } finally {
          await deleteKey(key.guid);
        }
      }),
    );

    it(
      'creates a service key through a job (202, Location, PROCESSING then COMPLETE) and deletes it likewise',
      needingPostgres(async () => {
        const instance = await instanceGuid('demo-pg');
        await foundation.control('PUT', '/foundation/settings', { broker_delay_ms: 400 });
        try {
          const created = await createKey('my-key', instance);
          assert.equal(created.status, 202);
          assert.match(created.location!, new RegExp(`^${foundation.url}/v3/jobs/[0-9a-f-]+$`));
          const processing = (await developer('GET', new URL(created.location!).pathname)).body;
          assert.deepEqual(
            { operation: processing.operation, state: processing.state, errors: processing.errors, warnings: processing.warnings },
            { operation: 'service_bindings.create', state: 'PROCESSING', errors: [], warnings: [] },
          );
          assert.equal(processing.links.self.href, created.location);
          const [key] = (await developer('GET', `/v3/service_credential_bindings?type=key&service_instance_guids=${instance}`)).body.resources;
          assert.deepEqual({ name: key.name, type: key.type, state: key.last_operation.state }, { name: 'my-key', type: 'key', state: 'in progress' });
          assert.equal(key.relationships.app, undefined);
          const early = await developer('GET', `/v3/service_credential_bindings/${key.guid}/details`);
          assert.equal(early.status, 404);
          assert.equal(early.body.errors[0].detail, 'Creation of service key in progress');
          assert.equal((await finishedJob(developer, created.location!)).state, 'COMPLETE');
          const { credentials } = (await developer('GET', `/v3/service_credential_bindings/${key.guid}/details`)).body;
          assert.equal(credentials.uri, (await appBindingCredentials('demo-pg')).uri);
          assert.deepEqual(await foundation.control('GET', '/foundation/service-keys'), [
            { guid: key.guid, name: 'my-key', service_instance: 'demo-pg', created_by: 'developer', last_operation: 'create succeeded' },
          ]);

          const clash = await createKey('my-key', instance);
          assert.equal(clash.status, 422);
          assert.deepEqual(clash.body.errors, [
            {
              detail: "The binding name is invalid. Key binding names must be unique. The service instance already has a key binding with name 'my-key'.",
              title: 'CF-UnprocessableEntity',
              code: 10008,
            },
          ]);

          const deleted = await developer('DELETE', `/v3/service_credential_bindings/${key.guid}`);
          assert.equal(deleted.status, 202);
          assert.equal((await developer('GET', new URL(deleted.location!).pathname)).body.operation, 'service_bindings.delete');
          assert.equal(
            (await developer('DELETE', `/v3/service_credential_bindings/${key.guid}`)).body.errors[0].detail,
            'There is an operation in progress for the service binding.',
          );
          assert.equal((await finishedJob(developer, deleted.location!)).state, 'COMPLETE');
          assert.equal((await developer('GET', `/v3/service_credential_bindings/${key.guid}`)).status, 404);
          assert.deepEqual(await foundation.control('GET', '/foundation/service-keys'), []);
        } finally {
          await foundation.control('PUT', '/foundation/settings', { broker_delay_ms: 300 });
        }
      }),
    );

    it(
      'refuses keys to auditors (403), for unknown instances and without a name (422)',
      needingPostgres(async () => {
        const instance = await instanceGuid('demo-pg');
        const byAuditor = await auditor('POST', '/v3/service_credential_bindings', { type: 'key', name: 'k', relationships: { service_instance: { data: { guid: instance } } } });
        assert.equal(byAuditor.status, 403);
        assert.equal(byAuditor.body.errors[0].title, 'CF-NotAuthorized');
        const unknown = await createKey('k', 'no-such-guid');
        assert.equal(unknown.status, 422);
        assert.equal(unknown.body.errors[0].detail, "The service instance could not be found: 'no-such-guid'");
        const nameless = await developer('POST', '/v3/service_credential_bindings', { type: 'key', name: '', relationships: { service_instance: { data: { guid: instance } } } });
        assert.equal(nameless.body.errors[0].detail, "Name can't be blank");
        assert.deepEqual(await foundation.control('GET', '/foundation/service-keys'), []);
      }),
    );

    it(
      'a failing broker fails the job with CC’s error and leaves a failed key, which can be deleted',
      needingPostgres(async () => {
        await foundation.control('PUT', '/foundation/settings', { broker_error: 'Service broker error: quota exceeded' });
        const created = await createKey('doomed', await instanceGuid('demo-pg'));
        const job = await finishedJob(developer, created.location!);
        await foundation.control('PUT', '/foundation/settings', { broker_error: null });
        assert.equal(job.state, 'FAILED');
        assert.deepEqual(job.errors, [{ code: 10009, title: 'CF-UnableToPerform', detail: 'bind could not be completed: Service broker error: quota exceeded' }]);
        const [failed] = (await developer('GET', '/v3/service_credential_bindings?type=key&names=doomed')).body.resources;
        assert.equal(failed.last_operation.state, 'failed');
        assert.equal((await developer('GET', `/v3/service_credential_bindings/${failed.guid}/details`)).body.errors[0].detail, 'Creation of service key failed');
        await deleteKey(failed.guid);
        assert.deepEqual(await foundation.control('GET', '/foundation/service-keys'), []);
      }),
    );

    it('user-provided instances as the cf CLI makes them: created (201) and bound at once (201) in CC’s shapes, refused as CC refuses, deleted with their bindings (204)', async () => {
      const space = (await developer('GET', '/v3/spaces?names=demo-space')).body.resources[0].guid;
      const instance = (name: string, fields: Json = {}) => ({ type: 'user-provided', name, relationships: { space: { data: { guid: space } } }, ...fields });
      const bind = (guid: string) =>
        developer('POST', '/v3/service_credential_bindings', { type: 'app', relationships: { service_instance: { data: { guid } }, app: { data: { guid: dbApp.guid } } } });
      const credentials = { uri: 'postgres://u:p%40ss@db.example.com:5432/app', password: 'p@ss' };

      const created = await developer('POST', '/v3/service_instances', instance('my-ups', { credentials, tags: ['mine'], syslog_drain_url: 'https://logs.example.com' }));
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const ups = created.body;
      assert.deepEqual(Object.keys(ups), [
        'guid',
        'created_at',
        'updated_at',
        'name',
        'tags',
        'last_operation',
        'type',
        'syslog_drain_url',
        'route_service_url',
        'relationships',
        'metadata',
        'links',
      ]);
      assert.deepEqual(
        { type: ups.type, tags: ups.tags, drain: ups.syslog_drain_url, route: ups.route_service_url, operation: ups.last_operation.description, space: ups.relationships },
        { type: 'user-provided', tags: ['mine'], drain: 'https://logs.example.com', route: null, operation: 'Operation succeeded', space: { space: { data: { guid: space } } } },
      );
      assert.deepEqual((await developer('GET', new URL(ups.links.credentials.href).pathname)).body, credentials);
      assert.equal((await auditor('GET', `/v3/service_instances/${ups.guid}/credentials`)).status, 403);

      const refusals: [string, CcAnswer, number, string][] = [
        ['a taken name', await developer('POST', '/v3/service_instances', instance('my-ups')), 422, 'The service instance name is taken: my-ups.'],
        ['an auditor', await auditor('POST', '/v3/service_instances', instance('auditors-ups')), 403, 'You are not authorized to perform the requested action'],
        [
          'no such space',
          await developer('POST', '/v3/service_instances', { ...instance('x'), relationships: { space: { data: { guid: 'no-such-space' } } } }),
          422,
          'Invalid space. Ensure that the space exists and you have access to it.',
        ],
        [
          'a body CC cannot read',
          await developer('POST', '/v3/service_instances', { type: 'foo' }),
          422,
          "Relationships 'relationships' is not an object, Type must be one of 'managed', 'user-provided', Name must be a string, Name can't be blank",
        ],
      ];
      for (const [what, answer, status, detail] of refusals) assert.deepEqual([answer.status, answer.body.errors[0].detail], [status, detail], what);

      const bound = await bind(ups.guid);
      assert.equal(bound.status, 201, JSON.stringify(bound.body));
      assert.deepEqual([bound.body.type, bound.body.last_operation.state, bound.body.relationships.app.data.guid], ['app', 'succeeded', dbApp.guid]);
      assert.equal(bound.body.links.parameters, undefined, 'no parameters for a user-provided binding');
      assert.deepEqual((await developer('GET', `/v3/service_credential_bindings/${bound.body.guid}/details`)).body.credentials, credentials);
      assert.equal((await bind(ups.guid)).body.errors[0].detail, 'The app is already bound to the service instance');
      const key = await createKey('k', ups.guid);
      assert.equal(key.body.errors[0].detail, "Service credential bindings of type 'key' are not supported for user-provided service instances.");
      const vcap = (await developer('GET', `/v3/apps/${dbApp.guid}/env`)).body.system_env_json.VCAP_SERVICES;
      const entry = vcap['user-provided'].find((s: Json) => s.name === 'my-ups');
      assert.deepEqual(
        { label: entry.label, tags: entry.tags, credentials: entry.credentials, drain: entry.syslog_drain_url, plan: entry.plan },
        { label: 'user-provided', tags: ['mine'], credentials, drain: 'https://logs.example.com', plan: undefined },
      );

      // `cf unbind-service`: at once, no job.
      assert.equal((await developer('DELETE', `/v3/service_credential_bindings/${bound.body.guid}`)).status, 204);
      const rebound = await bind(ups.guid);
      assert.equal(rebound.status, 201);
      // `cf delete-service`: the instance and its bindings go, with or without ?purge=true (CC's V3::ServiceInstanceDelete).
      const other = (await developer('POST', '/v3/service_instances', instance('other-ups'))).body;
      await bind(other.guid);
      for (const [guid, query] of [
        [ups.guid, ''],
        [other.guid, '?purge=true'],
      ]) {
        assert.equal((await developer('DELETE', `/v3/service_instances/${guid}${query}`)).status, 204);
        assert.equal((await developer('GET', `/v3/service_instances/${guid}`)).status, 404);
        assert.equal((await developer('GET', `/v3/service_credential_bindings?service_instance_guids=${guid}`)).body.resources.length, 0);
      }
    });
  });

  describe('a real client through an SSH tunnel into db-app', { timeout: 120_000 }, () => {
    let home: string;

    before(async () => {
      home = await loggedIn(foundation.url);
    });

    it('psql: demo-pg (aws-rds) round trip; broken-pg’s wrong password fails', async (t) => {
      const database = await offered(t, 'postgres', 'psql');
      if (!database) return;
      const pg = await appBindingCredentials('demo-pg');
      const local = await tunnel(home, pg.host, pg.port);
      try {
        const psql = (password: string, sql: string) =>
          run('psql', ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-c', sql, `host=127.0.0.1 port=${local.port} dbname=${pg.db_name} user=${pg.username} connect_timeout=10`], {
            PGPASSWORD: password,
          });
        const r = await psql(pg.password, 'CREATE TABLE IF NOT EXISTS visits (n int); INSERT INTO visits VALUES (42); SELECT sum(n), current_user FROM visits');
        assert.equal(r.stdout, `42|${pg.username}\n`, r.stderr);
        if (database.engine === 'PGlite') return; // it checks no password: there is no broken-pg
        const broken = await appBindingCredentials('broken-pg');
        const refused = await psql(broken.password, 'SELECT 1');
        assert.equal(refused.code, 2);
        assert.match(refused.stderr, /password authentication failed for user "demo_user"/);
      } finally {
        await local.close();
      }
    });

    it('psql: demo-pg-tls with sslmode=verify-full, sslrootcert, host=localhost hostaddr=127.0.0.1; without TLS or with another name it fails', async (t) => {
      const database = await offered(t, 'postgres', 'psql');
      if (!database) return;
      if (database.engine === 'PGlite') return t.skip('PGlite speaks no TLS');
      const tls = await appBindingCredentials('demo-pg-tls');
      assert.deepEqual(Object.keys(tls).sort(), ['dbname', 'hostname', 'password', 'port', 'sslcert', 'sslrootcert', 'uri', 'username']);
      const rootCert = privateFile('pg-ca.pem', tls.sslrootcert);
      const local = await tunnel(home, tls.hostname, tls.port);
      try {
        const psql = (options: string) =>
          run(
            'psql',
            [
              '-X',
              '-At',
              '-c',
              'SELECT current_user, ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
              `${options} port=${local.port} dbname=${tls.dbname} user=${tls.username} connect_timeout=10`,
            ],
            {
              PGPASSWORD: tls.password,
            },
          );
        const verified = await psql(`host=${tls.hostname} hostaddr=127.0.0.1 sslmode=verify-full sslrootcert=${rootCert}`);
        assert.equal(verified.stdout, `${tls.username}|t\n`, verified.stderr);
        const plain = await psql('host=127.0.0.1 sslmode=disable');
        assert.match(plain.stderr, /no encryption/);
        const otherName = await psql(`host=db.example.com hostaddr=127.0.0.1 sslmode=verify-full sslrootcert=${rootCert}`);
        assert.match(otherName.stderr, /does not match host name "db\.example\.com"/);
      } finally {
        await local.close();
      }
    });

    it('mariadb: demo-mysql with --defaults-extra-file (0600) and the CA, verified; a wrong password fails', async (t) => {
      const client = ['mariadb', 'mysql'].find(onPath) ?? 'mariadb';
      if (!(await offered(t, 'mysql', client))) return;
      const my = await appBindingCredentials('demo-mysql');
      const ca = privateFile('mysql-ca.pem', my.tls.cert.ca);
      const local = await tunnel(home, my.hostname, my.port);
      try {
        const mysql = (password: string) => {
          // The certificate names the host only, as brokers' do: the client must connect by that name to verify it.
          const options = privateFile('my.cnf', `[client]\nuser=${my.username}\npassword=${password}\nhost=localhost\nprotocol=TCP\nport=${local.port}\n`);
          assert.equal(statSync(options).mode & 0o777, 0o600);
          return run(client, [
            `--defaults-extra-file=${options}`,
            `--ssl-ca=${ca}`,
            '--ssl-verify-server-cert',
            '--connect-timeout=10',
            '-N',
            '-B',
            my.name,
            '-e',
            "CREATE TABLE IF NOT EXISTS visits (n INT); INSERT INTO visits VALUES (7); SELECT SUM(n), CURRENT_USER() FROM visits; SHOW STATUS LIKE 'Ssl_version'",
          ]);
        };
        const r = await mysql(my.password);
        assert.match(r.stdout, /^7\tdemo_user@%\nSsl_version\tTLSv1\.[23]\n$/, r.stderr);
        const refused = await mysql('wrong');
        assert.equal(refused.code, 1);
        assert.match(refused.stderr, /Access denied for user 'demo_user'/);
      } finally {
        await local.close();
      }
    });

    it('redis-cli: demo-redis (uri) with REDISCLI_AUTH; demo-redis-tls with --tls --cacert; a wrong password fails', async (t) => {
      if (!(await offered(t, 'redis', 'redis-cli'))) return;
      const { uri } = await appBindingCredentials('demo-redis');
      const url = new URL(uri);
      const local = await tunnel(home, url.hostname, url.port);
      try {
        const cli = (password: string, ...args: string[]) => run('redis-cli', ['-h', '127.0.0.1', '-p', String(local.port), ...args], { REDISCLI_AUTH: password });
        assert.equal((await cli(decodeURIComponent(url.password), 'SET', 'greeting', 'hello')).stdout, 'OK\n');
        const r = await cli(decodeURIComponent(url.password), 'GET', 'greeting');
        assert.equal(r.stdout, 'hello\n', r.stderr);
        const refused = await cli('wrong', 'GET', 'greeting');
        assert.match(refused.stdout + refused.stderr, /WRONGPASS|NOAUTH/);
        assert.doesNotMatch(refused.stdout, /hello/);
      } finally {
        await local.close();
      }
      const tls = await appBindingCredentials('demo-redis-tls');
      assert.deepEqual(Object.keys(tls).sort(), ['host', 'password', 'port', 'tls', 'tls_port']);
      const ca = privateFile('redis-ca.pem', tls.tls.ca);
      const secure = await tunnel(home, tls.host, tls.tls_port);
      try {
        const cli = (...args: string[]) => run('redis-cli', ['-h', '127.0.0.1', '-p', String(secure.port), ...args, 'GET', 'greeting'], { REDISCLI_AUTH: tls.password });
        const r = await cli('--tls', '--sni', tls.host, '--cacert', ca);
        assert.equal(r.stdout, 'hello\n', r.stderr);
        const plain = await cli();
        assert.doesNotMatch(plain.stdout, /hello/);
      } finally {
        await secure.close();
      }
    });
  });
});

describe('PGlite standing in for PostgreSQL (--pglite)', { timeout: 120_000 }, () => {
  let foundation: RunningFoundation;

  before(async () => {
    foundation = await startFoundationProcess(['--databases', 'postgres', '--pglite']);
  });
  after(() => foundation.stop());

  it('serves the PostgreSQL services that need no TLS or password check, and psql works through the tunnel', async (t) => {
    const { databases, notes } = await foundation.control<{ databases: DatabaseStatus[]; notes: string[] }>('GET', '/foundation/databases');
    if (databases.length === 0) return t.skip(notes.join(' '));
    if (!onPath('psql')) return t.skip('psql is not installed');
    const developer = await ccAs(foundation, 'developer');
    const names = (await developer('GET', '/v3/service_instances?order_by=name')).body.resources.map((r: Json) => r.name);
    assert.deepEqual(names, ['credhub-pg', 'demo-bucket', 'demo-pg', 'legacy-db']);
    const binding = (await developer('GET', '/v3/service_credential_bindings?service_instance_names=demo-pg')).body.resources[0];
    const pg = (await developer('GET', `/v3/service_credential_bindings/${binding.guid}/details`)).body.credentials;
    const local = await tunnel(await loggedIn(foundation.url), pg.host, pg.port);
    try {
      const r = await run('psql', ['-X', '-At', '-c', 'SELECT 40 + 2', `host=127.0.0.1 port=${local.port} dbname=${pg.db_name} user=${pg.username} connect_timeout=10`], {
        PGPASSWORD: pg.password,
      });
      assert.equal(r.stdout, '42\n', r.stderr);
    } finally {
      await local.close();
    }
    const [pglite] = (await foundation.control<{ databases: DatabaseStatus[] }>('GET', '/foundation/databases')).databases;
    assert.ok(pglite);
    t.diagnostic(`PGlite started in ${pglite.startupMs} ms`);
  });
});
