// One origin policy: the bearer token goes only to the foundation's own servers, the API URL
// and those its root names for itself (self, cloud_controller_v3, login, uaa). A link to any
// other server is refused before anything is sent; a foundation reached through an alias,
// whose links name its canonical host, keeps working.
import assert from 'node:assert/strict';
import type http from 'node:http';
import { after, afterEach, before, describe, it } from 'node:test';
import { CloudController } from '../../src/cf/cloud-controller.js';
import { OutsideFoundationError } from '../../src/errors.js';
import { HttpClient } from '../../src/net/http.js';
import type { TokenSource } from '../../src/net/token-source.js';
import { Auth } from '../../src/uaa/auth.js';
import { UaaClient } from '../../src/uaa/client.js';
import { emptyLogin, type LoginStore, type StoredLogin } from '../../src/config/login.js';
import { type Foundation, startFoundation } from '../foundation/server.js';
import { expectRequests } from '../helpers/expect-requests.js';
import { type LocalServer, localServer, sendJson } from '../helpers/local-server.js';
import { loggedIn, runCli } from '../helpers/run-cli.js';

const httpClient = new HttpClient({ sslDisabled: false, userAgent: 'test', env: {} });
const bearer: TokenSource = { token: async () => 'bearer the-token', refresh: async () => 'bearer the-token' };

describe('links outside the foundation', () => {
  // Where a hostile Cloud Controller points: it must see no connection at all.
  let capture: LocalServer;
  let api: LocalServer;
  let foundationHosts: string;

  before(async () => {
    capture = await localServer();
    const routes: Record<string, (res: http.ServerResponse) => void> = {
      'GET /': (res) =>
        sendJson(res, 200, {
          links: {
            self: { href: api.url },
            cloud_controller_v3: { href: `${api.url}/v3` },
            login: { href: 'https://login.example.com' },
            uaa: { href: 'https://uaa.example.com' },
            logging: { href: `${capture.url.replace('http', 'ws')}/logging` },
          },
        }),
      'GET /v3/apps': (res) => sendJson(res, 200, { pagination: { next: { href: `${capture.url}/v3/apps?page=2` } }, resources: [{ guid: 'a', name: 'a', state: 'STARTED' }] }),
      'GET /v3/organizations': (res) => sendJson(res, 200, { pagination: { next: { href: `//127.0.0.1:${capture.port}/v3/organizations?page=2` } }, resources: [] }),
      // The same server under another name, which the root does not give: refused as well.
      'GET /v3/spaces': (res) => sendJson(res, 200, { pagination: { next: { href: `http://localhost:${api.port}/v3/spaces?page=2` } }, resources: [] }),
      'POST /v3/service_credential_bindings': (res) => {
        res.writeHead(202, { Location: `${capture.url}/v3/jobs/1` });
        res.end();
      },
      'GET /v3/processes/p/sidecars': (res) => sendJson(res, 200, { pagination: { next: { href: 'file:///etc/passwd' } }, resources: [] }),
      'GET /v3/processes/q/sidecars': (res) => sendJson(res, 200, { pagination: { next: { href: 'http://[api' } }, resources: [] }),
    };
    api = await localServer((req, res) => {
      const route = routes[`${req.method} ${new URL(req.url ?? '/', api.url).pathname}`];
      if (route) route(res);
      else sendJson(res, 404, { errors: [{ code: 10000, title: 'CF-NotFound', detail: `no ${req.url}` }] });
    });
    foundationHosts = `${api.url}, login.example.com, uaa.example.com`;
  });
  after(async () => {
    await capture.close();
    await api.close();
  });
  afterEach(() => {
    api.requests.length = 0;
  });

  const cloudController = () => new CloudController(httpClient, api.url, bearer, () => undefined);

  async function assertRefused(call: Promise<unknown>, url: string): Promise<void> {
    await assert.rejects(call, (err: unknown) => {
      assert.ok(err instanceof OutsideFoundationError, String(err));
      assert.equal(err.message, `The Cloud Controller pointed to ${url}, outside this foundation (${foundationHosts}): not followed.`);
      return true;
    });
    assert.equal(capture.connections, 0, 'the server outside the foundation was reached');
  }

  it('does not follow pagination.next to another server, and reads the root once to know', async () => {
    const cc = cloudController();
    await assertRefused(cc.appsNamed('a', 's'), `${capture.url}/v3/apps?page=2`);
    await assertRefused(cc.organizations(), `${capture.url}/v3/organizations?page=2`);
    assert.deepEqual(api.requests, ['GET /v3/apps?names=a&space_guids=s', 'GET /', 'GET /v3/organizations?order_by=name']);
  });

  it('refuses a host name the root does not give, even for the same server', async () => {
    await assertRefused(cloudController().spaces('o'), `http://localhost:${api.port}/v3/spaces?page=2`);
  });

  it('does not poll a job whose Location is on another server', async () => {
    await assertRefused(cloudController().createServiceKey('k', 'si'), `${capture.url}/v3/jobs/1`);
  });

  it('follows no link that is not http(s), nor one that is no URL', async () => {
    await assertRefused(cloudController().sidecars('p'), 'file:///etc/passwd');
    await assert.rejects(cloudController().sidecars('q'), { message: "The Cloud Controller pointed to 'http://[api', which is not a URL: not followed." });
  });
});

class MemoryStore implements LoginStore {
  readonly description = 'memory';
  constructor(private state?: StoredLogin) {}
  async load() {
    return this.state;
  }
  async save(state: StoredLogin) {
    this.state = { ...state };
  }
}

describe('a foundation reached through an alias', () => {
  let foundation: Foundation;
  // The foundation's links say http://127.0.0.1:PORT; the user typed localhost.
  let alias: string;

  before(async () => {
    foundation = await startFoundation({ ssh: false });
    alias = foundation.url.replace('127.0.0.1', 'localhost');
    assert.notEqual(alias, foundation.url);
  });
  after(() => foundation.stop());
  afterEach(() => {
    foundation.settings.pageSize = 50;
  });

  it('follows pages on the host its root names', async () => {
    const uaa = new UaaClient(httpClient, `${foundation.url}/uaa`, `${foundation.url}/uaa`);
    const state = { ...emptyLogin(alias), ...(await uaa.passwordGrant('admin', 'admin-pass')) };
    const cc = new CloudController(httpClient, alias, new Auth(state, new MemoryStore(state), uaa, Date.now), () => undefined);
    foundation.settings.pageSize = 1;
    const orgs = await expectRequests(foundation, ['GET /v3/organizations?order_by=name', 'GET /', 'GET /v3/organizations?order_by=name&page=2&per_page=1'], () =>
      cc.organizations(),
    );
    assert.deepEqual(
      orgs.map((o) => o.name),
      ['demo-org', 'sandbox-org'],
    );
  });

  it('logs in and targets through the alias', async () => {
    const home = await loggedIn(alias);
    foundation.settings.pageSize = 1;
    const result = await runCli(home, ['target', '-o', 'demo-org']);
    assert.equal(result.stderr, '');
    assert.equal(result.code, 0, result.stdout);
  });
});
