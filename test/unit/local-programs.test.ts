// How the CLI starts local programs: the database clients of connect-to-service and the system
// ssh of `ssh --ssh-client openssh`, with their command lines, environments and files, and no
// secret on a command line. All in-process: the foundation with its SSH proxy and the built-in
// backend (no sshd), a TCP echo server standing in for each service, and the programs played
// by spawn stubs (none of them need be installed). The real clients against real databases are
// in test/e2e/connect.test.ts, the real ssh in test/e2e/ssh.test.ts.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import tls from 'node:tls';
import { createCertificateAuthority, issueServerCertificate, type ServerIdentity } from '../../src/net/run-ca.js';
import { type Foundation, startFoundation } from '../foundation/server.js';
import type { App } from '../foundation/state.js';
import { answersFor, FakeCf } from '../helpers/fake-cf.js';
import { echoServer, roundTrip } from '../helpers/net.js';
import { loggedIn, runCli, startCli, TestSignals } from '../helpers/run-cli.js';
import { type SpawnCall, SpawnStubs } from '../helpers/spawn-stubs.js';

// {dir} was once a template for the temp folder: credential data must reach the client as it is.
const PG_PASSWORD = 'pg-secret-{dir}-4f1c';
// Quotes and a backslash, which the option file must escape.
const MYSQL_PASSWORD = 'my"sq\\l-{dir}-secret';
const REDIS_PASSWORD = 'redis-secret-9b2e';

/** No secret anywhere on the command line the program got. */
function assertNoSecretInArgs(call: SpawnCall, ...secrets: string[]): void {
  for (const secret of secrets) assert.ok(!call.args.some((arg) => arg.includes(secret)), `a secret on the ${call.program} command line: ${call.args.join(' ')}`);
}

/** Resolves once `condition` holds, looking again every few milliseconds. */
async function waitUntil(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** Something goes through the tunnel to the service (an echo server) and back. */
async function assertTunnel(host: string | undefined, port: string | undefined): Promise<void> {
  assert.equal(host, '127.0.0.1');
  assert.match(port ?? '', /^\d+$/);
  assert.equal((await roundTrip(Number(port), Buffer.from('through the tunnel'))).toString(), 'through the tunnel');
}

/** A TLS echo server on 127.0.0.1 showing `identity`'s certificate: a service that speaks TLS from the first byte. */
async function tlsEchoServer(identity: ServerIdentity): Promise<tls.Server> {
  const server = tls.createServer({ cert: identity.certificate, key: identity.key }, (socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/** One round trip through a TLS bridge's local end, verified against `ca` (what the client was given). */
function tlsRoundTrip(port: string | undefined, ca: string, payload: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ port: Number(port), host: '127.0.0.1', ca }, () => socket.write(payload));
    let received = '';
    socket.on('data', (d) => {
      received += d;
      if (received.length < payload.length) return;
      resolve(received);
      socket.destroy();
    });
    socket.once('error', reject);
    socket.once('close', () => reject(new Error(`closed after '${received}'`)));
  });
}

const SERVICE_CA = createCertificateAuthority('test service CA');
const OTHER_CA = createCertificateAuthority('some other CA');

describe('local programs', () => {
  let foundation: Foundation;
  let service: Awaited<ReturnType<typeof echoServer>>;
  let tlsServices: tls.Server[];
  let developer: string;
  let stubs: SpawnStubs;

  before(async () => {
    foundation = await startFoundation({ ssh: true, sshBackend: 'builtin', databases: false });
    foundation.settings.brokerDelayMs = 0;
    service = await echoServer();
    const { world } = foundation;
    const space = world.spaces.find((s) => s.name === 'demo-space');
    assert.ok(space);
    const app: App = world.addApp(space, 'tools-app');
    const port = service.port;
    // Credentials in the shapes of services.ts (aws-rds, Tanzu MySQL, Tanzu Redis), all pointing at the echo server.
    const services = [
      {
        name: 'stub-pg',
        label: 'aws-rds',
        plan: 'micro-psql',
        tags: ['database', 'RDS'],
        credentials: {
          db_name: 'app_db',
          host: '127.0.0.1',
          name: 'app_db',
          password: PG_PASSWORD,
          port: String(port),
          uri: `postgres://app_user:${encodeURIComponent(PG_PASSWORD)}@127.0.0.1:${port}/app_db`,
          username: 'app_user',
        },
      },
      {
        name: 'stub-mysql',
        label: 'p.mysql',
        plan: 'db-small',
        tags: ['mysql'],
        credentials: {
          hostname: '127.0.0.1',
          name: 'shop',
          password: MYSQL_PASSWORD,
          port,
          uri: `mysql://shop_user:${encodeURIComponent(MYSQL_PASSWORD)}@127.0.0.1:${port}/shop?reconnect=true`,
          username: 'shop_user',
        },
      },
      { name: 'stub-redis', label: 'p.redis', plan: 'cache-small', tags: ['redis'], credentials: { uri: `redis://:${REDIS_PASSWORD}@127.0.0.1:${port}` } },
    ];
    for (const s of services) {
      const instance = world.addServiceInstance(space, {
        name: s.name,
        offering: { guid: `${s.label}-offering`, label: s.label, description: s.label },
        plan: { guid: `${s.name}-plan`, name: s.plan },
        tags: s.tags,
        credentials: async () => s.credentials,
      });
      world.addBinding(instance, { type: 'app', app }, 'admin');
    }
    // Redis over TLS: its certificate for 127.0.0.1 from SERVICE_CA, and one that names another host.
    tlsServices = [await tlsEchoServer(issueServerCertificate(SERVICE_CA, ['127.0.0.1'])), await tlsEchoServer(issueServerCertificate(SERVICE_CA, ['other.example']))];
    const [right, wrongName] = tlsServices.map((server) => (server.address() as AddressInfo).port);
    const redisTls = (port: number | undefined, ca: string) => ({ host: '127.0.0.1', port, password: REDIS_PASSWORD, tls: { ca } });
    for (const [name, label, credentials] of [
      ['stub-redis-tls', 'p.redis', redisTls(right, SERVICE_CA.certificate)],
      ['stub-redis-wrong-ca', 'p.redis', redisTls(right, OTHER_CA.certificate)],
      ['stub-redis-wrong-name', 'p.redis', redisTls(wrongName, SERVICE_CA.certificate)],
      ['stub-tls-untyped', 'user-provided', redisTls(right, SERVICE_CA.certificate)],
    ] as const) {
      const instance = world.addServiceInstance(space, {
        name,
        offering: { guid: `${label}-offering`, label, description: label },
        plan: { guid: `${name}-plan`, name: 'cache-small-tls' },
        tags: [],
        credentials: async () => credentials,
      });
      world.addBinding(instance, { type: 'app', app }, 'admin');
    }
    developer = await loggedIn(foundation.url);
  });
  after(async () => {
    for (const server of tlsServices) server.close();
    service.close();
    await foundation.stop();
  });
  beforeEach(() => {
    stubs = new SpawnStubs();
  });
  afterEach(() => stubs.verify());

  it('psql: the tunnel and the credentials in PG* variables, the password never in argv; its exit status is ours', async () => {
    let tunnelPort: string | undefined;
    stubs.register('psql', async (call) => {
      assert.deepEqual(call.args, ['-tAc', 'select 1']);
      const { PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE, PGHOSTADDR, PGSSLROOTCERT } = call.env;
      assert.deepEqual(
        { PGHOST, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE, PGHOSTADDR, PGSSLROOTCERT },
        { PGHOST: '127.0.0.1', PGUSER: 'app_user', PGPASSWORD: PG_PASSWORD, PGDATABASE: 'app_db', PGSSLMODE: 'prefer', PGHOSTADDR: undefined, PGSSLROOTCERT: undefined },
      );
      assertNoSecretInArgs(call, PG_PASSWORD);
      assert.equal(call.env.HOME, developer, 'the rest of the environment is ours');
      assert.equal(call.options.stdio, 'inherit', 'the terminal is handed over');
      await assertTunnel(PGHOST, PGPORT);
      tunnelPort = PGPORT;
      call.stdout.write(' 1\n');
      return 3;
    });
    const r = await runCli(developer, ['connect-to-service', 'tools-app', 'stub-pg', '--', '-tAc', 'select 1'], { stubs });
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stdout, ' 1\n');
    assert.ok(!(r.stdout + r.stderr).includes(PG_PASSWORD));
    // The tunnel ends with the program.
    await assert.rejects(roundTrip(Number(tunnelPort), Buffer.from('x')), /ECONNREFUSED/);
  });

  it('psql: SIGTERM is passed on to the program and cleaning up waits for its exit; SIGINT is left to the terminal', async () => {
    const signals = new TestSignals();
    stubs.register('psql', async (call) => {
      // One run listens: its lifecycle. Ctrl-C is psql's own (it cancels a query); SIGTERM ends the run.
      assert.equal(signals.send('SIGINT'), 1);
      assert.deepEqual(call.signals, [], 'Ctrl-C reaches psql from the terminal, not from us');
      assert.equal(signals.send('SIGTERM'), 1);
      assert.equal(await call.signalled(), 'SIGTERM');
      return 143;
    });
    const r = await runCli(developer, ['connect-to-service', 'tools-app', 'stub-pg'], { stubs, signals });
    assert.equal(r.code, 143, r.stderr);
    assert.equal(r.stdout + r.stderr, '', 'a stop says nothing more');
    assert.equal(signals.subscribed, 0, 'no stop-signal handler is left behind');
  });

  it('under cf, Ctrl-C ends the run: cf itself has died of it, so psql is ended and everything cleaned up', async () => {
    const signals = new TestSignals();
    stubs.register('psql', async (call) => {
      assert.equal(signals.send('SIGINT'), 1);
      assert.equal(await call.signalled(), 'SIGINT');
      return 130;
    });
    const cf = new FakeCf(await answersFor(foundation));
    try {
      const r = await runCli(developer, [String(await cf.listen()), 'connect-to-service', 'tools-app', 'stub-pg'], { stubs, signals });
      assert.equal(r.code, 130, r.stderr);
      assert.equal(signals.subscribed, 0);
    } finally {
      await cf.close();
    }
  });

  it('mariadb: --defaults-extra-file first, a 0600 file in a 0700 folder with the password, removed once it has connected', async () => {
    let optionFile = '';
    stubs.register('mariadb', async (call) => {
      const [first, ...rest] = call.args;
      assert.match(first ?? '', /^--defaults-extra-file=\/.+\/my\.cnf$/);
      assert.deepEqual(rest, ['-N', '-e', 'select 6 * 7']);
      optionFile = (first ?? '').slice('--defaults-extra-file='.length);
      assert.equal(statSync(optionFile).mode & 0o777, 0o600);
      assert.equal(statSync(path.dirname(optionFile)).mode & 0o777, 0o700);
      const lines = readFileSync(optionFile, 'utf8').split('\n');
      const port = /^port=(\d+)$/m.exec(lines.join('\n'))?.[1];
      assert.deepEqual(lines, ['[client]', 'host=127.0.0.1', `port=${port}`, 'protocol=TCP', 'user="shop_user"', 'password="my\\"sq\\\\l-{dir}-secret"', 'database="shop"', '']);
      assertNoSecretInArgs(call, MYSQL_PASSWORD);
      assert.ok(!Object.values(call.env).includes(MYSQL_PASSWORD), 'no password in the environment either');
      await assertTunnel('127.0.0.1', port);
      // Connected: it has read its option file, which goes at once; its folder stays while it runs.
      await waitUntil(() => !existsSync(optionFile));
      assert.ok(existsSync(path.dirname(optionFile)));
      return 0;
    });
    const r = await runCli(developer, ['connect-to-service', 'tools-app', 'stub-mysql', '--', '-N', '-e', 'select 6 * 7'], { stubs });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(optionFile);
    assert.equal(existsSync(path.dirname(optionFile)), false, 'the folder with the option file is gone');
  });

  it('redis-cli by name: host and port in argv, the password in REDISCLI_AUTH only', async () => {
    stubs.register('redis-cli', async (call) => {
      const port = call.args[3];
      assert.deepEqual(call.args, ['-h', '127.0.0.1', '-p', port, 'PING']);
      assert.equal(call.env.REDISCLI_AUTH, REDIS_PASSWORD);
      assertNoSecretInArgs(call, REDIS_PASSWORD);
      await assertTunnel(call.args[1], port);
      call.stdout.write('PONG\n');
      return 0;
    });
    const r = await runCli(developer, ['connect-to-service', 'tools-app', 'stub-redis', '--', 'redis-cli', 'PING'], { stubs });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'PONG\n');
  });

  it('after --, a first word that is no program is refused before anything is made, naming the client to give it to', async () => {
    foundation.ssh!.proxy.log.length = 0;
    foundation.requests.length = 0;
    const r = await runCli(developer, ['connect-to-service', 'tools-app', 'stub-redis', '--', 'PING'], { stubs });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, "No program 'PING'; to give arguments to the client start them with the client's name: -- redis-cli PING\n");
    const pg = await runCli(developer, ['connect-to-service', 'tools-app', 'stub-pg', '--', 'select', '1'], { stubs });
    assert.equal(pg.stderr, "No program 'select'; to give arguments to the client start them with the client's name: -- psql select ...\n");
    assert.deepEqual(stubs.calls, [], 'nothing started');
    // The SSH connection was under way meanwhile, but no one logged in, and UAA was asked for no code.
    assert.deepEqual(foundation.ssh!.proxy.log, []);
    assert.deepEqual(
      foundation.requests.filter((request) => request.path.startsWith('/uaa/')),
      [],
    );
  });

  it('-- psql and -- mariadb-dump by name get the tunnel as the default client does; any other program its environment', async () => {
    stubs.register('psql', async (call) => {
      assert.deepEqual(call.args, ['-c', 'select 1']);
      assert.equal(call.env.PGPASSWORD, PG_PASSWORD);
      await assertTunnel(call.env.PGHOST, call.env.PGPORT);
    });
    stubs.register('mariadb-dump', async (call) => {
      const [defaults, ...rest] = call.args;
      assert.match(defaults ?? '', /^--defaults-extra-file=\/.+\/my\.cnf$/);
      assert.deepEqual(rest, ['shop', '--no-data']);
      assert.doesNotMatch(readFileSync(defaults?.slice('--defaults-extra-file='.length) ?? '', 'utf8'), /database=/);
    });
    stubs.register('pg_dump', (call) => {
      assert.deepEqual(call.args, ['--schema-only']);
      assert.equal(call.env.PGPASSWORD, PG_PASSWORD);
      assert.match(call.env.DATABASE_URL ?? '', /^postgres:\/\/app_user:pg-secret-%7Bdir%7D-4f1c@127\.0\.0\.1:\d+\/app_db$/);
    });
    for (const args of [
      ['stub-pg', '--', 'psql', '-c', 'select 1'],
      ['stub-mysql', '--', 'mariadb-dump', '--no-data'],
      ['stub-pg', '--', 'pg_dump', '--schema-only'],
    ]) {
      const r = await runCli(developer, ['connect-to-service', 'tools-app', ...args], { stubs });
      assert.equal(r.code, 0, r.stderr);
    }
  });

  it('--bind beyond loopback only with --allow-remote, and then a warning on every run', async () => {
    const refused = await runCli(developer, ['connect-to-service', 'tools-app', 'stub-pg', '--bind', '0.0.0.0'], { stubs });
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /^Incorrect Usage: --bind 0\.0\.0\.0 makes the tunnel, and the service behind it, reachable from the network: give --allow-remote too if that is meant$/m,
    );
    stubs.register('psql');
    const allowed = await runCli(developer, ['connect-to-service', 'tools-app', 'stub-pg', '--bind', '0.0.0.0', '--allow-remote'], { stubs });
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.match(allowed.stderr, /^Warning: the tunnel on 0\.0\.0\.0:\d+ is reachable from the network \(--allow-remote\)\.$/m);
  });

  it('--no-client with a service key: the key lives while the tunnel does and is deleted on Ctrl-C', async () => {
    const keys = () => foundation.world.bindings.filter((b) => b.type === 'key');
    const run = startCli(developer, ['connect-to-service', 'tools-app', 'stub-pg', '--no-client', '--credentials', 'key'], { stubs });
    await run.waitFor('stderr', /Press Ctrl-C to close the tunnel\./);
    assert.equal(keys().length, 1);
    assert.match(keys()[0]?.name ?? '', /^cf-ssh-tools-developer-[0-9a-f]{8}$/);
    const port = /^\s+port:\s+(\d+)$/m.exec(run.stdout())?.[1];
    await assertTunnel('127.0.0.1', port);
    assert.match(run.stdout(), /password:\s+\*{8} \(--show-password shows it\)/);
    assert.equal(run.signals.send('SIGINT'), 1);
    const r = await run.result;
    assert.equal(r.code, 130, 'stopped by Ctrl-C, as cf ssh -N');
    assert.deepEqual(keys(), [], 'the key went with the tunnel');
    assert.ok(!(r.stdout + r.stderr).includes(PG_PASSWORD));
  });

  it('a service that asks for TLS: redis-cli verifies the run CA, the bridge the service’s real name with its CA', async () => {
    stubs.register('redis-cli', async (call) => {
      const [, host, , port, ...rest] = call.args;
      assert.deepEqual(call.args, ['-h', '127.0.0.1', '-p', port, '--tls', '--cacert', rest[2], 'PING']);
      const caFile = rest[2] ?? '';
      assert.equal(statSync(caFile).mode & 0o777, 0o600);
      const runCa = readFileSync(caFile, 'utf8');
      assert.notEqual(runCa, SERVICE_CA.certificate, "the run's CA, not the service's");
      assert.equal(host, '127.0.0.1');
      assert.equal(await tlsRoundTrip(port, runCa, 'through both TLS legs'), 'through both TLS legs');
      // A client that trusts only the service's CA cannot talk to the local end.
      await assert.rejects(tlsRoundTrip(port, SERVICE_CA.certificate, 'x'), /self-signed certificate in certificate chain|unable to verify the first certificate/);
      call.stdout.write('PONG\n');
      return 0;
    });
    const r = await runCli(developer, ['connect-to-service', 'tools-app', 'stub-redis-tls', '--', 'redis-cli', 'PING'], { stubs });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'PONG\n');
  });

  for (const [service, reason] of [
    ['stub-redis-wrong-ca', "The certificate of 127.0.0.1 is not signed by the service's CA: unable to verify the first certificate."],
    [
      'stub-redis-wrong-name',
      "The certificate of 127.0.0.1 does not match its name: Hostname/IP does not match certificate's altnames: IP: 127.0.0.1 is not in the cert's list: .",
    ],
  ] as const) {
    // No stub for redis-cli: a start would fail the test.
    it(`${service}: refused with one line before the client starts, never forwarded in plain`, async () => {
      const r = await runCli(developer, ['connect-to-service', 'tools-app', service, '--', 'redis-cli', 'PING'], { stubs });
      assert.equal(r.code, 1);
      assert.equal(r.stderr, `${reason} No connection to '${service}' is made without verified TLS.\n`);
    });
  }

  it('a service that asks for TLS and whose type nothing tells: refused, asking for --type', async () => {
    const r = await runCli(developer, ['connect-to-service', 'tools-app', 'stub-tls-untyped', '--no-client'], { stubs });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, "'stub-tls-untyped' asks for TLS, which its tunnel carries only knowing the service's type: give it with --type (postgres, mysql, redis, mongodb).\n");
  });

  it('--no-client through a TLS bridge: the run CA file while the tunnel is held, gone after', async () => {
    const run = startCli(developer, ['connect-to-service', 'tools-app', 'stub-redis-tls', '--no-client'], { stubs });
    await run.waitFor('stderr', /Press Ctrl-C to close the tunnel\./);
    const caFile = /^\s+ca file:\s+(\S+) \(verify 127\.0\.0\.1 against it\)$/m.exec(run.stdout())?.[1] ?? '';
    assert.match(run.stdout(), /^ {2}tls: {7}required; the link to the service is verified against its real name, 127\.0\.0\.1, with the service's own CA$/m);
    assert.equal(statSync(path.dirname(caFile)).mode & 0o777, 0o700);
    const port = /^\s+port:\s+(\d+)$/m.exec(run.stdout())?.[1];
    assert.equal(await tlsRoundTrip(port, readFileSync(caFile, 'utf8'), 'held'), 'held');
    assert.equal(run.signals.send('SIGINT'), 1);
    assert.equal((await run.result).code, 130);
    assert.equal(existsSync(path.dirname(caFile)), false, 'the folder goes with the tunnel');
  });

  it('ssh -N without -L says no tunnel is open, and Ctrl-C ends it with 130', async () => {
    const run = startCli(developer, ['ssh', 'demo-app', '-N']);
    await run.waitFor('stderr', /Press Ctrl-C to disconnect\./);
    assert.equal(run.stderr(), 'Connected to demo-app/0, with no command and no tunnels (-N without -L). Press Ctrl-C to disconnect.\n');
    assert.equal(run.signals.send('SIGINT'), 1);
    const r = await run.result;
    assert.equal(r.code, 130);
    assert.equal(r.stdout, '', 'a stop prints no FAILED');
  });

  it('ssh --ssh-client openssh: port, options, cf:GUID/INDEX, the host key pinned, and the code through SSH_ASKPASS only', async () => {
    const proxy = foundation.ssh?.proxy;
    assert.ok(proxy);
    const [host, proxyPort] = proxy.address.split(':');
    const app = foundation.world.apps.find((a) => a.name === 'demo-app');
    assert.ok(app);
    stubs.register('ssh', async (call) => {
      const dir = path.dirname(call.env.SSH_ASKPASS ?? '');
      assert.deepEqual(call.args, [
        '-p',
        proxyPort,
        // The user's own first: for ssh the first value of an option wins.
        '-o',
        'ConnectTimeout=5',
        '-q',
        '-o',
        `UserKnownHostsFile=${dir}/known_hosts`,
        '-o',
        'GlobalKnownHostsFile=/dev/null',
        '-o',
        'StrictHostKeyChecking=yes',
        '-o',
        'PubkeyAuthentication=no',
        '-o',
        'PreferredAuthentications=password,keyboard-interactive',
        '-o',
        'NumberOfPasswordPrompts=1',
        '-o',
        'ConnectTimeout=6',
        '-o',
        'ServerAliveInterval=30',
        '-o',
        'ServerAliveCountMax=3',
        '-T',
        `cf:${app.guid}/1@${host}`,
        'echo hi',
      ]);
      assert.equal(call.env.SSH_ASKPASS_REQUIRE, 'force');
      assert.equal(statSync(call.env.SSH_ASKPASS ?? '').mode & 0o777, 0o700);
      // The known_hosts line holds the key whose fingerprint the API publishes.
      const [name, type, key] = readFileSync(`${dir}/known_hosts`, 'utf8').trim().split(' ');
      assert.equal(name, `[${host}]:${proxyPort}`);
      assert.equal(type, 'ssh-ed25519');
      const fingerprint = createHash('sha256')
        .update(Buffer.from(key ?? '', 'base64'))
        .digest('base64')
        .replace(/=+$/, '');
      assert.equal(fingerprint, proxy.fingerprint('sha256-base64'));
      // What ssh would ask SSH_ASKPASS for: a one-time code, redeemable once, and in no argument.
      const code = execFileSync(call.env.SSH_ASKPASS ?? '', { env: call.env, encoding: 'utf8' }).trim();
      assert.match(code, /^[\w-]{6,}$/);
      assertNoSecretInArgs(call, code);
      const redeem = await fetch(`${foundation.url}/uaa/oauth/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: `Basic ${Buffer.from('ssh-proxy:ssh-proxy-secret').toString('base64')}` },
        body: new URLSearchParams({ grant_type: 'authorization_code', code }).toString(),
      });
      assert.equal(redeem.status, 200);
      return 7;
    });
    const r = await runCli(developer, ['ssh', 'demo-app', '-i', '1', '--ssh-client', 'openssh', '-c', 'echo hi', '--', '-o', 'ConnectTimeout=5', '-q'], { stubs });
    assert.equal(r.code, 7, r.stderr);
  });

  it('a program nobody registered fails the run, and the stubs say which', async () => {
    const own = new SpawnStubs().register('psql');
    const r = await runCli(developer, ['connect-to-service', 'tools-app', 'stub-redis', '--', '/bin/true', '--flag'], { stubs: own });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /spawn \/bin\/true ENOENT \(no stub registered for it\)/);
    assert.throws(
      () => own.verify(),
      (err: Error) => /started without a stub: \/bin\/true --flag/.test(err.message) && /registered but never started: psql/.test(err.message),
    );
  });
});
