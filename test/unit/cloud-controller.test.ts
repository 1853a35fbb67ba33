// The Cloud Controller and UAA clients against the test foundation, in-process.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { CloudController } from '../../src/cf/cloud-controller.js';
import { emptyLogin, type StoredLogin, type LoginStore } from '../../src/config/login.js';
import { CfApiError, NetworkError, RefreshTokenError } from '../../src/errors.js';
import { HttpClient } from '../../src/net/http.js';
import { record } from '../../src/net/shape.js';
import { Auth } from '../../src/uaa/auth.js';
import { UaaClient } from '../../src/uaa/client.js';
import { type Foundation, startFoundation } from '../foundation/server.js';

class MemoryStore implements LoginStore {
  readonly description = 'memory';
  saves = 0;
  constructor(private state?: StoredLogin) {}
  async load() {
    return this.state;
  }
  async save(state: StoredLogin) {
    this.state = { ...state };
    this.saves += 1;
  }
}

describe('Cloud Controller and UAA clients', () => {
  let foundation: Foundation;
  const httpClient = new HttpClient({ sslDisabled: false, userAgent: 'test', env: {} });

  before(async () => {
    foundation = await startFoundation();
  });
  after(() => foundation.stop());

  async function session(user = 'developer', now: () => number = Date.now) {
    const uaa = new UaaClient(httpClient, `${foundation.url}/uaa`, `${foundation.url}/uaa`);
    const grant = await uaa.passwordGrant(user, `${user}-pass`);
    const state = { ...emptyLogin(foundation.url), authorizationEndpoint: `${foundation.url}/uaa`, uaaEndpoint: `${foundation.url}/uaa`, ...grant };
    const store = new MemoryStore(state);
    const auth = new Auth(state, store, uaa, now);
    const warnings: string[] = [];
    const cc = new CloudController(httpClient, foundation.url, auth, (w) => warnings.push(w));
    return { cc, auth, store, state, warnings, uaa };
  }

  async function demoApp(cc: CloudController) {
    const [org] = await cc.organizationsNamed('demo-org');
    assert.ok(org);
    const [space] = await cc.spaces(org.guid, 'demo-space');
    assert.ok(space);
    const [app] = await cc.appsNamed('demo-app', space.guid);
    assert.ok(app);
    return app;
  }

  it('reads processes, instance stats, sidecars and the app environment', async () => {
    const { cc } = await session();
    const app = await demoApp(cc);
    const processes = await cc.processes(app.guid);
    assert.deepEqual(
      processes.map((p) => [p.type, p.instances]),
      [
        ['web', 2],
        ['worker', 1],
      ],
    );
    assert.equal(processes[0]?.guid, app.guid, 'the web process has the app guid');
    const stats = await cc.processStats(app.guid);
    assert.deepEqual(
      stats.map((s) => [s.index, s.state]),
      [
        [0, 'RUNNING'],
        [1, 'RUNNING'],
      ],
    );
    assert.deepEqual(await cc.sidecars(app.guid), []);
    // Fields the shape does not check come through as they are.
    const env = (await cc.appEnv(app.guid)) as { environment_variables?: Record<string, string> };
    assert.equal(env.environment_variables?.GREETING, 'hello from cf-ssh-tools');
  });

  it('follows pagination.next across pages', async () => {
    foundation.settings.pageSize = 1;
    try {
      const { cc } = await session('admin');
      const orgs = await cc.organizations();
      assert.deepEqual(
        orgs.map((o) => o.name),
        ['demo-org', 'sandbox-org'],
      );
    } finally {
      foundation.settings.pageSize = 50;
    }
  });

  it('hands X-Cf-Warnings to the caller, decoded', async () => {
    const { cc, warnings } = await session();
    foundation.settings.warning = 'first warning';
    try {
      await cc.organizations();
    } finally {
      foundation.settings.warning = undefined;
    }
    assert.deepEqual(warnings, ['first warning']);
  });

  it('maps CC error bodies to CfApiError with CC’s own detail', async () => {
    const { cc } = await session('auditor');
    const app = await demoApp(cc);
    await assert.rejects(cc.setAppSshFeature(app.guid, false), (err: unknown) => {
      assert.ok(err instanceof CfApiError);
      assert.equal(err.status, 403);
      assert.equal(err.title, 'CF-NotAuthorized');
      assert.equal(err.message, 'You are not authorized to perform the requested action');
      return true;
    });
    await assert.rejects(cc.get('/v3/apps/no-such-guid', record), /App not found/);
  });

  it('refreshes a token that expires during a run, before the request that would fail', async () => {
    let clock = Date.now();
    const { cc, store, state } = await session('developer', () => clock);
    await cc.organizations();
    assert.equal(store.saves, 0);
    const first = state.accessToken;
    clock += 595_000; // the foundation's tokens live 600 s: now less than a minute is left
    await cc.organizations();
    assert.equal(store.saves, 1);
    assert.notEqual(state.accessToken, first);
  });

  it('retries once with a refreshed token when CC refuses the token, and only once', async () => {
    const { cc, store } = await session();
    foundation.tokens.rotateKey();
    await cc.organizations();
    assert.equal(store.saves, 1);
    foundation.tokens.revokeRefreshTokens();
    foundation.tokens.rotateKey();
    await assert.rejects(cc.organizations(), RefreshTokenError);
  });

  it('asks the session’s owner for a new token when it has one to ask (cf, for a plugin)', async () => {
    const { cc, store, state, uaa } = await session();
    let asked = 0;
    Object.assign(store, {
      refreshAccessToken: async () => {
        asked += 1;
        return (await uaa.passwordGrant('developer', 'developer-pass')).accessToken;
      },
    });
    foundation.tokens.rotateKey();
    await cc.organizations();
    assert.equal(asked, 1);
    assert.equal(store.saves, 0, 'nothing is written where the owner keeps the session');
    assert.match(state.accessToken, /^bearer /);
  });

  it('concurrent requests share one refresh', async () => {
    let clock = Date.now();
    const { cc, store } = await session('developer', () => clock);
    clock += 595_000;
    await Promise.all([cc.organizations(), cc.organizations(), cc.organizations()]);
    assert.equal(store.saves, 1);
  });

  it('tries a GET again when the server drops the connection as the request goes out; a POST it does not', async () => {
    let requests = 0;
    const flaky = http.createServer((req, res) => {
      requests += 1;
      if (requests === 1) return req.socket.destroy();
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"links":{}}');
    });
    await new Promise<void>((resolve) => flaky.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(flaky.address() as AddressInfo).port}`;
    try {
      const client = new HttpClient({ sslDisabled: false, userAgent: 'test', env: {} });
      assert.equal((await client.send({ method: 'GET', url })).status, 200);
      assert.equal(requests, 2);
      requests = 0;
      await assert.rejects(client.send({ method: 'POST', url, json: {} }), NetworkError);
      assert.equal(requests, 1);
    } finally {
      flaky.closeAllConnections();
      flaky.close();
    }
  });

  it('a server that never answers becomes a one-line error at the deadline', async () => {
    const silent = http.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    try {
      const quick = new HttpClient({ sslDisabled: false, userAgent: 'test', limits: { deadlineMs: 200 }, env: {} });
      await assert.rejects(new CloudController(quick, url, undefined, () => undefined).root(), (err: unknown) => {
        assert.ok(err instanceof NetworkError);
        assert.equal(err.message, "The Cloud Controller's answer to GET / did not finish within 0.2 s.");
        return true;
      });
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });
});
