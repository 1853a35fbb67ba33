// The TLS bridge between the real clients (psql, mariadb, redis-cli, each verifying the run CA's
// certificate for 127.0.0.1) and the real servers (the foundation's PostgreSQL, MariaDB and
// Redis, with their test CA): a query goes through, and a wrong CA or a wrong name is refused
// with its one line while the client fails. The service leg here is plain TCP to the server; in
// connect-to-service it is an SSH channel (the unit tests run it over a Duplex that is no socket).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { type DatabaseKind, Databases, type DatabaseServer } from '../foundation/databases.js';
import { createCertificateAuthority, createRunCa } from '../../src/net/run-ca.js';
import { type BridgedProtocol, bridgeTls, checkServiceTls } from '../../src/net/tls-bridge.js';

const runCa = createRunCa();
const otherCa = createCertificateAuthority('some other CA');
const databases = new Databases({ log: () => undefined });
const folder = mkdtempSync(path.join(os.tmpdir(), 'cf-ssh-tools-tls-bridge-'));
const RUN_CA_FILE = path.join(folder, 'run-ca.pem');
writeFileSync(RUN_CA_FILE, runCa.ca);

after(async () => {
  await databases.stop();
  rmSync(folder, { recursive: true, force: true });
});

/** A local program run to its end, never longer than 20 s. */
function run(program: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(program, args, { env: { PATH: process.env.PATH, HOME: folder, ...env }, timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

interface Bridge {
  port: number;
  errors: string[];
}

/** A local listener that bridges each connection to 127.0.0.1:`servicePort`. */
async function startBridge(protocol: BridgedProtocol, servicePort: number, serverName: string, ca: string | undefined): Promise<Bridge> {
  const bridge: Bridge = { port: 0, errors: [] };
  const server = net.createServer((local) => {
    void bridgeTls(local, net.connect(servicePort, '127.0.0.1'), { protocol, serverName, ca, runCa, onError: (message) => bridge.errors.push(message) });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  after(() => server.close());
  bridge.port = (server.address() as AddressInfo).port;
  return bridge;
}

/** The foundation's server of `kind`, or a reason to skip where it is not installed. */
async function serverOf(kind: DatabaseKind): Promise<DatabaseServer | undefined> {
  if (!databases.engine(kind) || databases.engine(kind) === 'PGlite') return undefined;
  return databases.start(kind);
}

const ALTNAMES = 'DNS:localhost';
const wrongName = `The certificate of other.example does not match its name: Hostname/IP does not match certificate's altnames: Host: other.example. is not in the cert's altnames: ${ALTNAMES}.`;
const wrongCa = "The certificate of localhost is not signed by the service's CA: unable to verify the first certificate.";
/** MariaDB and Redis send their CA along with their certificate. */
const wrongCaWithChain = "The certificate of localhost is not signed by the service's CA: its chain ends in a self-signed certificate not trusted here.";

describe('the TLS bridge with PostgreSQL and psql', () => {
  let server: DatabaseServer | undefined;
  before(async () => (server = await serverOf('postgres')));

  const psql = (bridge: Bridge) =>
    run(
      'psql',
      [
        // The bridge is a man in the middle by design: SCRAM's channel binding (on by default
        // over TLS) binds the login to the server's certificate, which the client never sees.
        `host=127.0.0.1 port=${bridge.port} dbname=${server!.database} user=${server!.tlsUser!.username} sslmode=verify-full sslrootcert=${RUN_CA_FILE} channel_binding=disable`,
        '-AtXc',
        'SELECT current_user, ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
      ],
      { PGPASSWORD: server!.tlsUser!.password, PGCONNECT_TIMEOUT: '10' },
    );

  it('a query goes through, as the account the server lets in over TLS only', async (t) => {
    if (!server) return t.skip('PostgreSQL is not installed');
    const bridge = await startBridge('postgres', server.port, 'localhost', server.ca);
    assert.deepEqual(await psql(bridge), { code: 0, stdout: 'demo_tls_user|t\n', stderr: '' });
    assert.deepEqual(bridge.errors, []);
  });

  for (const [what, serverName, ca, reason] of [
    ['a wrong name', 'other.example', undefined, wrongName],
    ['a wrong CA', 'localhost', otherCa.certificate, wrongCa],
  ] as const) {
    it(`${what}: refused with its line, and psql fails`, async (t) => {
      if (!server) return t.skip('PostgreSQL is not installed');
      const bridge = await startBridge('postgres', server.port, serverName, ca ?? server.ca);
      const result = await psql(bridge);
      assert.equal(result.code, 2);
      assert.equal(result.stdout, '');
      assert.match(result.stderr, /server closed the connection unexpectedly/);
      assert.deepEqual(bridge.errors, [reason]);
    });
  }
});

describe('the TLS bridge with MariaDB and mariadb', () => {
  let server: DatabaseServer | undefined;
  before(async () => (server = await serverOf('mysql')));

  const mariadb = (bridge: Bridge) =>
    run(
      'mariadb',
      [
        '--no-defaults',
        '--protocol=TCP',
        '-h127.0.0.1',
        `-P${bridge.port}`,
        `-u${server!.username}`,
        `--ssl-ca=${RUN_CA_FILE}`,
        '--ssl-verify-server-cert',
        '--connect-timeout=10',
        '-NBe',
        "SELECT CURRENT_USER(), VARIABLE_VALUE <> '' FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'Ssl_cipher'",
        server!.database,
      ],
      { MYSQL_PWD: server!.password },
    );

  it('a query goes through, over TLS to the server', async (t) => {
    if (!server) return t.skip('MariaDB is not installed');
    const bridge = await startBridge('mysql', server.port, 'localhost', server.ca);
    assert.deepEqual(await mariadb(bridge), { code: 0, stdout: `${server.username}@%\t1\n`, stderr: '' });
    assert.deepEqual(bridge.errors, []);
  });

  for (const [what, serverName, ca, reason] of [
    ['a wrong name', 'other.example', undefined, wrongName],
    ['a wrong CA', 'localhost', otherCa.certificate, wrongCaWithChain],
  ] as const) {
    it(`${what}: refused with its line, and mariadb fails`, async (t) => {
      if (!server) return t.skip('MariaDB is not installed');
      const bridge = await startBridge('mysql', server.port, serverName, ca ?? server.ca);
      const result = await mariadb(bridge);
      assert.equal(result.code, 1);
      assert.equal(result.stdout, '');
      // It has its greeting and is in its TLS handshake when the bridge gives up (the server's
      // certificate is checked only after the client's SSL request): a reset or an early EOF.
      assert.match(result.stderr, /^ERROR 2026 \(HY000\): TLS\/SSL error: (Connection reset by peer|unexpected eof while reading)/);
      assert.deepEqual(bridge.errors, [reason]);
    });
  }
});

describe('the TLS bridge with Redis and redis-cli', () => {
  let server: DatabaseServer | undefined;
  before(async () => (server = await serverOf('redis')));

  const redisCli = (bridge: Bridge, password: string | undefined) =>
    run('redis-cli', ['--tls', '--cacert', RUN_CA_FILE, '-h', '127.0.0.1', '-p', String(bridge.port), 'PING'], password ? { REDISCLI_AUTH: password } : {});

  it('a command goes through to the TLS port', async (t) => {
    if (!server?.tlsPort) return t.skip('Redis with TLS is not installed');
    const bridge = await startBridge('redis', server.tlsPort, 'localhost', server.ca);
    assert.deepEqual(await redisCli(bridge, server.password), { code: 0, stdout: 'PONG\n', stderr: '' });
    assert.deepEqual(bridge.errors, []);
  });

  for (const [what, serverName, ca, reason] of [
    ['a wrong name', 'other.example', undefined, wrongName],
    ['a wrong CA', 'localhost', otherCa.certificate, wrongCaWithChain],
  ] as const) {
    it(`${what}: refused with its line, and redis-cli fails`, async (t) => {
      if (!server?.tlsPort) return t.skip('Redis with TLS is not installed');
      const bridge = await startBridge('redis', server.tlsPort, serverName, ca ?? server.ca);
      const result = await redisCli(bridge, server.password);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /^Could not connect to Redis at 127\.0\.0\.1:\d+: SSL_connect failed/);
      // redis-cli tries twice.
      assert.deepEqual([...new Set(bridge.errors)], [reason]);
    });
  }

  it('the certificate names only the real host: that name verifies, the address the tunnel reached does not', async (t) => {
    if (!server?.tlsPort) return t.skip('Redis with TLS is not installed');
    const byName = await startBridge('redis', server.tlsPort, 'localhost', server.ca);
    assert.deepEqual(await redisCli(byName, server.password), { code: 0, stdout: 'PONG\n', stderr: '' });
    const byAddress = await startBridge('redis', server.tlsPort, '127.0.0.1', server.ca);
    const result = await redisCli(byAddress, server.password);
    assert.equal(result.code, 1);
    assert.deepEqual(
      [...new Set(byAddress.errors)],
      ["The certificate of 127.0.0.1 does not match its name: Hostname/IP does not match certificate's altnames: IP: 127.0.0.1 is not in the cert's list: ."],
    );
  });
});

describe('checking the service alone, before any client connects', () => {
  const servers = new Map<DatabaseKind, DatabaseServer | undefined>();
  before(async () => {
    for (const kind of ['postgres', 'mysql', 'redis'] as const) servers.set(kind, await serverOf(kind));
  });
  const portOf = (kind: DatabaseKind) => (kind === 'redis' ? servers.get(kind)?.tlsPort : servers.get(kind)?.port);
  const protocols = [
    ['postgres', 'PostgreSQL', wrongCa],
    ['mysql', 'MariaDB', wrongCaWithChain],
    ['redis', 'Redis', wrongCaWithChain],
  ] as const;

  for (const [protocol, product, byWrongCa] of protocols) {
    it(`${product}: its own way of starting TLS; verified, a wrong name and a wrong CA each refused with its line`, async (t) => {
      const server = servers.get(protocol);
      const port = portOf(protocol);
      if (!server || !port) return t.skip(`${product} with TLS is not installed`);
      const check = (serverName: string, ca: string | undefined) => checkServiceTls(net.connect(port, '127.0.0.1'), { protocol, serverName, ca });
      assert.equal(await check('localhost', server.ca), undefined);
      assert.equal(await check('other.example', server.ca), wrongName);
      assert.equal(await check('localhost', otherCa.certificate), byWrongCa);
      // --insecure-tls: still TLS, the certificate not checked.
      assert.equal(await checkServiceTls(net.connect(port, '127.0.0.1'), { protocol, serverName: 'other.example', ca: otherCa.certificate, insecure: true }), undefined);
    });
  }

  it('a plain Redis where TLS is expected: it waits for the end of a command line that never comes, and is given up on', async (t) => {
    const server = servers.get('redis');
    if (!server) return t.skip('Redis is not installed');
    const line = await checkServiceTls(net.connect(server.port, '127.0.0.1'), { protocol: 'redis', serverName: 'localhost', ca: server.ca, startTimeoutMs: 300 });
    assert.equal(line, 'TLS with localhost did not start within 0.3 s.');
  });

  it('a service that never answers: given up on after the start timeout, the connection closed', async () => {
    const accepted: net.Socket[] = [];
    // It reads what it is sent and never answers.
    const silent = net.createServer((socket) => accepted.push(socket.resume()));
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    after(() => silent.close());
    const { port } = silent.address() as AddressInfo;
    for (const protocol of ['postgres', 'mysql', 'redis'] as const) {
      const line = await checkServiceTls(net.connect(port, '127.0.0.1'), { protocol, serverName: 'localhost', startTimeoutMs: 200 });
      assert.equal(line, 'TLS with localhost did not start within 0.2 s.');
    }
    await Promise.all(accepted.filter((socket) => !socket.destroyed).map((socket) => once(socket, 'close')));
  });
});
