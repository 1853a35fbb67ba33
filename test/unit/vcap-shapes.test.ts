// VCAP_SERVICES and credentials come from brokers and apps' environments, in any shape JSON
// allows. None may crash a run ("Unexpected error: Cannot read properties of null"): an entry
// that cannot be used is left out with a note naming it and why, odd hints are dropped, and
// credentials that name no host and port parse to nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { detectType, isCredhubReference, parseConnection, type ServiceBinding, type ServiceType, uriScheme, vcapBindings } from '../../src/services/credentials.js';

import { type Foundation, startFoundation } from '../foundation/server.js';
import { loggedIn, runCli } from '../helpers/run-cli.js';

const PG = { uri: 'postgres://u:p@db.internal:5432/app' };
const good = { name: 'good-pg', label: 'postgres', plan: 'small', tags: ['postgres'], credentials: PG };

describe('VCAP_SERVICES entries', () => {
  const table: { shape: string; vcap: unknown; names: string[]; notes: string[] }[] = [
    { shape: 'not an object at all', vcap: 'nonsense', names: [], notes: [] },
    { shape: 'null', vcap: null, names: [], notes: [] },
    { shape: 'a label that is not a list', vcap: { postgres: { name: 'x' } }, names: [], notes: ["Skipped 'postgres' in VCAP_SERVICES: it is not a list of services."] },
    { shape: 'a null entry', vcap: { postgres: [null, good] }, names: ['good-pg'], notes: ["Skipped entry 1 of 'postgres' in VCAP_SERVICES: it is not an object."] },
    { shape: 'an entry that is a string', vcap: { postgres: [good, 'db'] }, names: ['good-pg'], notes: ["Skipped entry 2 of 'postgres' in VCAP_SERVICES: it is not an object."] },
    { shape: 'an entry without a name', vcap: { postgres: [{ credentials: PG }] }, names: [], notes: ["Skipped entry 1 of 'postgres' in VCAP_SERVICES: it has no name."] },
    {
      shape: 'a name that is no string',
      vcap: { postgres: [{ name: { x: 1 }, credentials: PG }] },
      names: [],
      notes: ["Skipped entry 1 of 'postgres' in VCAP_SERVICES: it has no name."],
    },
    { shape: 'no credentials', vcap: { postgres: [{ name: 'db' }] }, names: [], notes: ["Skipped entry 1 of 'postgres' in VCAP_SERVICES: 'db' has no credentials."] },
    {
      shape: 'credentials that are a string',
      vcap: { postgres: [{ name: 'db', credentials: 'postgres://u:p@h/db' }] },
      names: [],
      notes: ["Skipped entry 1 of 'postgres' in VCAP_SERVICES: the credentials of 'db' are not an object."],
    },
    {
      shape: 'credentials that are null or a list',
      vcap: { postgres: [{ name: 'a', credentials: null }], mysql: [{ name: 'b', credentials: [] }] },
      names: [],
      notes: [
        "Skipped entry 1 of 'postgres' in VCAP_SERVICES: the credentials of 'a' are not an object.",
        "Skipped entry 1 of 'mysql' in VCAP_SERVICES: the credentials of 'b' are not an object.",
      ],
    },
    { shape: 'tags as a string, label and plan as numbers', vcap: { postgres: [{ name: 'db', tags: 'postgres', label: 5, plan: 7, credentials: PG }] }, names: ['db'], notes: [] },
  ];

  for (const { shape, vcap, names, notes } of table) {
    it(shape, () => {
      const said: string[] = [];
      const bindings = vcapBindings(vcap, (note) => said.push(note));
      assert.deepEqual(
        bindings.map((b) => b.name),
        names,
      );
      assert.deepEqual(said, notes);
      for (const binding of bindings) {
        assert.equal(typeof binding.credentials, 'object');
        assert.ok(binding.tags === undefined || binding.tags.every((tag) => typeof tag === 'string'));
        assert.doesNotThrow(() => detectType(binding));
      }
    });
  }

  it('keeps the fields it does not check, and takes the label from the group when the entry has none', () => {
    const [binding] = vcapBindings({ 'p.mysql': [{ name: 'orders', instance_name: 'orders-db', credentials: PG, tags: ['sql', 3] }] });
    assert.deepEqual(binding, { name: 'orders', instance_name: 'orders-db', label: 'p.mysql', plan: undefined, tags: ['sql'], credentials: PG });
  });
});

describe('detectType on odd shapes', () => {
  const table: { shape: string; binding: unknown; type: string | undefined }[] = [
    { shape: 'tags as a string', binding: { name: 'x', tags: 'postgres', credentials: {} }, type: undefined },
    { shape: 'tags with null and numbers', binding: { name: 'x', tags: [null, 5, 'redis'], credentials: {} }, type: 'redis' },
    { shape: 'credentials null', binding: { name: 'my-pg', credentials: null }, type: 'postgres' },
    { shape: 'credentials a string', binding: { name: 'cache', label: 'redis', credentials: 'redis://h' }, type: 'redis' },
    { shape: 'a label and plan that are objects', binding: { name: 'db', label: {}, plan: [], credentials: { jdbcUrl: 'jdbc:mysql://h/db' } }, type: 'mysql' },
    { shape: 'a jdbcUrl that is a number', binding: { name: 'n', credentials: { jdbcUrl: 5 } }, type: undefined },
  ];
  for (const { shape, binding, type } of table) {
    it(shape, () => {
      assert.equal(detectType(binding as ServiceBinding).type, type);
    });
  }
});

describe('parseConnection on odd shapes', () => {
  const table: { shape: string; creds: unknown; type?: ServiceType; host?: string; port?: number }[] = [
    { shape: 'null', creds: null },
    { shape: 'a string', creds: 'postgres://u:p@h:5432/db' },
    { shape: 'a list', creds: [PG] },
    { shape: 'hosts as a string', creds: { hosts: 'h1', port: 5432 } },
    { shape: 'hosts with a null first', creds: { hosts: [null], port: 5432 } },
    // A port in an object is no port: the type's default is taken, as when none is given.
    { shape: 'a port that is an object', creds: { host: 'h', port: { value: 1 } }, type: 'postgres', host: 'h', port: 5432 },
    { shape: 'a port out of range', creds: { host: 'h', port: 70000 } },
    { shape: 'a port of zero', creds: { host: 'h', port: '0' } },
    { shape: 'a port that is no number', creds: { host: 'h', port: 'abc' } },
    { shape: 'tls as a string, its cert null', creds: { host: 'h', port: 1, tls: 'yes', ca: null }, host: 'h', port: 1 },
    { shape: 'tls.cert as a string', creds: { host: 'h', port: 1, tls: { cert: 'pem' } }, host: 'h', port: 1 },
    { shape: 'a uri that is a number', creds: { uri: 5, host: 'h', port: 2 }, host: 'h', port: 2 },
    { shape: 'a uri that does not parse', creds: { uri: 'http://[::1', host: 'h', port: 3 }, host: 'h', port: 3 },
  ];
  for (const { shape, creds, type, host, port } of table) {
    it(shape, () => {
      const conn = parseConnection(creds, type);
      assert.deepEqual(conn && { host: conn.host, port: conn.port }, host === undefined ? undefined : { host, port });
    });
  }

  it('uriScheme and isCredhubReference take anything', () => {
    assert.equal(uriScheme(null), undefined);
    assert.equal(uriScheme({ uri: 'rediss://h:6380' }), 'rediss');
    assert.equal(isCredhubReference(null), false);
    assert.equal(isCredhubReference('credhub-ref'), false);
    assert.equal(isCredhubReference({ 'credhub-ref': '/c/x' }), true);
  });
});

describe('connect-to-service with an odd VCAP_SERVICES', () => {
  let foundation: Foundation;
  let developer: string;

  before(async () => {
    foundation = await startFoundation({ ssh: true, sshBackend: 'builtin' });
    const space = foundation.world.spaces.find((s) => s.name === 'demo-space');
    assert.ok(space);
    foundation.world.addApp(space, 'db-app');
    // What the app's environment shows: a null entry, a string, and the service with its tags as a string.
    foundation.world.vcapServices = async () => ({
      postgres: [null, 'db', { name: 'demo-pg', label: 'postgres', tags: 'postgres', credentials: { uri: 'postgres://u:p@127.0.0.1:1/db' } }],
      broken: [{ name: 'half', credentials: 'none' }],
    });
    developer = await loggedIn(foundation.url);
  });
  after(() => foundation.stop());

  it('uses the good entry and gets as far as the service, with no unexpected error', async () => {
    const r = await runCli(developer, ['connect-to-service', 'db-app', 'demo-pg', '--no-client']);
    assert.equal(r.code, 1);
    const [skipped1, skipped2, skipped3, failure] = r.stderr.split('\n');
    // Each entry it could not use is named; the good one is used.
    assert.deepEqual(
      [skipped1, skipped2, skipped3],
      [
        "Skipped entry 1 of 'postgres' in VCAP_SERVICES: it is not an object.",
        "Skipped entry 2 of 'postgres' in VCAP_SERVICES: it is not an object.",
        "Skipped entry 1 of 'broken' in VCAP_SERVICES: the credentials of 'half' are not an object.",
      ],
    );
    assert.match(failure ?? '', /^The service at 127\.0\.0\.1:1 cannot be reached from db-app\/0: /);
  });

  it('a name that is one binding’s name and another’s instance name is an error naming both, nothing chosen', async () => {
    const { world } = foundation;
    const before = world.vcapServices.bind(world);
    foundation.world.vcapServices = async () => ({
      postgres: [
        { name: 'db', instance_name: 'pg-a', label: 'postgres', credentials: { uri: 'postgres://u:p@127.0.0.1:1/a' } },
        { name: 'main', instance_name: 'db', label: 'postgres', credentials: { uri: 'postgres://u:p@127.0.0.1:1/b' } },
      ],
    });
    try {
      const r = await runCli(developer, ['connect-to-service', 'db-app', 'db', '--no-client']);
      assert.equal(r.code, 1);
      assert.equal(
        r.stderr,
        "'db' names more than one service bound to app 'db-app': service instance 'pg-a', bound as 'db'; service instance 'db', bound as 'main'. Give a name only one of them has.\n",
      );
    } finally {
      foundation.world.vcapServices = before;
    }
  });
});
