// connect-to-service with several services end to end: the built CLI → the foundation's SSH
// proxy → an app instance's sshd → real PostgreSQL and Redis, both in one run of a script
// that prints what it was given and talks to each with its real client.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cli, loggedIn, onPath } from '../helpers/cli.js';
import { type RunningFoundation, startFoundationProcess } from '../helpers/foundation.js';
import { roundTrip } from '../helpers/net.js';

const hasRedisCli = onPath('redis-cli');

/** Prints what it got (VCAP_SERVICES' labels, which variables are set) and queries both services. */
const SCRIPT = [
  `node -e 'console.log("labels: " + Object.keys(JSON.parse(process.env.VCAP_SERVICES)).sort().join(" "))'`,
  'echo "DATABASE_URL: ${DATABASE_URL-unset}"',
  'echo "ports: $DEMO_PG_PGPORT $(node -e \'console.log(new URL(process.env.DEMO_REDIS_REDIS_URL).port)\')"',
  "psql -tAc 'select 40 + 2'",
  'redis-cli --no-auth-warning -u "$REDIS_URL" PING',
].join('\n');

describe('connect-to-service with several real services', () => {
  let foundation: RunningFoundation;
  let developer: string;

  before(async () => {
    foundation = await startFoundationProcess();
    developer = await loggedIn(foundation.url);
  });
  after(() => foundation.stop());

  it('postgres and redis in one run: one script reaches both, DATABASE_URL only prefixed, every tunnel gone after', { skip: !hasRedisCli }, async () => {
    const r = await cli(developer, ['connect-to-service', 'db-app', 'demo-pg', 'demo-redis', '--', 'sh', '-c', SCRIPT]);
    assert.equal(r.code, 0, r.stderr);
    const [labels, databaseUrl, ports, answer, pong, ...more] = r.stdout.trimEnd().split('\n');
    assert.deepEqual({ labels, databaseUrl, answer, pong, more }, { labels: 'labels: aws-rds p.redis', databaseUrl: 'DATABASE_URL: unset', answer: '42', pong: 'PONG', more: [] });
    const [pgPort, redisPort] = /^ports: (\d+) (\d+)$/.exec(ports ?? '')?.slice(1) ?? [];
    assert.ok(pgPort && redisPort && pgPort !== redisPort, ports);
    for (const port of [pgPort, redisPort]) await assert.rejects(roundTrip(Number(port), Buffer.from('x')), /ECONNREFUSED/, 'the tunnels end with the script');
  });

  it('--credentials key: a key for each service, labelled as in VCAP_SERVICES, both deleted when the script ends', { skip: !hasRedisCli }, async () => {
    const script = [SCRIPT.split('\n')[0], 'psql -tAc \'select 1\'; redis-cli --no-auth-warning -u "$REDIS_URL" PING'].join('\n');
    const r = await cli(developer, ['connect-to-service', 'db-app', 'demo-pg', 'demo-redis', '--credentials', 'key', '--', 'sh', '-c', script]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'labels: aws-rds p.redis\n1\nPONG\n');
    assert.deepEqual(await foundation.control('GET', '/foundation/service-keys'), [], 'both keys deleted');
  });

  it('several services and no program: a usage error, nothing made', async () => {
    const r = await cli(developer, ['connect-to-service', 'db-app', 'demo-pg', 'demo-redis', '--', '-c', 'select 1']);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr.split('\n')[0],
      'Incorrect Usage: a native client takes one service: with several (demo-pg, demo-redis), give a program after -- (-- COMMAND ARGS...) or --no-client',
    );
  });
});
