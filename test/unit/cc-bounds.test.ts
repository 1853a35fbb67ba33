// What a broken or hostile server can make one request cost is bounded: its time (one deadline
// for the whole exchange, not a pause between bytes), the size of its answer, the pages of a
// list, and the waits it asks for. Each bound is named in its message. Small local servers
// misbehave; the bounds are made small so that each test takes well under a second (but one).
import assert from 'node:assert/strict';
import type http from 'node:http';
import { after, afterEach, before, describe, it } from 'node:test';
import { CloudController, JOB_TIMEOUT_MS, MAX_PAGES } from '../../src/cf/cloud-controller.js';
import { CfApiError, LimitError, NetworkError } from '../../src/errors.js';
import { HttpClient, type HttpLimits, MAX_RESPONSE_BYTES, MAX_RETRIES, MAX_RETRY_AFTER_MS, REQUEST_DEADLINE_MS } from '../../src/net/http.js';
import { record } from '../../src/net/shape.js';
import { type LocalServer, localServer, sendJson } from '../helpers/local-server.js';
import { runCli, tempHome } from '../helpers/run-cli.js';

const KiB = 1024;
const MiB = 1024 * KiB;

describe('bounds on what a server can make a request cost', () => {
  let server: LocalServer;
  let behave: http.RequestListener;
  // Timers a misbehaving answer left running, stopped after each test.
  const timers = new Set<NodeJS.Timeout>();

  before(async () => {
    server = await localServer((req, res) => behave(req, res));
  });
  after(() => server.close());
  afterEach(() => {
    for (const timer of timers) clearInterval(timer);
    timers.clear();
    server.requests.length = 0;
  });

  function cloudController(limits: Partial<HttpLimits> = {}, maxPages = MAX_PAGES): CloudController {
    const client = new HttpClient({ sslDisabled: false, userAgent: 'test', env: {}, limits });
    return new CloudController(client, server.url, undefined, () => undefined, { maxPages });
  }

  /** Writes `chunk` every `ms` until the client goes away. */
  function trickle(res: http.ServerResponse, chunk: Buffer | string, ms: number): void {
    const timer = setInterval(() => {
      if (!res.destroyed) res.write(chunk);
    }, ms);
    timers.add(timer);
    res.once('close', () => clearInterval(timer));
  }

  async function assertRejects(call: Promise<unknown>, type: new (...args: never[]) => Error, message: string): Promise<number> {
    const started = Date.now();
    await assert.rejects(call, (err: unknown) => {
      assert.ok(err instanceof type, `${String(err)} is not a ${type.name}`);
      assert.equal(err.message, message);
      return true;
    });
    return Date.now() - started;
  }

  it('names the bounds the README documents', () => {
    assert.deepEqual(
      { REQUEST_DEADLINE_MS, MAX_RESPONSE_BYTES, MAX_RETRIES, MAX_RETRY_AFTER_MS, MAX_PAGES, JOB_TIMEOUT_MS },
      { REQUEST_DEADLINE_MS: 60_000, MAX_RESPONSE_BYTES: 64 * MiB, MAX_RETRIES: 2, MAX_RETRY_AFTER_MS: 10_000, MAX_PAGES: 500, JOB_TIMEOUT_MS: 120_000 },
    );
  });

  describe('one deadline per request', () => {
    it('fails an answer that trickles in a byte at a time at the deadline', async () => {
      behave = (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        trickle(res, ' ', 50); // a byte far more often than the deadline: a per-byte timeout never fires
      };
      const took = await assertRejects(
        cloudController({ deadlineMs: 300 }).get('/v3/apps', record),
        NetworkError,
        "The Cloud Controller's answer to GET /v3/apps did not finish within 0.3 s.",
      );
      // A timeout restarted by every byte would never fire: any generous bound catches it, and a loaded machine passes.
      assert.ok(took >= 300 && took < 10_000, `${took} ms`);
      assert.equal(server.requests.length, 1, 'a request that ran out of time is not tried again');
    });

    it('fails a server that sends no answer at all at the deadline', async () => {
      behave = () => undefined;
      await assertRejects(cloudController({ deadlineMs: 300 }).root(), NetworkError, "The Cloud Controller's answer to GET / did not finish within 0.3 s.");
    });
  });

  describe('a limit on the size of an answer', () => {
    it('refuses an answer whose Content-Length is over the limit, before reading it', async () => {
      let written = 0;
      behave = (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(600 * 1000 * 1000) });
        const chunk = Buffer.alloc(64 * KiB, 0x20);
        const timer = setInterval(() => {
          if (res.destroyed) return clearInterval(timer);
          written += chunk.length;
          res.write(chunk);
        }, 1);
        timers.add(timer);
      };
      await assertRejects(
        cloudController({ maxResponseBytes: MiB }).get('/v3/apps', record),
        LimitError,
        "The Cloud Controller's answer to GET /v3/apps was larger than 1 MiB: not read.",
      );
      assert.ok(written < 600 * 1000 * 1000);
    });

    it('stops reading an answer of no stated length at the limit', async () => {
      behave = (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        trickle(res, Buffer.alloc(64 * KiB, 0x20), 1);
      };
      await assertRejects(
        cloudController({ maxResponseBytes: 512 * KiB }).get('/v3/apps', record),
        LimitError,
        "The Cloud Controller's answer to GET /v3/apps was larger than 512 KiB: not read.",
      );
    });

    it('says so when an API root of 600 MB meets the 64 MiB limit, rather than "Cannot reach"', async () => {
      let written = 0;
      behave = (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        const chunk = Buffer.alloc(MiB, 0x20);
        const pump = () => {
          while (!res.destroyed && written < 600 * 1000 * 1000) {
            written += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end();
        };
        pump();
      };
      const r = await runCli(tempHome(), ['login', '-a', server.url, '-u', 'developer', '-p', 'developer-pass']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^The Cloud Controller's answer to GET \/ was larger than 64 MiB: not read\.$/m);
      assert.doesNotMatch(r.stderr, /Cannot reach|string longer/);
      assert.ok(written < 600 * 1000 * 1000, `the whole body was sent (${written} bytes)`);
    });
  });

  describe('Retry-After', () => {
    /** Answers `status` (with `headers`) to the first `times` requests, then 200 with `{"enabled":true}`. */
    function busyFor(times: number, status: number, headers: Record<string, string>): void {
      let seen = 0;
      behave = (_req, res) => {
        seen += 1;
        if (seen <= times) sendJson(res, status, { errors: [{ code: 10013, title: 'CF-RateLimitExceeded', detail: 'Rate Limit Exceeded' }] }, headers);
        else sendJson(res, 200, { name: 'ssh', enabled: true });
      };
    }

    it('waits as a 429 asks and tries again, twice at most, any method', async () => {
      busyFor(2, 429, { 'Retry-After': '0' });
      assert.deepEqual(await cloudController().setAppSshFeature('g', true), { name: 'ssh', enabled: true });
      assert.equal(server.requests.length, 3);
    });

    it('gives up after the retries, with the Cloud Controller’s own words', async () => {
      busyFor(3, 429, { 'Retry-After': '0' });
      await assertRejects(cloudController().appSshFeature('g'), CfApiError, 'Rate Limit Exceeded');
      assert.equal(server.requests.length, 3);
    });

    it('honours a Retry-After on a 503 to a GET', async () => {
      busyFor(1, 503, { 'Retry-After': '1' });
      const started = Date.now();
      assert.equal((await cloudController().appSshFeature('g')).enabled, true);
      assert.ok(Date.now() - started >= 1000, 'the wait asked for was kept');
      assert.equal(server.requests.length, 2);
    });

    it('does not wait longer than the cap, and says which bound it was', async () => {
      busyFor(1, 429, { 'Retry-After': '30' });
      await assertRejects(
        cloudController().appSshFeature('g'),
        LimitError,
        'The Cloud Controller asked to wait 30 s before GET /v3/apps/g/features/ssh is tried again (HTTP 429), longer than the 10 s cf-ssh-tools waits: try again later.',
      );
      busyFor(1, 429, { 'Retry-After': new Date(Date.now() + 3600_000).toUTCString() });
      await assertRejects(
        cloudController({ maxRetryAfterMs: 500 }).appSshFeature('g'),
        LimitError,
        'The Cloud Controller asked to wait 3600 s before GET /v3/apps/g/features/ssh is tried again (HTTP 429), longer than the 0.5 s cf-ssh-tools waits: try again later.',
      );
      assert.equal(server.requests.length, 2, 'one request each');
    });
  });

  describe('pagination', () => {
    it('stops at a page it has read before', async () => {
      behave = (req, res) => {
        // Page 2 names itself as the next page.
        const next = req.url === '/v3/apps' ? '/v3/apps?page=2' : req.url;
        sendJson(res, 200, { pagination: { next: { href: `${server.url}${next}` } }, resources: [] });
      };
      await assertRejects(
        cloudController().list('/v3/apps', record),
        LimitError,
        `The Cloud Controller's pagination of /v3/apps repeats page ${server.url}/v3/apps?page=2: stopped.`,
      );
      assert.deepEqual(server.requests, ['GET /v3/apps', 'GET /v3/apps?page=2']);
    });

    it('stops at the most pages it reads', async () => {
      behave = (req, res) => {
        const page = Number(new URL(req.url ?? '/', server.url).searchParams.get('page') ?? 1);
        sendJson(res, 200, { pagination: { next: { href: `${server.url}/v3/apps?page=${page + 1}` } }, resources: [{ guid: String(page) }] });
      };
      await assertRejects(cloudController({}, 3).list('/v3/apps', record), LimitError, "The Cloud Controller's pagination of /v3/apps goes on past 3 pages: stopped.");
      assert.equal(server.requests.length, 3);
    });
  });
});
