// connect-to-service with several services: one SSH connection, a tunnel for each, and the
// program after -- gets them all. In-process against the foundation (built-in SSH backend),
// each service played by a TCP server that answers with its own name, so that a tunnel shows
// where it leads; the program is a spawn stub. The real databases are in test/e2e/multi-service.test.ts.
import assert from 'node:assert/strict';
import net, { type AddressInfo } from 'node:net';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { type Foundation, startFoundation } from '../foundation/server.js';
import { roundTrip } from '../helpers/net.js';
import { loggedIn, runCli, startCli } from '../helpers/run-cli.js';
import { SpawnStubs } from '../helpers/spawn-stubs.js';

const ORDERS_PASSWORD = 'orders-secret-51ab';
const REPORTS_PASSWORD = 'reports-secret-7c0d';
const CACHE_PASSWORD = 'cache-secret-e93f';

/** A service that answers every connection with its name. */
async function namedServer(name: string): Promise<net.Server> {
  const server = net.createServer((socket) => socket.end(name));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/** What answers at a tunnel's local end: the name of the service it leads to. */
async function answerAt(port: string | number | undefined): Promise<string> {
  return (await roundTrip(Number(port), Buffer.from('who?'))).toString();
}

describe('connect-to-service with several services', () => {
  let foundation: Foundation;
  let servers: net.Server[];
  let developer: string;
  let stubs: SpawnStubs;

  before(async () => {
    foundation = await startFoundation({ ssh: true, sshBackend: 'builtin', databases: false });
    foundation.settings.brokerDelayMs = 0;
    const { world } = foundation;
    const space = world.spaces.find((s) => s.name === 'demo-space');
    assert.ok(space);
    const app = world.addApp(space, 'multi-app');
    servers = await Promise.all(['orders', 'reports', 'cache'].map(namedServer));
    const [orders, reports, cache] = servers.map((server) => (server.address() as AddressInfo).port);
    const postgres = (database: string, password: string, port: number | undefined) => ({
      host: '127.0.0.1',
      port,
      name: database,
      username: `${database}_user`,
      password,
      uri: `postgres://${database}_user:${password}@127.0.0.1:${port}/${database}`,
    });
    for (const [name, label, tags, credentials] of [
      ['orders-db', 'aws-rds', ['postgres'], postgres('orders', ORDERS_PASSWORD, orders)],
      ['reports.db', 'aws-rds', ['postgres'], postgres('reports', REPORTS_PASSWORD, reports)],
      ['cache', 'p.redis', ['redis'], { uri: `redis://:${CACHE_PASSWORD}@127.0.0.1:${cache}` }],
      ['orders_db', 'aws-rds', ['postgres'], postgres('orders', ORDERS_PASSWORD, orders)],
    ] as const) {
      const instance = world.addServiceInstance(space, {
        name,
        offering: { guid: `${label}-offering`, label, description: label },
        plan: { guid: `${name}-plan`, name: 'small' },
        tags: [...tags],
        credentials: async () => credentials,
      });
      world.addBinding(instance, { type: 'app', app }, 'admin');
    }
    developer = await loggedIn(foundation.url);
  });
  after(async () => {
    for (const server of servers) server.close();
    await foundation.stop();
  });
  beforeEach(() => {
    stubs = new SpawnStubs();
  });
  afterEach(() => stubs.verify());

  it('postgres and redis: VCAP_SERVICES holds both through their tunnels, each type its own variables, DATABASE_URL only prefixed', async () => {
    let ports: string[] = [];
    stubs.register('report-tool', async (call) => {
      assert.deepEqual(call.args, ['--daily']);
      const { env } = call;
      const vcap = JSON.parse(env.VCAP_SERVICES ?? '{}') as Record<string, { name: string; credentials: Record<string, unknown> }[]>;
      assert.deepEqual(Object.keys(vcap).sort(), ['aws-rds', 'p.redis']);
      const pg = vcap['aws-rds']?.[0]?.credentials;
      const redisUri = String(vcap['p.redis']?.[0]?.credentials.uri);
      assert.equal(pg?.host, '127.0.0.1');
      assert.equal(await answerAt(pg?.port as number), 'orders');
      assert.equal(await answerAt(new URL(redisUri).port), 'cache');
      // One postgres service: PG* as the single-service run sets them; one redis: REDIS_URL and REDISCLI_AUTH.
      assert.equal(env.PGPORT, String(pg?.port));
      assert.equal(env.PGPASSWORD, ORDERS_PASSWORD);
      assert.equal(env.REDIS_URL, `redis://default:${CACHE_PASSWORD}@127.0.0.1:${new URL(redisUri).port}`);
      assert.equal(env.REDISCLI_AUTH, CACHE_PASSWORD);
      // Both set DATABASE_URL: only the prefixed names are there.
      assert.equal(env.DATABASE_URL, undefined);
      assert.equal(env.ORDERS_DB_DATABASE_URL, `postgres://orders_user:${ORDERS_PASSWORD}@127.0.0.1:${env.PGPORT}/orders`);
      assert.equal(env.CACHE_DATABASE_URL, env.REDIS_URL);
      assert.equal(env.ORDERS_DB_PGPORT, env.PGPORT);
      assert.equal(env.CACHE_REDIS_URL, env.REDIS_URL);
      assert.ok(!call.args.some((arg) => arg.includes('secret')), 'no secret on the command line');
      ports = [String(pg?.port), new URL(redisUri).port];
      return 4;
    });
    const r = await runCli(developer, ['connect-to-service', 'multi-app', 'orders-db', 'cache', '--', 'report-tool', '--daily'], { stubs });
    assert.equal(r.code, 4, r.stderr);
    assert.equal(r.stdout, '');
    assert.ok(!r.stderr.includes('secret'), r.stderr);
    assert.equal(ports.length, 2);
    for (const port of ports) await assert.rejects(answerAt(port), /ECONNREFUSED/, 'every tunnel ends with the program');
  });

  it('two postgres services: each its own tunnel, the PG* names only prefixed, each with its own client files', async () => {
    stubs.register('migrate', async ({ env }) => {
      assert.equal(env.PGHOST, undefined, 'two services set PGHOST: neither has the name');
      assert.equal(env.DATABASE_URL, undefined);
      assert.equal(await answerAt(env.ORDERS_DB_PGPORT), 'orders');
      assert.equal(await answerAt(env.REPORTS_DB_PGPORT), 'reports');
      assert.equal(env.ORDERS_DB_PGPASSWORD, ORDERS_PASSWORD);
      assert.equal(env.REPORTS_DB_PGPASSWORD, REPORTS_PASSWORD);
      const vcap = JSON.parse(env.VCAP_SERVICES ?? '{}') as Record<string, { name: string }[]>;
      assert.deepEqual(
        vcap['aws-rds']?.map((service) => service.name),
        ['orders-db', 'reports.db'],
      );
      return 0;
    });
    const r = await runCli(developer, ['connect-to-service', 'multi-app', 'orders-db', 'reports.db', '--', 'migrate'], { stubs });
    assert.equal(r.code, 0, r.stderr);
  });

  it('--no-client with service keys: each tunnel printed, one key per service, every key deleted on Ctrl-C', async () => {
    const keys = () => foundation.world.bindings.filter((b) => b.type === 'key');
    const run = startCli(developer, ['connect-to-service', 'multi-app', 'orders-db', 'cache', '--no-client', '--credentials', 'key'], { stubs });
    await run.waitFor('stderr', /Press Ctrl-C to close the tunnels\./);
    assert.equal(keys().length, 2);
    const out = run.stdout();
    assert.match(out, /^Tunnel to orders-db \(postgres\) is open:$/m);
    assert.match(out, /^Tunnel to cache \(redis\) is open:$/m);
    const ports = [...out.matchAll(/^\s+port:\s+(\d+)$/gm)].map((match) => match[1]);
    assert.deepEqual(await Promise.all(ports.map(answerAt)), ['orders', 'cache']);
    assert.equal(run.signals.send('SIGINT'), 1);
    const r = await run.result;
    assert.equal(r.code, 130);
    assert.deepEqual(keys(), [], 'the keys went with the tunnels');
    assert.ok(!(r.stdout + r.stderr).includes('secret'));
    for (const port of ports) await assert.rejects(answerAt(port), /ECONNREFUSED/);
  });

  for (const [args, message] of [
    [['orders-db', 'cache'], 'a native client takes one service: with several (orders-db, cache), give a program after -- (-- COMMAND ARGS...) or --no-client'],
    [
      ['orders-db', 'cache', '--', '-c', 'select 1'],
      'a native client takes one service: with several (orders-db, cache), give a program after -- (-- COMMAND ARGS...) or --no-client',
    ],
    [['orders-db', 'cache', '--no-client', '--local-port', '6000'], '--local-port takes one service: several each get a free port'],
    [['orders-db', 'cache', '--no-client', '--type', 'redis'], '--type takes one service: with several, each type is detected'],
    [['orders-db', 'orders-db', '--no-client'], "service 'orders-db' is named twice"],
    [['orders-db', 'orders_db', '--no-client'], "services 'orders-db' and 'orders_db' would share the variable prefix ORDERS_DB_: tunnel them in separate runs"],
  ] as const) {
    it(`refused before anything is made: ${args.join(' ')}`, async () => {
      const before = foundation.world.bindings.length;
      const r = await runCli(developer, ['connect-to-service', 'multi-app', ...args], { stubs });
      assert.equal(r.code, 1);
      assert.equal(r.stderr.split('\n')[0], `Incorrect Usage: ${message}`);
      assert.match(r.stdout, /^FAILED\n/, 'the usage follows');
      assert.equal(foundation.world.bindings.length, before);
    });
  }

  it('a service missing among several: refused, no program started', async () => {
    const run = await runCli(developer, ['connect-to-service', 'multi-app', 'orders-db', 'no-such-db', '--', 'migrate'], { stubs });
    assert.equal(run.code, 1);
    assert.equal(run.stderr, "Service instance 'no-such-db' is not bound to app 'multi-app'. It is bound to: orders-db, reports.db, orders_db, cache.\n");
  });
});
