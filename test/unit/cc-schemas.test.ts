// The shapes Cloud Controller and UAA answers are read through (net/shape.ts, cf/schemas.ts):
// each names the first field that is missing or of the wrong type by its path, lets fields it
// does not check through, and takes CC's null for "none"; a body that is no JSON is said as such.
// The whole CLI meeting such answers is in bad-input.test.ts.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { CloudController } from '../../src/cf/cloud-controller.js';
import * as schemas from '../../src/cf/schemas.js';
import { UnexpectedAnswerError } from '../../src/errors.js';
import { parseHost } from '../../src/net/hosts.js';
import { HttpClient } from '../../src/net/http.js';
import { readAnswer, type Shape, ShapeError } from '../../src/net/shape.js';
import { type LocalServer, localServer, sendJson } from '../helpers/local-server.js';

/** What `shape` says of `value`: its problem, or 'ok'. */
function problem(shape: Shape<unknown>, value: unknown): string {
  try {
    shape(value, '');
    return 'ok';
  } catch (err) {
    assert.ok(err instanceof ShapeError, String(err));
    return err.message;
  }
}

describe('answer shapes', () => {
  const STATS = schemas.page(schemas.instanceStats);
  const running = { type: 'web', index: 0, state: 'RUNNING' };
  const cases: [string, Shape<unknown>, unknown, string][] = [
    ['a page', schemas.page(schemas.app), { resources: [{ guid: 'g', name: 'a', state: 'STARTED' }] }, 'ok'],
    ['no resources', schemas.page(schemas.app), { pagination: {} }, 'resources is missing'],
    ['resources not a list', schemas.page(schemas.app), { resources: 'x' }, 'resources is a string, not a list'],
    ['a null resource, its index named', schemas.page(schemas.app), { resources: [{ guid: 'g', name: 'a', state: 'S' }, null] }, 'resources[1] is null, not an object'],
    ['a missing field, its path named', schemas.page(schemas.app), { resources: [{ guid: 'g', state: 'S' }] }, 'resources[0].name is missing'],
    ['a field of the wrong type', schemas.page(schemas.app), { resources: [{ guid: ['g'], name: 'a', state: 'S' }] }, 'resources[0].guid is a list, not a string'],
    ['pagination.next null (the last page)', schemas.page(schemas.resource), { pagination: { next: null }, resources: [] }, 'ok'],
    ['pagination.next.href missing', schemas.page(schemas.resource), { pagination: { next: {} }, resources: [] }, 'pagination.next.href is missing'],
    ['the body not an object', schemas.sshEnabled, 'enabled', 'the body is a string, not an object'],
    ['the body a list', schemas.sshEnabled, [], 'the body is a list, not an object'],
    ['enabled a string', schemas.sshEnabled, { enabled: 'true', reason: '' }, 'enabled is a string, not true or false'],
    ['a whole number that is not', STATS, { resources: [{ ...running, index: 0.5 }] }, 'resources[0].index is 0.5, not a whole number'],
    ['CC’s nulls for a DOWN instance', STATS, { resources: [{ ...running, state: 'DOWN', uptime: null, mem_quota: null, usage: null, details: null }] }, 'ok'],
    ['usage.mem a string', STATS, { resources: [{ ...running, usage: { mem: '5M' } }] }, 'resources[0].usage.mem is a string, not a number'],
    ['an app link of the wrong type', schemas.rootInfo, { links: { app_ssh: { href: 2222 } } }, 'links.app_ssh.href is 2222, not a string'],
    ['links that are null', schemas.rootInfo, { links: { app_ssh: null, uaa: null, credhub: null } }, 'ok'],
    ['VCAP_SERVICES in any shape', schemas.appEnv, { system_env_json: { VCAP_SERVICES: 'nonsense' } }, 'ok'],
    ['system_env_json a list', schemas.appEnv, { system_env_json: [] }, 'system_env_json is a list, not an object'],
    ['a binding without a name', schemas.credentialBinding, { guid: 'g', name: null, type: 'app' }, 'ok'],
    ['credentials a string', schemas.bindingDetails, { credentials: 'secret' }, 'credentials is a string, not an object'],
    ['a job’s errors in any shape', schemas.job, { state: 'FAILED', errors: [null, 5, { detail: 'no' }] }, 'ok'],
  ];
  for (const [what, shape, value, expected] of cases) {
    it(what, () => assert.equal(problem(shape, value), expected));
  }

  it('keeps the fields it does not check and leaves out the nulls it takes for none', () => {
    const stats = schemas.instanceStats({ ...running, uptime: null, isolation_segment: 'x', usage: { cpu: 0.5, gpu: 1 } }, '');
    assert.deepEqual(stats, { ...running, isolation_segment: 'x', usage: { cpu: 0.5, gpu: 1 } });
    assert.equal('uptime' in stats, false);
  });
});

describe('readAnswer', () => {
  const answer = "The Cloud Controller's answer to GET /v3/apps";
  const read =
    (data: unknown, contentType = 'application/json') =>
    () =>
      readAnswer({ status: 200, headers: { 'content-type': contentType }, data }, schemas.sshFeature, answer);
  const cases: [string, () => unknown, string][] = [
    ['an HTML page', read('<html></html>', 'text/html; charset=utf-8'), 'the body is not JSON (Content-Type: text/html)'],
    ['no Content-Type', read('plain', ''), 'the body is not JSON (Content-Type: none)'],
    ['an empty body', read(''), 'the body is empty'],
    ['cut-off JSON', read('{"enabled": tr'), 'the body is not valid JSON (Unexpected end of JSON input)'],
    ['a missing field', read({}), 'enabled is missing'],
  ];
  for (const [what, run, expected] of cases) {
    it(what, () => assert.throws(run, { name: 'UnexpectedAnswerError', message: `${answer} is not what cf-ssh-tools understands: ${expected}.` }));
  }
});

describe('X-Cf-Warnings, leniently decoded', () => {
  let server: LocalServer;
  let header = '';
  before(async () => {
    server = await localServer((_req, res) => sendJson(res, 200, { enabled: true }, { 'X-Cf-Warnings': header }));
  });
  after(() => server.close());
  afterEach(() => (header = ''));

  const cases: [string, string[]][] = [
    ['plain%20words,%E2%9C%93+done', ['plain words', '✓ done']],
    ['%E0%A4%A', ['%E0%A4%A']],
    ['ok%20then%E0%A4,%', ['ok then%E0%A4', '%']],
    [' , ,', []],
  ];
  for (const [value, warnings] of cases) {
    it(`${value} does not fail the request that succeeded`, async () => {
      header = value;
      const said: string[] = [];
      const cc = new CloudController(new HttpClient({ sslDisabled: false, userAgent: 'test', env: {} }), server.url, undefined, (w) => said.push(w));
      assert.deepEqual(await cc.appSshFeature('g'), { enabled: true });
      assert.deepEqual(said, warnings);
    });
  }
});

describe('the client on odd answers', () => {
  let server: LocalServer;
  let answer: (url: string, res: Parameters<typeof sendJson>[0]) => void;
  before(async () => {
    server = await localServer((req, res) => answer(req.url ?? '/', res));
  });
  after(() => server.close());
  const cloudController = () => new CloudController(new HttpClient({ sslDisabled: false, userAgent: 'test', env: {} }), server.url, undefined, () => undefined);

  it('reads a page of 150,000 resources (no spread into push, which overflows the stack)', async () => {
    const resources = Array.from({ length: 150_000 }, (_, i) => ({ guid: `g${i}`, name: `n${i}` }));
    answer = (_url, res) => sendJson(res, 200, { pagination: { next: null }, resources });
    assert.equal((await cloudController().organizations()).length, 150_000);
  });

  it('says why a job failed from whatever errors it has', async () => {
    answer = (url, res) => {
      if (url.startsWith('/v3/jobs/'))
        return sendJson(res, 200, { state: 'FAILED', errors: [null, 5, { detail: 'the broker said no' }, { title: 'CF-ServiceBrokerError' }, { detail: 7 }] });
      res.writeHead(202, { Location: `${server.url}/v3/jobs/1` });
      res.end();
    };
    await assert.rejects(cloudController().createServiceKey('k', 'si'), { name: 'UserError', message: 'Creating service key k failed: the broker said no; CF-ServiceBrokerError' });
  });
});

describe('hosts', () => {
  const cases: [string, string | undefined][] = [
    ['localhost', 'localhost'],
    ['ssh.example.com', 'ssh.example.com'],
    ['ssh.example.com.', 'ssh.example.com.'],
    ['db_1.apps.internal', 'db_1.apps.internal'],
    ['xn--n-nga1b.com', 'xn--n-nga1b.com'],
    ['10.0.0.1', '10.0.0.1'],
    ['::1', '::1'],
    ['[::1]', '::1'],
    ['[fe80::1%lo]', 'fe80::1%lo'],
    ['', undefined],
    ['[]', undefined],
    ['[localhost]', undefined],
    ['[::1', undefined],
    ['2222', undefined],
    ['999.1.1.1', undefined],
    ['1.2.3', undefined],
    ['0x7f000001', undefined],
    ['a b', undefined],
    ['a,b', undefined],
    ['-x.com', undefined],
    ['a..b', undefined],
    ['*', undefined],
    ['../etc', undefined],
    [`${'x'.repeat(64)}.com`, undefined],
    [Array.from({ length: 64 }, () => 'abc').join('.'), undefined],
  ];
  for (const [text, host] of cases) {
    it(`${JSON.stringify(text.slice(0, 40))} ${host === undefined ? 'is refused' : `is ${host}`}`, () => assert.equal(parseHost(text), host));
  }

  it('an UnexpectedAnswerError is a UserError: one line, exit 1', () => {
    const err = new UnexpectedAnswerError('X', 'y');
    assert.equal(err.message, 'X is not what cf-ssh-tools understands: y.');
    assert.equal(err.exitCode, 1);
  });
});
