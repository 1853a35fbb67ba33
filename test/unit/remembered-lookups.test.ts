// What runs remember between them (the SSH proxy's endpoint, an app's and its process's GUIDs)
// lets the next run start the SSH handshake and the look-ups at once, and is never trusted over
// what this run reads: a stale or foreign memory costs a look-up, never a wrong login, and the
// one-time code goes only to a proxy whose key this run's API root vouches for.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import ssh2 from 'ssh2';
import { after, before, describe, it } from 'node:test';
import { type Foundation, startFoundation } from '../foundation/server.js';
import { expectRequests } from '../helpers/expect-requests.js';
import { loggedIn, runCli } from '../helpers/run-cli.js';

interface Lookups {
  version: number;
  endpoints: { api: string; host: string; port: number; fingerprint: string; oauthClient?: string; savedAt: number }[];
  processes: { api: string; spaceGuid: string; appName: string; processType: string; appGuid: string; processGuid: string; savedAt: number }[];
}

const lookupsFile = (home: string) => path.join(home, '.cf-ssh-tools', 'lookups.json');
const readLookups = (home: string) => JSON.parse(readFileSync(lookupsFile(home), 'utf8')) as Lookups;
const writeLookups = (home: string, lookups: Lookups) => {
  mkdirSync(path.dirname(lookupsFile(home)), { recursive: true });
  writeFileSync(lookupsFile(home), JSON.stringify(lookups));
};

describe('remembered look-ups', () => {
  let foundation: Foundation;
  let proxyPort: number;

  before(async () => {
    foundation = await startFoundation({ ssh: true, sshBackend: 'builtin' });
    proxyPort = Number(foundation.settings.appSsh.href.split(':').at(-1));
  });
  after(() => foundation.stop());

  const ssh = (home: string) => runCli(home, ['ssh', 'demo-app', '-c', 'echo $CF_INSTANCE_INDEX']);
  const accepted = () => foundation.ssh!.proxy.log.filter((entry) => entry.event !== 'keepalive' && entry.event !== 'global-request');

  it('the first run looks up step by step and remembers; the next asks for the instances and the SSH switch alongside the app', async () => {
    const home = await loggedIn(foundation.url);
    const first = await expectRequests(
      foundation,
      [
        'GET /',
        'GET /v3/apps?names=demo-app&space_guids=:space',
        'GET /v3/apps/:guid/processes',
        'GET /v3/processes/:guid/stats',
        'GET /v3/apps/:guid/ssh_enabled',
        'GET /uaa/oauth/authorize?client_id=ssh-proxy&response_type=code',
        // The proxy's own, trading the code for a token.
        'POST /uaa/oauth/token',
      ],
      () => ssh(home),
    );
    assert.deepEqual([first.code, first.stdout, first.stderr], [0, '0\n', '']);
    const lookups = readLookups(home);
    assert.deepEqual(
      lookups.endpoints.map(({ host, port, oauthClient }) => ({ host, port, oauthClient })),
      [{ host: '127.0.0.1', port: proxyPort, oauthClient: 'ssh-proxy' }],
    );
    assert.equal(lookups.endpoints[0]?.fingerprint, foundation.settings.appSsh.fingerprint);
    const [process] = lookups.processes;
    assert.equal(process?.appName, 'demo-app');
    assert.equal(process?.processType, 'web');

    // No GET /v3/apps/:guid/processes: the remembered process's instances are asked for at once.
    const next = await expectRequests(
      foundation,
      [
        'GET /',
        'GET /v3/apps?names=demo-app&space_guids=:space',
        `GET /v3/processes/${process?.processGuid}/stats`,
        `GET /v3/apps/${process?.appGuid}/ssh_enabled`,
        'GET /uaa/oauth/authorize?client_id=ssh-proxy&response_type=code',
        // The proxy's own, trading the code for a token.
        'POST /uaa/oauth/token',
      ],
      () => ssh(home),
    );
    assert.deepEqual([next.code, next.stdout, next.stderr], [0, '0\n', '']);
  });

  it('a process that is gone, or an app made anew under the same name: looked up as if nothing were remembered, and remembered anew', async () => {
    const home = await loggedIn(foundation.url);
    assert.equal((await ssh(home)).code, 0);
    const lookups = readLookups(home);
    const [real] = lookups.processes;
    for (const stale of [
      { processGuid: '0a1b2c3d-0000-4000-8000-000000000000' },
      { appGuid: '0a1b2c3d-0000-4000-8000-000000000001', processGuid: '0a1b2c3d-0000-4000-8000-000000000002' },
    ]) {
      writeLookups(home, { ...lookups, processes: [{ ...real!, ...stale }] });
      const r = await ssh(home);
      assert.deepEqual([r.code, r.stdout, r.stderr], [0, '0\n', '']);
      assert.deepEqual(readLookups(home).processes, [{ ...real!, savedAt: readLookups(home).processes[0]!.savedAt }]);
    }
  });

  it('a remembered endpoint the root no longer names (another port, another key): the key is checked against this run’s root, the login goes where it says', async () => {
    const home = await loggedIn(foundation.url);
    assert.equal((await ssh(home)).code, 0);
    const lookups = readLookups(home);
    const [endpoint] = lookups.endpoints;
    // A port where nothing listens, and one where something else speaks SSH with another key.
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    // An SSH server with a key of its own, which must never be sent a login.
    const logins: string[] = [];
    const impostor = new ssh2.Server({ hostKeys: [ssh2.utils.generateKeyPairSync('ed25519').private] }, (client) => {
      client.on('authentication', (context) => {
        logins.push(context.method);
        context.reject();
      });
      client.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', resolve));
    after(() => impostor.close());
    // One that takes the connection and says nothing: abandoned once the root names another address, not after the handshake's 10 s.
    const silent = net.createServer((socket) => socket.resume());
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    after(() => silent.close());
    const stale = [
      { port: closedPort },
      { fingerprint: 'a'.repeat(64) },
      { port: (impostor.address() as net.AddressInfo).port },
      { port: (silent.address() as net.AddressInfo).port },
    ];
    for (const change of stale) {
      writeLookups(home, { ...lookups, endpoints: [{ ...endpoint!, ...change }] });
      foundation.ssh!.proxy.log.length = 0;
      const started = Date.now();
      const r = await ssh(home);
      assert.deepEqual([r.code, r.stdout, r.stderr], [0, '0\n', ''], JSON.stringify(change));
      assert.ok(Date.now() - started < 5000, `${JSON.stringify(change)}: ${Date.now() - started} ms, within the handshake's bound of 10 s`);
      assert.deepEqual(
        accepted().map((entry) => entry.event),
        ['accepted'],
        'one login, at the proxy the root names',
      );
      assert.deepEqual(
        readLookups(home).endpoints.map(({ port, fingerprint }) => ({ port, fingerprint })),
        [{ port: endpoint!.port, fingerprint: endpoint!.fingerprint }],
      );
    }
    assert.deepEqual(logins, [], 'the impostor, whose key the root does not publish, was never sent a login');
  });

  it('a file of remembered look-ups that is not ours is ignored, then written anew', async () => {
    const home = await loggedIn(foundation.url);
    mkdirSync(path.dirname(lookupsFile(home)), { recursive: true });
    for (const content of ['{', '[]', '{"version":1,"endpoints":[{"api":1}],"processes":[]}', '{"version":2,"endpoints":[],"processes":[]}']) {
      writeFileSync(lookupsFile(home), content);
      const r = await ssh(home);
      assert.deepEqual([r.code, r.stdout, r.stderr], [0, '0\n', ''], content);
      assert.equal(readLookups(home).version, 1);
    }
  });
});
