// Bad input, table-driven: flags and -L specs, names, environment variables, cf's config.json,
// VCAP_SERVICES and credentials, and Cloud Controller and UAA answers of every wrong shape. Each
// row says what it must come to: it works; a usage error (exit 1, "Incorrect Usage: ..."); or
// one clear line (exit 1 unless said, the last line of stderr). Whatever the row, the run fails
// the row on an "Unexpected error", a stack trace, a hang, or any attempt to reach past loopback:
// dns.lookup and socket connects are watched in this process, and a name or address outside
// loopback is refused before it leaves it (so a garbage name never reaches a resolver).
//
// The CLI runs in-process (runCli), one foundation per group; the answers of the API group come
// through a rewriting proxy in front of the foundation.
import assert from 'node:assert/strict';
import dns from 'node:dns';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net, { isIP } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MAX_COMMAND_BYTES, remoteCommand } from '../../src/commands/option-values.js';
import { type Foundation, startFoundation } from '../foundation/server.js';
import { passwordGrant } from '../helpers/foundation.js';
import { echoServer, freePort } from '../helpers/net.js';
import { cfConfigFor } from '../helpers/cf-config.js';
import { type CliResult, loggedIn, runCli, tempHome } from '../helpers/run-cli.js';
import { SpawnStubs } from '../helpers/spawn-stubs.js';

type Env = Record<string, string | undefined>;

/** What a row must come to. */
type Outcome =
  /** Exit 0; the output (stdout and stderr) matches, when a pattern is given. */
  | { works: true | RegExp }
  /** Exit 1, stderr's first line is "Incorrect Usage: " and this. */
  | { usage: string }
  /** Exit `code` (1 unless given), the last line of stderr matches. */
  | { fails: RegExp; code?: number };

interface Row {
  what: string;
  args: string[];
  env?: Env;
  /** The home to run in, when not the group's. */
  home?: () => string | Promise<string>;
  /** A local program the run may start: a stub that ends at once with exit 0. */
  program?: string;
  /** Set before the run (an answer to rewrite, VCAP_SERVICES); undone after. */
  arrange?: () => void | Promise<void>;
  expect: Outcome;
  /** The change a file outside this suite's reach needs before the row can pass. */
}

const ROW_TIMEOUT_MS = 10_000;

// Every look-up and connection this process attempts, refused when it would leave loopback.
const outbound: string[] = [];
const isLocal = (host: string) => {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (bare === 'localhost' || bare.endsWith('.localhost')) return true;
  if (isIP(bare) === 4) return bare.startsWith('127.') || bare === '0.0.0.0';
  if (isIP(bare) === 6) return bare === '::1' || bare === '::' || bare.startsWith('::ffff:127.');
  return false;
};
const realLookup = dns.lookup;
// oxlint-disable-next-line typescript/unbound-method -- kept to be put back as it was, and called with apply
const realConnect = net.Socket.prototype.connect;

function watchNetwork(): void {
  dns.lookup = ((hostname: string, ...rest: unknown[]) => {
    if (isLocal(hostname)) return (realLookup as (...args: unknown[]) => void)(hostname, ...rest);
    outbound.push(`dns.lookup ${hostname}`);
    const callback = rest.at(-1) as (err: Error) => void;
    process.nextTick(() => callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname })));
    return undefined;
  }) as unknown as typeof dns.lookup;
  net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
    // net.connect passes its normalized [options, callback]; ssh2 calls connect(port, host).
    const [first, second] = args;
    const options = (Array.isArray(first) ? first[0] : first) as { host?: string; path?: string } | number | string;
    const host = typeof options === 'object' ? (options.path ? 'localhost' : (options.host ?? 'localhost')) : typeof second === 'string' ? second : 'localhost';
    if (!isLocal(host) && isIP(host) !== 0) {
      outbound.push(`connect ${host}`);
      process.nextTick(() => this.destroy(Object.assign(new Error(`connect to ${host} refused by the test`), { code: 'EHOSTUNREACH' })));
      return this;
    }
    return (realConnect as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof realConnect;
}

function unwatchNetwork(): void {
  dns.lookup = realLookup;
  net.Socket.prototype.connect = realConnect;
}

const lastLine = (text: string) => text.trimEnd().split('\n').at(-1) ?? '';

function check(row: Row, r: CliResult, attempts: string[]): void {
  const all = `${r.stdout}${r.stderr}`;
  const shown = `exit ${r.code}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
  assert.doesNotMatch(all, /Unexpected error/, shown);
  assert.doesNotMatch(all, /\n {4}at /, shown);
  assert.deepEqual(attempts, [], `reached past loopback\n${shown}`);
  const { expect } = row;
  if ('works' in expect) {
    assert.equal(r.code, 0, shown);
    if (expect.works !== true) assert.match(all, expect.works, shown);
  } else if ('usage' in expect) {
    assert.equal(r.code, 1, shown);
    assert.equal(r.stderr.split('\n')[0], `Incorrect Usage: ${expect.usage}`, shown);
  } else {
    assert.equal(r.code, expect.code ?? 1, shown);
    assert.match(lastLine(r.stderr), expect.fails, shown);
  }
}

interface Group {
  /** Where rows run unless they bring a home. */
  home(): string;
  /** What `{name}` stands for in a row's arguments and environment: {api}, a {closed} port... */
  vars?(): Record<string, string>;
  /** Undoes what a row arranged. */
  reset?(): void;
}

/** Each row as a test. */
function table(rows: Row[], group: Group): void {
  for (const row of rows) {
    it(row.what, { timeout: ROW_TIMEOUT_MS + 5000 }, async () => {
      try {
        await row.arrange?.();
        const vars = group.vars?.() ?? {};
        const fill = (text: string) => text.replace(/\{(\w+)\}/g, (match, name: string) => vars[name] ?? match);
        const args = row.args.map(fill);
        const env = Object.fromEntries(Object.entries(row.env ?? {}).map(([key, value]) => [key, value === undefined ? value : fill(value)]));
        const stubs = row.program ? new SpawnStubs().register(row.program) : undefined;
        const from = outbound.length;
        const r = await runCli(row.home ? await row.home() : group.home(), args, { env, timeoutMs: ROW_TIMEOUT_MS, stubs });
        check(row, r, outbound.slice(from));
        // A run that works started its program; one that failed may have stopped before.
        if (stubs && 'works' in row.expect) stubs.verify();
      } finally {
        group.reset?.();
      }
    });
  }
}

/** A regular expression matching `text` exactly, as a whole line. */
const line = (text: string) => new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);

before(watchNetwork);
after(unwatchNetwork);

describe('flags and -L specifications', () => {
  let foundation: Foundation;
  let developer: string;
  before(async () => {
    foundation = await startFoundation({ ssh: true, sshBackend: 'builtin' });
    developer = await loggedIn(foundation.url);
  });
  after(() => foundation.stop());

  const ssh = (...args: string[]) => ['ssh', 'demo-app', ...args];
  const forward = (spec: string) => ssh('-L', spec, '-c', 'true');
  const badSpec = (spec: string, why?: string) => ({ usage: `Bad local forwarding specification '${spec}'${why ? `: ${why}` : ''}` });
  const notAHost = (spec: string, host: string) => badSpec(spec, `'${host}' is not a host name or an IP address`);
  const service = (...args: string[]) => ['connect-to-service', 'demo-app', 'some-db', ...args];
  const bind = (value: string) => ({ usage: `--bind takes an IP address or a host name of this machine, not '${value}'` });
  const index = (value: string) => ({ usage: `invalid argument for flag '--app-instance-index, -i': '${value}' is not an instance index (0, 1, 2, ...)` });

  table(
    [
      { what: 'ssh without an app', args: ['ssh'], expect: { usage: 'the required argument `APP_NAME` was not provided' } },
      { what: 'an unknown flag', args: ssh('--frobnicate'), expect: { usage: "unknown flag `frobnicate'" } },
      { what: '-c without its value', args: ssh('-c'), expect: { usage: "expected argument for flag `-c'" } },
      { what: '-i -1', args: ssh('-i', '-1'), expect: index('-1') },
      { what: '-i abc', args: ssh('-i', 'abc'), expect: index('abc') },
      { what: '-i 1.5', args: ssh('-i', '1.5'), expect: index('1.5') },
      { what: "-i ''", args: ssh('-i', ''), expect: index('') },
      {
        what: '-i past int32',
        args: ssh('-i', '99999999999'),
        expect: { usage: "invalid argument for flag '--app-instance-index, -i': '99999999999' is out of range (0 to 2147483647)" },
      },
      { what: '-i 1 of two instances', args: ssh('-i', '1', '-c', 'true'), expect: { works: true } },
      {
        what: '-i 5 of two instances',
        args: ssh('-i', '5', '-c', 'true'),
        expect: { fails: line('Instance 5 of process web not found: demo-app has 2 web instances (indexes 0 to 1 are valid).') },
      },
      { what: '--process of no such type', args: ssh('--process', 'nope', '-c', 'true'), expect: { fails: line('Process nope not found: demo-app has web, worker.') } },
      { what: "--process ''", args: ssh('--process', '', '-c', 'true'), expect: { fails: line('Process  not found: demo-app has web, worker.') } },
      {
        what: '-T and -t together',
        args: ssh('-T', '-t'),
        expect: { usage: 'The following arguments cannot be used together: --disable-pseudo-tty, -T, --force-pseudo-tty, --request-pseudo-tty, -t' },
      },
      { what: '--ssh-client putty', args: ssh('--ssh-client', 'putty'), expect: { usage: "--ssh-client takes builtin or openssh, not 'putty'" } },
      { what: 'arguments after -- without openssh', args: ssh('--', '-v'), expect: { usage: 'unexpected argument "-v": arguments after -- go to --ssh-client openssh' } },
      { what: "-c ''", args: ssh('-c', ''), expect: { works: true } },
      { what: '-c with quotes, $ and a newline', args: ssh('-c', `printf '%s\\n' "it's" '$HOME'\necho done`), expect: { works: /^it's\n\$HOME\ndone\n/ } },
      { what: `-c of ${MAX_COMMAND_BYTES} bytes`, args: ssh('-c', `true #${'x'.repeat(MAX_COMMAND_BYTES - 7)}`), expect: { works: true } },
      {
        what: '-c of 100 KB',
        args: ssh('-c', 'x'.repeat(100_000)),
        expect: {
          usage: `the command is 100000 bytes as sent, more than the ${MAX_COMMAND_BYTES} an SSH server must take: send a long script on stdin instead (-c bash < script.sh)`,
        },
      },
      { what: '-L 0:localhost:80', args: forward('0:localhost:80'), expect: { works: /^Forwarding 127\.0\.0\.1:\d+ to localhost:80$/m } },
      { what: '-L with a bind address', args: forward('127.0.0.1:0:db.internal:5432'), expect: { works: /^Forwarding 127\.0\.0\.1:\d+ to db\.internal:5432$/m } },
      { what: '-L binding [::1]', args: forward('[::1]:0:localhost:80'), expect: { works: /^Forwarding ::1:\d+ to localhost:80$/m } },
      { what: '-L to an IPv6 remote', args: forward('0:[fd00::1]:80'), expect: { works: /^Forwarding 127\.0\.0\.1:\d+ to fd00::1:80$/m } },
      { what: '-L to a name with an underscore', args: forward('0:db_1.apps.internal:80'), expect: { works: /to db_1\.apps\.internal:80$/m } },
      { what: 'two -L', args: ssh('-L', '0:a:1', '-L', '0:b:2', '-c', 'true'), expect: { works: /to a:1\n.*to b:2$/m } },
      { what: '-L with a port only', args: forward('8080'), expect: badSpec('8080') },
      { what: '-L without a remote port', args: forward('0:localhost'), expect: badSpec('0:localhost') },
      { what: '-L with an empty bind address', args: forward(':0:h:1'), expect: badSpec(':0:h:1') },
      { what: '-L with too many parts', args: forward('a:b:c:d:e'), expect: badSpec('a:b:c:d:e') },
      { what: '-L remote port 0', args: forward('0:h:0'), expect: badSpec('0:h:0', 'the remote port must be between 1 and 65535') },
      { what: '-L local port 70000', args: forward('70000:h:1'), expect: badSpec('70000:h:1', 'the local port must be between 0 and 65535') },
      { what: '-L remote port 65536', args: forward('0:h:65536'), expect: badSpec('0:h:65536', 'the remote port must be between 1 and 65535') },
      { what: '-L local port -1', args: forward('-1:h:1'), expect: badSpec('-1:h:1') },
      { what: '-L with an unclosed bracket', args: forward('[::1:0:h:1'), expect: badSpec('[::1:0:h:1') },
      { what: '-L with empty brackets', args: forward('[]:0:h:1'), expect: notAHost('[]:0:h:1', '[]') },
      { what: '-L with a name in brackets (never looked up)', args: forward('[localhost]:0:h:1'), expect: notAHost('[localhost]:0:h:1', '[localhost]') },
      { what: '-L binding a name with a space', args: forward('no such:0:h:1'), expect: notAHost('no such:0:h:1', 'no such') },
      { what: '-L binding a name with a comma', args: forward('a,b:0:h:1'), expect: notAHost('a,b:0:h:1', 'a,b') },
      { what: '-L binding a bare number', args: forward('2222:0:h:1'), expect: notAHost('2222:0:h:1', '2222') },
      { what: '-L binding 999.1.1.1', args: forward('999.1.1.1:0:h:1'), expect: notAHost('999.1.1.1:0:h:1', '999.1.1.1') },
      { what: '-L binding *', args: forward('*:0:h:1'), expect: notAHost('*:0:h:1', '*') },
      { what: '-L binding a 300-character name', args: forward(`${'x'.repeat(300)}:0:h:1`), expect: notAHost(`${'x'.repeat(300)}:0:h:1`, 'x'.repeat(300)) },
      { what: '-L binding a 64-character label', args: forward(`${'x'.repeat(64)}.com:0:h:1`), expect: notAHost(`${'x'.repeat(64)}.com:0:h:1`, `${'x'.repeat(64)}.com`) },
      { what: '-L to a remote with a space', args: forward('0:a b:1'), expect: notAHost('0:a b:1', 'a b') },
      { what: '-L to a remote ../', args: forward('0:../etc:1'), expect: notAHost('0:../etc:1', '../etc') },
      { what: "--bind ''", args: service('--bind', ''), expect: bind('') },
      { what: '--bind with a space', args: service('--bind', 'no such host'), expect: bind('no such host') },
      { what: '--bind with a comma', args: service('--bind', 'a,b'), expect: bind('a,b') },
      { what: '--bind [::1 unclosed', args: service('--bind', '[::1'), expect: bind('[::1') },
      { what: '--bind [localhost] (brackets are for IPv6)', args: service('--bind', '[localhost]'), expect: bind('[localhost]') },
      { what: '--bind 999.1.1.1', args: service('--bind', '999.1.1.1'), expect: bind('999.1.1.1') },
      { what: '--local-port 70000', args: service('--local-port', '70000'), expect: { usage: "--local-port takes a port from 0 to 65535, not '70000'" } },
      { what: '--local-port abc', args: service('--local-port', 'abc'), expect: { usage: "--local-port takes a port from 0 to 65535, not 'abc'" } },
      { what: '--type nope', args: service('--type', 'nope'), expect: { usage: "--type takes postgres, mysql, redis, mongodb, not 'nope'" } },
      { what: '--credentials nope', args: service('--credentials', 'nope'), expect: { usage: "--credentials takes binding or key, not 'nope'" } },
      {
        what: '--no-client with a command',
        args: service('--no-client', '--', 'psql'),
        expect: { usage: 'The following arguments cannot be used together: --no-client, COMMAND' },
      },
      { what: 'connect-to-service -i x', args: service('-i', 'x'), expect: index('x') },
      {
        what: 'tunnel without -L or --service',
        args: ['tunnel', 'demo-app'],
        expect: { usage: 'tunnel needs at least one -L [BIND_ADDRESS:]LOCAL_PORT:REMOTE_HOST:REMOTE_PORT, or --service' },
      },
      {
        what: 'tunnel --show-password without --service',
        args: ['tunnel', 'demo-app', '-L', '0:h:1', '--show-password'],
        expect: { usage: '--show-password goes with --service' },
      },
      {
        what: 'tunnel --local-port without --service',
        args: ['tunnel', 'demo-app', '-L', '0:h:1', '--local-port', '5432'],
        expect: { usage: '--local-port goes with --service (an -L names its own local port)' },
      },
      {
        what: 'tunnel --service --local-port 70000',
        args: ['tunnel', 'db-app', '--service', 'pg', '--local-port', '70000'],
        expect: { usage: "--local-port takes a port from 0 to 65535, not '70000'" },
      },
      { what: 'login -a without its value', args: ['login', '-a'], expect: { usage: "expected argument for flag `-a'" } },
      {
        what: "login -a ''",
        args: ['login', '-a', '', '-u', 'u', '-p', 'p'],
        expect: { fails: line('The API endpoint is empty: give it with -a, e.g. -a https://api.example.com') },
      },
      {
        what: 'login -a that is no URL',
        args: ['login', '-a', 'http://[api', '-u', 'u', '-p', 'p'],
        expect: { fails: line("'http://[api' is not a valid API URL: use e.g. -a https://api.example.com") },
      },
      {
        what: 'login -a ftp://',
        args: ['login', '-a', 'ftp://api.example.com', '-u', 'u', '-p', 'p'],
        expect: { fails: line("'ftp://api.example.com' is not an http(s) URL: use e.g. -a https://api.example.com") },
      },
      {
        what: 'login -a with a comma in the host',
        args: ['login', '-a', 'http://a,b', '-u', 'u', '-p', 'p'],
        expect: { fails: line("'http://a,b' names no host: 'a,b' is not a host name or an IP address. Use e.g. -a https://api.example.com") },
      },
      {
        what: 'login -a with a bare number for a host (URL would make it 0.0.8.174)',
        args: ['login', '-a', 'http://2222', '-u', 'u', '-p', 'p'],
        expect: { fails: line("'http://2222' names no host: '2222' is not a host name or an IP address. Use e.g. -a https://api.example.com") },
      },
      { what: 'target -o without its value', args: ['target', '-o'], expect: { usage: "expected argument for flag `-o'" } },
      { what: 'enable-ssh without an app', args: ['enable-ssh'], expect: { usage: 'the required argument `APP_NAME` was not provided' } },
      { what: 'web-ssh --port 0', args: ['web-ssh', 'demo-app', '--port', '0'], expect: { usage: "--port takes a port from 1 to 65535, not '0'" } },
      { what: 'web-ssh --port past 65535', args: ['web-ssh', 'demo-app', '--port', '65536'], expect: { usage: "--port takes a port from 1 to 65535, not '65536'" } },
      {
        what: 'web-ssh --idle without a unit',
        args: ['web-ssh', 'demo-app', '--idle', '5'],
        expect: { usage: "--idle '5' is not a duration: give a whole number with s, m, h or d, such as 90s, 5m or 12h." },
      },
      { what: 'web-ssh --idle 0s', args: ['web-ssh', 'demo-app', '--idle', '0s'], expect: { usage: "--idle '0s' is no time at all: give at least 1s." } },
      { what: 'web-ssh --lifetime past 7 days', args: ['web-ssh', 'demo-app', '--lifetime', '7d1s'], expect: { usage: "--lifetime '7d1s' is longer than the 7 days it may be." } },
      { what: 'web-ssh of an app that does not exist', args: ['web-ssh', 'no-such-app', '--no-open'], expect: { fails: line("App 'no-such-app' not found.") } },
      {
        what: 'web-ssh of an app with SSH off',
        args: ['web-ssh', 'no-ssh-app', '--no-open'],
        expect: { fails: line("SSH is disabled for app 'no-ssh-app': a space developer can run 'cf-ssh-tools enable-ssh no-ssh-app'.") },
      },
    ],
    { home: () => developer },
  );

  it('remoteCommand takes a command of the limit and refuses one byte more, counting bytes, not characters', () => {
    assert.equal(remoteCommand('x'.repeat(MAX_COMMAND_BYTES)).length, MAX_COMMAND_BYTES);
    assert.throws(() => remoteCommand('é'.repeat(MAX_COMMAND_BYTES / 2 + 1)), { name: 'UsageError', message: /^Incorrect Usage: the command is 32752 bytes as sent/ });
  });
});

describe('names', () => {
  let foundation: Foundation;
  let developer: string;
  before(async () => {
    foundation = await startFoundation({ ssh: true, sshBackend: 'builtin' });
    developer = await loggedIn(foundation.url);
  });
  after(() => foundation.stop());

  const appNotFound = (name: string) => ({ fails: line(`App '${name}' not found.`) });
  const odd: [string, string][] = [
    ['a comma (two names to CC)', 'demo-app,stopped-app'],
    ['a quote', "it's"],
    ['double quotes', '"demo-app"'],
    ['unicode', 'ünïcödé-app'],
    ['an emoji', 'app-🚀'],
    ['../', '../demo-app'],
    ['a path up to the API', '../../v3/apps'],
    ['percent-encoding', '%2e%2e%2fdemo-app'],
    ['a query', 'demo-app?names=stopped-app'],
    ['a fragment', 'demo-app#x'],
    ['an ampersand', 'demo-app&space_guids=x'],
    ['a star', '*'],
    ['the name in capitals', 'DEMO-APP'],
    ['a trailing space', 'demo-app '],
    ['a space only', ' '],
    ['the empty name', ''],
    ['a 10,000-character name', 'x'.repeat(10_000)],
  ];

  table(
    [
      ...odd.map(([what, name]): Row => ({ what: `ssh-enabled: ${what}`, args: ['ssh-enabled', name], expect: appNotFound(name) })),
      { what: 'ssh-enabled: a newline, shown as typed', args: ['ssh-enabled', 'demo\napp'], expect: { fails: /^app' not found\.$/ } },
      { what: 'ssh-enabled: a NUL, shown visibly', args: ['ssh-enabled', 'demo\u0000app'], expect: appNotFound('demo\\x00app') },
      { what: 'ssh-enabled: an escape sequence, shown visibly', args: ['ssh-enabled', 'demo\u001b[2Japp'], expect: appNotFound('demo\\x1b[2Japp') },
      { what: 'ssh-enabled: a right-to-left override, shown visibly', args: ['ssh-enabled', 'demo\u202eppa'], expect: appNotFound('demo\\u202eppa') },
      {
        what: 'ssh-enabled: a name longer than a request line may be',
        args: ['ssh-enabled', 'x'.repeat(100_000)],
        expect: { fails: line('The Cloud Controller answered /v3/apps with HTTP 431.') },
      },
      { what: 'ssh: a comma', args: ['ssh', 'demo-app,stopped-app', '-c', 'true'], expect: appNotFound('demo-app,stopped-app') },
      { what: 'ssh: ../', args: ['ssh', '../demo-app', '-c', 'true'], expect: appNotFound('../demo-app') },
      { what: 'enable-ssh: a quote', args: ['enable-ssh', "it's"], expect: appNotFound("it's") },
      { what: 'ssh-code --openssh: ../', args: ['ssh-code', '--openssh', '../demo-app'], expect: appNotFound('../demo-app') },
      { what: 'target -o with a comma', args: ['target', '-o', 'demo-org,sandbox-org'], expect: { fails: line("Organization 'demo-org,sandbox-org' not found.") } },
      { what: 'target -o ../', args: ['target', '-o', '../demo-org'], expect: { fails: line("Organization '../demo-org' not found.") } },
      { what: 'target -s with a comma', args: ['target', '-s', 'demo-space,locked-space'], expect: { fails: line("Space 'demo-space,locked-space' not found.") } },
      { what: "target -s '' (as not given, as cf)", args: ['target', '-s', ''], expect: { works: /^space: +demo-space$/m } },
      { what: 'space-ssh-allowed: unicode', args: ['space-ssh-allowed', 'ëspace'], expect: { fails: line("Space 'ëspace' not found.") } },
      { what: 'allow-space-ssh: ../', args: ['allow-space-ssh', '../demo-space'], expect: { fails: line("Space '../demo-space' not found.") } },
      {
        what: 'connect-to-service: a service name with a comma',
        args: ['connect-to-service', 'demo-app', 'a,b', '--no-client'],
        expect: { fails: line("Service instance 'a,b' is not bound to app 'demo-app'.") },
      },
      {
        what: 'connect-to-service: a service name ../',
        args: ['connect-to-service', 'demo-app', '../x', '--no-client'],
        expect: { fails: line("Service instance '../x' is not bound to app 'demo-app'.") },
      },
      {
        what: 'connect-to-service --credentials key: a quote',
        args: ['connect-to-service', 'demo-app', "it's", '--credentials', 'key', '--no-client'],
        expect: { fails: line("Service instance 'it's' not found.") },
      },
      {
        what: 'login -o with a comma',
        args: ['login', '-a', '{api}', '-u', 'developer', '-p', 'developer-pass', '-o', 'a,b'],
        expect: { fails: line("Organization 'a,b' not found.") },
      },
      {
        what: 'login -u with unicode and a quote',
        args: ['login', '-a', '{api}', '-u', "ünï'code", '-p', 'x'],
        expect: { fails: line('Credentials were rejected, please try again.') },
      },
    ],
    { home: () => developer, vars: () => ({ api: foundation.url }) },
  );
});

describe('environment variables', () => {
  let foundation: Foundation;
  let developer: string;
  let closed: number;
  let folder: string;
  before(async () => {
    foundation = await startFoundation({ ssh: true, sshBackend: 'builtin' });
    developer = await loggedIn(foundation.url);
    closed = await freePort();
    folder = tempHome();
  });
  after(() => foundation.stop());

  const ssh = ['ssh', 'demo-app', '-c', 'true'];
  const api = ['ssh-enabled', 'demo-app'];
  const seconds = (variable: string, max: number, value: string): Row => ({
    what: `${variable}=${JSON.stringify(value)}`,
    args: ssh,
    env: { [variable]: value },
    expect: { fails: line(`${variable} must be a whole number of seconds from 1 to ${max}, not '${value}'.`) },
  });
  const notAProxy = (variable: string, value: string, why: string, args = ssh, shown = value): Row => ({
    what: `${variable}=${JSON.stringify(value)}`,
    args,
    env: { [variable]: value },
    expect: { fails: line(`${variable} '${shown}' is not a proxy URL: ${why}.`) },
  });
  const notAHost = (host: string) => `'${host}' is not a host name or an IP address`;
  const PORT_RANGE = 'its port must be from 1 to 65535';
  const refusedProxy =
    /^Cannot reach the proxy 127\.0\.0\.1:\d+ \(http_proxy\) on the way to http:\/\/127\.0\.0\.1:\d+: connection refused\. Check http_proxy, or add 127\.0\.0\.1 to no_proxy to go direct\.$/;

  table(
    [
      ...['abc', '0', '-1', '1e9', '2.5', '0x10', '3601', '5s', 'Infinity'].map((value) => seconds('CF_DIAL_TIMEOUT', 3600, value)),
      { what: 'CF_DIAL_TIMEOUT=" " (as unset)', args: ssh, env: { CF_DIAL_TIMEOUT: ' ' }, expect: { works: true } },
      { what: 'CF_DIAL_TIMEOUT=1', args: ssh, env: { CF_DIAL_TIMEOUT: '1' }, expect: { works: true } },
      ...['0', 'soon', '86401', '-5', '2147484'].map((value) => seconds('CF_SSH_TOOLS_KEEPALIVE_SECONDS', 86400, value)),
      { what: 'CF_SSH_TOOLS_KEEPALIVE_SECONDS=1', args: ssh, env: { CF_SSH_TOOLS_KEEPALIVE_SECONDS: '1' }, expect: { works: true } },
      notAProxy('all_proxy', 'socks5://127.0.0.1:99999', PORT_RANGE),
      notAProxy('all_proxy', 'socks5://127.0.0.1:0', PORT_RANGE),
      notAProxy('ALL_PROXY', 'SOCKS5://127.0.0.1:99999', PORT_RANGE),
      notAProxy('all_proxy', 'socks5://', 'it names no host'),
      notAProxy('all_proxy', 'socks5://:1080', 'it names no host'),
      notAProxy('all_proxy', 'socks5://no such host:1080', notAHost('no such host')),
      notAProxy('all_proxy', 'socks5://a,b:1080', notAHost('a,b')),
      notAProxy('all_proxy', 'socks5://[::1', notAHost('[::1')),
      notAProxy('all_proxy', 'socks5h://[localhost]:1080', notAHost('[localhost]')),
      notAProxy('all_proxy', 'socks5://me:p%ZZ@127.0.0.1:1080', 'its user name or password is not percent-encoded', ssh, 'socks5://me:***@127.0.0.1:1080'),
      {
        what: 'all_proxy to a closed port',
        args: ssh,
        env: { all_proxy: 'socks5://127.0.0.1:{closed}' },
        expect: {
          fails: /^Cannot reach the SSH endpoint 127\.0\.0\.1:\d+ through the SOCKS5 proxy 127\.0\.0\.1:\d+: connect ECONNREFUSED 127\.0\.0\.1:\d+\. Check the proxy setting\.$/,
        },
      },
      { what: 'all_proxy http:// (not cf’s: unused)', args: ssh, env: { all_proxy: 'http://127.0.0.1:{closed}' }, expect: { works: true } },
      { what: 'all_proxy garbage (not cf’s: unused)', args: ssh, env: { all_proxy: 'garbage, not a URL' }, expect: { works: true } },
      { what: 'a bad all_proxy that no_proxy skips', args: ssh, env: { all_proxy: 'socks5://127.0.0.1:99999', no_proxy: '127.0.0.1' }, expect: { works: true } },
      notAProxy('http_proxy', 'http://127.0.0.1:99999', PORT_RANGE, api),
      notAProxy('HTTP_PROXY', 'http://127.0.0.1:99999', PORT_RANGE, api),
      notAProxy('http_proxy', 'garbage value', notAHost('garbage value'), api),
      notAProxy('http_proxy', 'http://', 'it names no host', api),
      notAProxy('http_proxy', '://x', 'it does not parse', api),
      notAProxy('http_proxy', 'ftp://127.0.0.1:21', 'cf-ssh-tools takes http:// or https:// there', api),
      notAProxy('http_proxy', 'socks5://127.0.0.1:1080', 'cf-ssh-tools takes http:// or https:// there', api),
      notAProxy('http_proxy', 'http://me:p%ZZ@127.0.0.1:1', 'its user name or password is not percent-encoded', api, 'http://me:***@127.0.0.1:1'),
      notAProxy('http_proxy', 'http://[::1', notAHost('[::1'), api),
      notAProxy('http_proxy', 'http://a,b:3128', notAHost('a,b'), api),
      notAProxy('http_proxy', 'http://2222.', notAHost('2222.'), api),
      { what: 'http_proxy to a closed port', args: api, env: { http_proxy: 'http://127.0.0.1:{closed}' }, expect: { fails: refusedProxy } },
      { what: 'http_proxy without a scheme, to a closed port', args: api, env: { http_proxy: '127.0.0.1:{closed}' }, expect: { fails: refusedProxy } },
      { what: 'http_proxy to a closed port, no_proxy garbage', args: api, env: { http_proxy: 'http://127.0.0.1:{closed}', no_proxy: ',, ,;' }, expect: { fails: refusedProxy } },
      { what: 'a bad http_proxy that no_proxy skips', args: api, env: { http_proxy: 'http://127.0.0.1:99999', no_proxy: '127.0.0.1' }, expect: { works: true } },
      { what: 'a bad http_proxy, no_proxy *', args: api, env: { http_proxy: 'garbage value', no_proxy: '*' }, expect: { works: true } },
      { what: 'https_proxy does not serve an http:// API', args: api, env: { https_proxy: 'http://127.0.0.1:99999' }, expect: { works: true } },
      notAProxy('https_proxy', 'http://127.0.0.1:99999', PORT_RANGE),
      {
        what: 'https_proxy to a closed port, for the SSH dial',
        args: ssh,
        env: { https_proxy: 'http://127.0.0.1:{closed}' },
        expect: { fails: /^Cannot reach the SSH endpoint 127\.0\.0\.1:\d+ through the HTTP proxy 127\.0\.0\.1:\d+: connection refused\. Check the proxy setting\.$/ },
      },
      {
        what: 'CF_TRACE to a missing folder',
        args: api,
        env: { CF_TRACE: '/nonexistent/dir/trace' },
        expect: { fails: line('Cannot write the CF_TRACE file /nonexistent/dir/trace: no such file or directory.') },
      },
      { what: 'CF_TRACE to a folder', args: api, env: { CF_TRACE: '{folder}' }, expect: { fails: /^Cannot write the CF_TRACE file \/.+: illegal operation on a directory\.$/ } },
      { what: 'CF_TRACE=true', args: api, env: { CF_TRACE: 'true' }, expect: { works: /^REQUEST: \[/m } },
      { what: 'CF_TRACE=FALSE', args: api, env: { CF_TRACE: 'FALSE' }, expect: { works: /^ssh support is enabled for app 'demo-app'\.\n$/ } },
      {
        what: 'HOME and CF_HOME a missing folder',
        args: api,
        env: { HOME: '/nonexistent', CF_HOME: '/nonexistent' },
        expect: { fails: line("No API endpoint set. Use 'cf-ssh-tools login -a API_URL' to set one.") },
      },
      {
        what: 'CF_HOME a file',
        args: api,
        env: { CF_HOME: '/dev/null', CF_SSH_TOOLS_HOME: '/dev/null' },
        expect: { fails: line("Cannot use CF_HOME=/dev/null for cf's config: cannot read /dev/null/.cf/config.json (not a directory).") },
      },
      { what: 'CF_SSH_TOOLS_NO_KEYCHAIN=maybe', args: api, env: { CF_SSH_TOOLS_NO_KEYCHAIN: 'maybe' }, expect: { works: true } },
    ],
    { home: () => developer, vars: () => ({ closed: String(closed), folder }) },
  );
});

describe("cf's config.json", () => {
  let foundation: Foundation;
  let config: Record<string, unknown>;
  before(async () => {
    foundation = await startFoundation({ ssh: false });
    const { access_token, refresh_token } = await passwordGrant(foundation.url, 'developer', 'developer-pass');
    config = cfConfigFor(foundation, { AccessToken: `bearer ${access_token}`, RefreshToken: refresh_token });
  });
  after(() => foundation.stop());

  /** A home whose .cf/config.json holds `text`. */
  const withText = (text: string) => () => {
    const home = tempHome();
    mkdirSync(path.join(home, '.cf'));
    writeFileSync(path.join(home, '.cf', 'config.json'), text);
    return home;
  };
  /** A home whose config.json is the logged-in one with `fields` changed. */
  const withFields = (fields: Record<string, unknown>) => () => withText(JSON.stringify({ ...config, ...fields }))();
  const notJson = { fails: /^\/.+\/\.cf\/config\.json is not valid JSON\. Fix or remove it, then log in again\.$/ };
  const noApi = { fails: line("No API endpoint set. Use 'cf-ssh-tools login -a API_URL' to set one.") };
  const wrongField = (problem: string) => ({ fails: new RegExp(`^/.+/\\.cf/config\\.json: ${problem}\\. Fix or remove it, then log in again\\.$`) });
  const args = ['ssh-enabled', 'demo-app'];
  const enabled = /^ssh support is enabled for app 'demo-app'\.$/m;

  const rows: Row[] = [
    { what: 'an empty file', args, home: withText(''), expect: notJson },
    { what: 'cut-off JSON', args, home: withText('{"ConfigVersion": 4, "Target": "htt'), expect: notJson },
    { what: 'JSON after a byte-order mark', args, home: withText(`\ufeff${JSON.stringify({ ConfigVersion: 4 })}`), expect: notJson },
    { what: 'binary garbage', args, home: withText('\u0000\u0001\u0002PK\u0003\u0004'), expect: notJson },
    { what: 'null', args, home: withText('null'), expect: noApi },
    { what: 'a list', args, home: withText('[]'), expect: noApi },
    { what: 'a string', args, home: withText('"x"'), expect: noApi },
    { what: 'a number', args, home: withText('5'), expect: noApi },
    { what: 'an empty object', args, home: withText('{}'), expect: noApi },
    { what: 'ConfigVersion 3', args, home: withFields({ ConfigVersion: 3 }), expect: noApi },
    { what: 'ConfigVersion "4"', args, home: withFields({ ConfigVersion: '4' }), expect: noApi },
    { what: 'no Target', args, home: withFields({ Target: undefined }), expect: noApi },
    { what: 'Target ""', args, home: withFields({ Target: '' }), expect: noApi },
    {
      what: 'Target with a comma in the host',
      args,
      home: withFields({ Target: 'http://a,b' }),
      expect: { fails: line("Cannot reach http://a,b: 'a,b' is not a host name or an IP address. Check the API URL.") },
    },
    { what: 'Target a number', args, home: withFields({ Target: 5 }), expect: wrongField('Target is 5, not a string') },
    { what: 'Target no URL', args, home: withFields({ Target: 'not a url' }), expect: { fails: line("The API endpoint 'not a url' is not a URL: log in again with -a API_URL.") } },
    {
      what: 'Target ftp://',
      args,
      home: withFields({ Target: 'ftp://api.example.com' }),
      expect: { fails: line('Cannot reach ftp://api.example.com: ftp:// is not http:// or https://. Check the API URL.') },
    },
    {
      what: 'AuthorizationEndpoint no URL, needed',
      args,
      home: withFields({ AccessToken: '', AuthorizationEndpoint: 'uaa here' }),
      expect: { fails: line("Cannot reach 'uaa here/oauth/token': it is not a URL. Check the API URL.") },
    },
    { what: 'AccessToken a number', args, home: withFields({ AccessToken: 5 }), expect: wrongField('AccessToken is 5, not a string') },
    {
      what: 'AccessToken an object: its contents unsaid',
      args,
      home: withFields({ AccessToken: { token: 'eyJsecret' } }),
      expect: wrongField('AccessToken is an object, not a string'),
    },
    { what: 'AccessToken null (refreshed)', args, home: withFields({ AccessToken: null }), expect: { works: enabled } },
    { what: 'AccessToken no JWT (refreshed)', args, home: withFields({ AccessToken: 'bearer garbage' }), expect: { works: enabled } },
    { what: 'RefreshToken an object', args, home: withFields({ RefreshToken: {} }), expect: wrongField('RefreshToken is an object, not a string') },
    {
      what: 'RefreshToken a number, needed',
      args,
      home: withFields({ AccessToken: '', RefreshToken: 5 }),
      expect: wrongField('RefreshToken is 5, not a string'),
    },
    {
      what: 'OrganizationFields a string',
      args,
      home: withFields({ OrganizationFields: 'demo-org' }),
      expect: { fails: line("No org targeted, use 'cf-ssh-tools target -o ORG' to target an org.") },
    },
    {
      what: 'OrganizationFields null',
      args,
      home: withFields({ OrganizationFields: null }),
      expect: { fails: line("No org targeted, use 'cf-ssh-tools target -o ORG' to target an org.") },
    },
    {
      what: 'SpaceFields null',
      args,
      home: withFields({ SpaceFields: null }),
      expect: { fails: line("No space targeted, use 'cf-ssh-tools target -s SPACE' to target a space.") },
    },
    {
      what: 'SpaceFields of a space that is gone',
      args,
      home: withFields({ SpaceFields: { GUID: 'gone', Name: 'old-space' } }),
      expect: { fails: line("App 'demo-app' not found.") },
    },
    {
      what: 'SpaceFields.GUID a number',
      args,
      home: withFields({ SpaceFields: { GUID: 5, Name: 'demo-space' } }),
      expect: wrongField('SpaceFields.GUID is 5, not a string'),
    },
    { what: 'SSLDisabled "yes"', args, home: withFields({ SSLDisabled: 'yes' }), expect: wrongField('SSLDisabled is a string, not true or false') },
    { what: 'UaaEndpoint a number', args, home: withFields({ UaaEndpoint: 7 }), expect: wrongField('UaaEndpoint is 7, not a string') },
    { what: 'SSHOAuthClient a list', args, home: withFields({ SSHOAuthClient: [] }), expect: wrongField('SSHOAuthClient is a list, not a string') },
    { what: 'Trace a number', args, home: withFields({ Trace: 5 }), expect: wrongField('Trace is 5, not a string') },
    { what: 'Trace "true"', args, home: withFields({ Trace: 'true' }), expect: { works: /^REQUEST: \[/m } },
    { what: 'fields cf-ssh-tools does not know', args, home: withFields({ PluginRepos: [{}], ColorEnabled: 7, Locale: null }), expect: { works: enabled } },
    {
      what: 'config.json a folder',
      args,
      home: () => {
        const home = tempHome();
        mkdirSync(path.join(home, '.cf', 'config.json'), { recursive: true });
        return home;
      },
      expect: { fails: /^Cannot use CF_HOME=\/.+ for cf's config: cannot read \/.+\/\.cf\/config\.json \(illegal operation on a directory\)\.$/ },
    },
  ];
  table(rows, { home: () => tempHome() });
});

describe('VCAP_SERVICES and credentials', () => {
  let foundation: Foundation;
  let developer: string;
  let service: Awaited<ReturnType<typeof echoServer>>;
  let closed: number;
  before(async () => {
    foundation = await startFoundation({ ssh: true, sshBackend: 'builtin' });
    const space = foundation.world.spaces.find((s) => s.name === 'demo-space');
    assert.ok(space);
    foundation.world.addApp(space, 'db-app');
    service = await echoServer();
    closed = await freePort();
    developer = await loggedIn(foundation.url);
  });
  after(async () => {
    service.close();
    await foundation.stop();
  });

  /** The app's VCAP_SERVICES for one row, made from the echo server's port (an own property over the world's method, deleted after). */
  const vcap = (make: (port: number) => unknown) => () => {
    foundation.world.vcapServices = async () => make(service.port) as Record<string, unknown[]>;
  };
  const pg = (port: number, fields: Record<string, unknown> = {}) => ({
    name: 'pg',
    label: 'postgres',
    tags: ['postgres'],
    credentials: { host: '127.0.0.1', port, username: 'u', password: 'p', name: 'db', ...fields },
  });
  const connect = (...args: string[]) => ['connect-to-service', 'db-app', 'pg', ...args, '--', 'fake-client'];
  const notBound = { fails: line("Service instance 'pg' is not bound to app 'db-app'.") };
  const noHostPort = (fields: string) => ({ fails: line(`Service instance 'pg' has no host and port in its credentials (fields: ${fields}): there is nothing to tunnel to.`) });
  const row = (what: string, make: (port: number) => unknown, expect: Outcome, extra: Partial<Row> = {}): Row => ({
    what,
    args: connect(),
    program: 'fake-client',
    arrange: vcap(make),
    expect,
    ...extra,
  });

  table(
    [
      row('a good entry', (port) => ({ postgres: [pg(port)] }), { works: true }),
      row('VCAP_SERVICES null', () => null, notBound),
      row('VCAP_SERVICES a string', () => 'postgres', notBound),
      row('VCAP_SERVICES a list', (port) => [pg(port)], notBound),
      row('a label that is not a list', (port) => ({ postgres: pg(port) }), notBound),
      row('a null entry before the good one', (port) => ({ postgres: [null, pg(port)] }), { works: true }),
      row('a number among the entries', (port) => ({ postgres: [5, pg(port)] }), { works: true }),
      row('an entry without a name', (port) => ({ postgres: [{ ...pg(port), name: undefined }] }), notBound),
      row('a name that is a number', (port) => ({ postgres: [{ ...pg(port), name: 7 }] }), {
        fails: line("Service instance 'pg' is not bound to app 'db-app'. It is bound to: 7."),
      }),
      row('credentials null', () => ({ postgres: [{ name: 'pg', credentials: null }] }), notBound),
      row('credentials a string', () => ({ postgres: [{ name: 'pg', credentials: 'postgres://u:p@127.0.0.1/db' }] }), notBound),
      row('credentials a list', () => ({ postgres: [{ name: 'pg', credentials: [] }] }), notBound),
      row('credentials without host and port', () => ({ postgres: [{ name: 'pg', credentials: { username: 'u' } }] }), noHostPort('username')),
      row('credentials empty', () => ({ postgres: [{ name: 'pg', credentials: {} }] }), noHostPort('none')),
      row('a port out of range', (port) => ({ postgres: [pg(port, { port: 70_000 })] }), noHostPort('host, port, username, password, name')),
      row('a port that is no number', (port) => ({ postgres: [pg(port, { port: 'abc' })] }), noHostPort('host, port, username, password, name')),
      row('a port of 0', (port) => ({ postgres: [pg(port, { port: '0' })] }), noHostPort('host, port, username, password, name')),
      row('a uri that does not parse', () => ({ postgres: [{ name: 'pg', credentials: { uri: 'postgres://[::1' } }] }), noHostPort('uri')),
      row('hosts with a null', (port) => ({ postgres: [{ name: 'pg', credentials: { hosts: [null], port } }] }), noHostPort('hosts, port')),
      row('tags a string, label and plan numbers', (port) => ({ postgres: [{ ...pg(port), tags: 'postgres', label: 5, plan: 7 }] }), { works: true }),
      row('found by instance_name', (port) => ({ postgres: [{ ...pg(port), name: 'binding-name', instance_name: 'pg' }] }), { works: true }),
      row(
        'five thousand entries, the good one last',
        (port) => ({ other: Array.from({ length: 5000 }, (_, i) => ({ name: `s${i}`, credentials: { host: 'h', port: 1 } })), postgres: [pg(port)] }),
        { works: true },
      ),
      row('two entries of that name, the first without a host', (port) => ({ postgres: [{ name: 'pg', credentials: { user: 'u' } }, pg(port)] }), {
        fails: line("'pg' names more than one service bound to app 'db-app': service instance 'pg'; service instance 'pg'. Give a name only one of them has."),
      }),
      row('a CredHub reference with no binding in CC', () => ({ postgres: [{ name: 'pg', credentials: { 'credhub-ref': '/c/pg' } }] }), {
        fails: line("Service instance 'pg' is not bound to app 'db-app'. It is bound to: pg."),
      }),
      row('a closed port', () => ({ postgres: [pg(closed)] }), { fails: /^The service at 127\.0\.0\.1:\d+ cannot be reached from db-app\/0: / }),
      row('--type redis for postgres credentials', (port) => ({ postgres: [pg(port)] }), { works: true }, { args: connect('--type', 'redis') }),
      row('--bind 0.0.0.0', (port) => ({ postgres: [pg(port)] }), { works: true }, { args: connect('--bind', '0.0.0.0', '--allow-remote') }),
      row('--bind localhost', (port) => ({ postgres: [pg(port)] }), { works: true }, { args: connect('--bind', 'localhost') }),
      row('--bind ::1', (port) => ({ postgres: [pg(port)] }), { works: true }, { args: connect('--bind', '::1') }),
      row('--bind [::1] (brackets: never looked up)', (port) => ({ postgres: [pg(port)] }), { works: true }, { args: connect('--bind', '[::1]') }),
      row('--bind ::', (port) => ({ postgres: [pg(port)] }), { works: true }, { args: connect('--bind', '::', '--allow-remote') }),
      row(
        'a program that is not there',
        (port) => ({ postgres: [pg(port)] }),
        { fails: line('./missing-program cannot be run: there is no such file, or it is not executable.') },
        {
          args: ['connect-to-service', 'db-app', 'pg', '--', './missing-program'],
          program: undefined,
        },
      ),
      row(
        'TMPDIR a missing folder',
        (port) => ({ postgres: [pg(port)] }),
        { fails: line('Cannot use TMPDIR=/nonexistent/tmp for temporary files: cannot create a folder in /nonexistent/tmp (no such file or directory).') },
        { env: { TMPDIR: '/nonexistent/tmp' } },
      ),
    ],
    { home: () => developer, reset: () => Reflect.deleteProperty(foundation.world, 'vcapServices') },
  );
});

/** An answer the rewriting proxy gives instead of the foundation's. */
interface Answer {
  /** "METHOD /path", a `:name` segment standing for any one segment. */
  route: string;
  status?: number;
  headers?: Record<string, string>;
  /** The body as sent (a string), as JSON (anything else), or made from the foundation's own JSON answer. */
  body?: unknown;
  from?: (upstream: unknown) => unknown;
}

/**
 * A proxy in front of the foundation that passes every request on, with the foundation's URL
 * in its answers turned into its own (so that UAA is reached through it too), and gives the
 * first of `answers` whose route matches instead.
 */
async function rewritingProxy(target: string): Promise<{ url: string; answers: Answer[]; close(): Promise<void> }> {
  const upstream = new URL(target);
  const matches = (answer: Answer, method: string, pathname: string) => {
    const [wanted, pattern = ''] = answer.route.split(' ');
    const segments = pattern.split('/');
    const actual = pathname.split('/');
    return wanted === method && actual.length === segments.length && segments.every((s, i) => (s.startsWith(':') ? actual[i] !== '' : s === actual[i]));
  };
  const server = http.createServer((req, res) => {
    const body: Buffer[] = [];
    req.on('data', (chunk: Buffer) => body.push(chunk));
    req.on('end', () => {
      const forward = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
        const chunks: Buffer[] = [];
        up.on('data', (chunk: Buffer) => chunks.push(chunk));
        up.on('end', () => {
          const own = (text: string) => text.replaceAll(target, state.url);
          const text = own(Buffer.concat(chunks).toString());
          const headers: Record<string, string> = {};
          for (const [key, value] of Object.entries(up.headers))
            if (typeof value === 'string' && !/^(content-length|transfer-encoding|connection)$/i.test(key)) headers[key] = own(value);
          const pathname = new URL(req.url ?? '/', state.url).pathname;
          const answer = state.answers.find((a) => matches(a, req.method ?? '', pathname));
          if (!answer) {
            res.writeHead(up.statusCode ?? 502, headers);
            res.end(text);
            return;
          }
          const replaced = answer.from ? answer.from(JSON.parse(text)) : 'body' in answer ? answer.body : text;
          if ('body' in answer || answer.from) headers['content-type'] = 'application/json';
          for (const [key, value] of Object.entries(answer.headers ?? {})) headers[key.toLowerCase()] = value;
          res.writeHead(answer.status ?? up.statusCode ?? 200, headers);
          res.end(typeof replaced === 'string' ? replaced : JSON.stringify(replaced));
        });
      });
      // A run that ends with a request still in flight (its look-ups go out together) closes connections mid-answer.
      forward.on('error', () => res.destroy());
      forward.end(Buffer.concat(body));
    });
    req.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const state = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    answers: [] as Answer[],
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  return state;
}

describe('Cloud Controller and UAA answers', () => {
  let foundation: Foundation;
  let proxy: Awaited<ReturnType<typeof rewritingProxy>>;
  let developer: string;
  let closed: number;
  before(async () => {
    foundation = await startFoundation({ ssh: true, sshBackend: 'builtin' });
    proxy = await rewritingProxy(foundation.url);
    developer = await loggedIn(proxy.url);
    closed = await freePort();
  });
  after(async () => {
    await proxy.close();
    await foundation.stop();
  });

  const enabled = ['ssh-enabled', 'demo-app'];
  const ssh = ['ssh', 'demo-app', '-c', 'true'];
  const login = ['login', '-a', '{api}', '-u', 'developer', '-p', 'developer-pass', '-o', 'demo-org', '-s', 'demo-space'];
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  /** The one line an answer to `request` (its path a pattern) that cf-ssh-tools cannot read comes to. */
  const unreadable = (request: string, problem: string, server = "The Cloud Controller's") => ({
    fails: new RegExp(`^${escape(server)} answer to ${escape(request).replaceAll(':guid', '[\\w-]+')} is not what cf-ssh-tools understands: ${problem}\\.$`),
  });
  const apps = (problem: string) => unreadable('GET /v3/apps', problem);
  const token = (problem: string) => unreadable('POST /uaa/oauth/token', problem, "UAA's");
  /** A row whose run meets `answer` (or these answers). */
  const row = (what: string, args: string[], answer: Answer | Answer[], expect: Outcome, extra: Partial<Row> = {}): Row => ({
    what,
    args,
    arrange: () => void (proxy.answers = [answer].flat()),
    expect,
    ...extra,
  });
  const appsList = (what: string, answer: Omit<Answer, 'route'>, expect: Outcome) => row(`GET /v3/apps: ${what}`, enabled, { route: 'GET /v3/apps', ...answer }, expect);
  const page = (resources: unknown, more: Record<string, unknown> = {}) => ({ body: { pagination: { next: null }, resources, ...more } });
  const sshEnabled = (body: unknown, expect: Outcome) =>
    row(`GET /v3/apps/:guid/ssh_enabled: ${JSON.stringify(body)}`, enabled, { route: 'GET /v3/apps/:guid/ssh_enabled', body }, expect);
  const processes = (what: string, body: unknown, expect: Outcome) => row(`GET /v3/apps/:guid/processes: ${what}`, ssh, { route: 'GET /v3/apps/:guid/processes', body }, expect);
  const stats = (what: string, body: unknown, expect: Outcome) => row(`GET /v3/processes/:guid/stats: ${what}`, ssh, { route: 'GET /v3/processes/:guid/stats', body }, expect);
  const statsUnreadable = (problem: string) => unreadable('GET /v3/processes/:guid/stats', problem);
  /** The root with links.app_ssh changed. */
  const appSsh = (what: string, change: (appSsh: Record<string, unknown>) => unknown, expect: Outcome) =>
    row(
      `GET /: app_ssh ${what}`,
      ssh,
      {
        route: 'GET /',
        from: (root) => {
          const { links } = root as { links: Record<string, Record<string, unknown>> };
          return { links: { ...links, app_ssh: change({ ...links.app_ssh }) } };
        },
      },
      expect,
    );
  const withHref = (href: unknown) => (link: Record<string, unknown>) => ({ ...link, href });
  const notHostPort = (href: string, why = '') => ({ fails: line(`The API root's app_ssh link '${href}' is not HOST:PORT${why}.`) });
  const noCode = { fails: line('Authorization server did not redirect with one time code') };
  const tokenRow = (what: string, answer: Omit<Answer, 'route'>, expect: Outcome) =>
    row(`POST /uaa/oauth/token: ${what}`, login, { route: 'POST /uaa/oauth/token', ...answer }, expect, { home: () => tempHome() });
  const html = { status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: '<html><body><h1>Sign in to continue</h1></body></html>' };
  const running = { type: 'web', index: 0, state: 'RUNNING' };

  table(
    [
      appsList('an HTML page', html, apps('the body is not JSON \\(Content-Type: text/html\\)')),
      appsList('cut-off JSON', { body: '{"resources":[{"guid":"a' }, apps('the body is not valid JSON \\(.+\\)')),
      appsList('an empty body', { body: '' }, apps('the body is empty')),
      appsList('null', { body: null }, apps('the body is null, not an object')),
      appsList('a list', { body: [] }, apps('the body is a list, not an object')),
      appsList('an empty object', { body: {} }, apps('resources is missing')),
      appsList('resources a number', { body: { resources: 5 } }, apps('resources is 5, not a list')),
      appsList('resources an object', { body: { resources: {} } }, apps('resources is an object, not a list')),
      appsList('resources a string', { body: { resources: 'demo-app' } }, apps('resources is a string, not a list')),
      appsList('a null resource', page([null]), apps('resources\\[0\\] is null, not an object')),
      appsList('a resource without a guid', page([{ name: 'demo-app', state: 'STARTED' }]), apps('resources\\[0\\]\\.guid is missing')),
      appsList('a guid that is a number', page([{ guid: 5, name: 'demo-app', state: 'STARTED' }]), apps('resources\\[0\\]\\.guid is 5, not a string')),
      appsList('a name that is null', page([{ guid: 'g', name: null, state: 'STARTED' }]), apps('resources\\[0\\]\\.name is null, not a string')),
      appsList('a state that is true', page([{ guid: 'g', name: 'demo-app', state: true }]), apps('resources\\[0\\]\\.state is true, not a string')),
      appsList('pagination.next a number', page([], { pagination: { next: 5 } }), apps('pagination\\.next is 5, not an object')),
      appsList('pagination.next.href a number', page([], { pagination: { next: { href: 7 } } }), apps('pagination\\.next\\.href is 7, not a string')),
      appsList('pagination.next no URL', page([], { pagination: { next: { href: 'http://[api' } } }), {
        fails: line("The Cloud Controller pointed to 'http://[api', which is not a URL: not followed."),
      }),
      appsList('HTTP 500 with an HTML page', { ...html, status: 500 }, { fails: line('The Cloud Controller answered /v3/apps with HTTP 500.') }),
      appsList('HTTP 404 whose errors are null', { status: 404, body: { errors: [null] } }, { fails: line('The Cloud Controller answered /v3/apps with HTTP 404.') }),
      appsList(
        'HTTP 422 with a null error and one that says why',
        { status: 422, body: { errors: [null, { code: 10008, title: 'CF-UnprocessableEntity', detail: 'Bad name' }] } },
        { fails: line('Bad name') },
      ),
      appsList('HTTP 400 whose errors are a string', { status: 400, body: { errors: 'no' } }, { fails: line('The Cloud Controller answered /v3/apps with HTTP 400.') }),
      appsList(
        'HTTP 403 whose error has no text',
        { status: 403, body: { errors: [{ code: 'x', title: 5, detail: ['a'] }] } },
        {
          fails: line('You are not authorized to perform the requested action'),
        },
      ),
      row(
        'GET /v3/apps: extra fields everywhere',
        enabled,
        {
          route: 'GET /v3/apps',
          from: (body) => ({ ...(body as object), included: { x: [1] }, resources: (body as { resources: object[] }).resources.map((r) => ({ ...r, future: { field: null } })) }),
        },
        {
          works: /^ssh support is enabled for app 'demo-app'\.$/m,
        },
      ),
      row('GET /v3/apps: pagination null', enabled, { route: 'GET /v3/apps', from: (body) => ({ ...(body as object), pagination: null }) }, { works: true }),
      row('X-Cf-Warnings cut off (%E0%A4%A), shown as it came', enabled, { route: 'GET /v3/apps', headers: { 'X-Cf-Warnings': '%E0%A4%A' } }, { works: /^%E0%A4%A$/m }),
      row('X-Cf-Warnings: two, encoded', enabled, { route: 'GET /v3/apps', headers: { 'X-Cf-Warnings': 'first%20one, %E2%9C%93+done' } }, { works: /^first one\n✓ done$/m }),
      row(
        'X-Cf-Warnings: an escape sequence, shown visibly',
        enabled,
        { route: 'GET /v3/apps', headers: { 'X-Cf-Warnings': '%1B%5B2Jcleared' } },
        { works: /^\\x1b\[2Jcleared$/m },
      ),
      row('X-Cf-Warnings: a lone %', enabled, { route: 'GET /v3/apps', headers: { 'X-Cf-Warnings': 'half%,%ZZ' } }, { works: /^half%\n%ZZ$/m }),
      row('X-Cf-Warnings: commas only', enabled, { route: 'GET /v3/apps', headers: { 'X-Cf-Warnings': ',, ,' } }, { works: /^ssh support is enabled/ }),
      sshEnabled({ enabled: 'yes', reason: '' }, unreadable('GET /v3/apps/:guid/ssh_enabled', 'enabled is a string, not true or false')),
      sshEnabled({ enabled: true }, unreadable('GET /v3/apps/:guid/ssh_enabled', 'reason is missing')),
      sshEnabled({ enabled: false, reason: 7 }, unreadable('GET /v3/apps/:guid/ssh_enabled', 'reason is 7, not a string')),
      sshEnabled([], unreadable('GET /v3/apps/:guid/ssh_enabled', 'the body is a list, not an object')),
      row(
        'GET /v3/apps/:guid/features/ssh: enabled null',
        enabled,
        { route: 'GET /v3/apps/:guid/features/ssh', body: { name: 'ssh', enabled: null } },
        unreadable('GET /v3/apps/:guid/features/ssh', 'enabled is null, not true or false'),
      ),
      row(
        'GET /v3/spaces/:guid/features/ssh: HTTP 404 HTML (not readable: left out)',
        enabled,
        { route: 'GET /v3/spaces/:guid/features/ssh', ...html, status: 404 },
        { works: /^ssh support is enabled/ },
      ),
      row(
        'PATCH /v3/apps/:guid/features/ssh: {}',
        ['enable-ssh', 'demo-app'],
        { route: 'PATCH /v3/apps/:guid/features/ssh', body: {} },
        unreadable('PATCH /v3/apps/:guid/features/ssh', 'enabled is missing'),
      ),
      processes(
        'a type that is a number',
        { resources: [{ guid: 'x', type: 5, instances: 1 }] },
        unreadable('GET /v3/apps/:guid/processes', 'resources\\[0\\]\\.type is 5, not a string'),
      ),
      processes(
        'instances 1.5',
        { resources: [{ guid: 'x', type: 'web', instances: 1.5 }] },
        unreadable('GET /v3/apps/:guid/processes', 'resources\\[0\\]\\.instances is 1\\.5, not a whole number'),
      ),
      processes('none', { resources: [] }, { fails: line('Process web not found.') }),
      stats('a null instance', { resources: [null] }, statsUnreadable('resources\\[0\\] is null, not an object')),
      stats('resources null', { resources: null }, statsUnreadable('resources is null, not a list')),
      stats('an index that is a string', { resources: [{ ...running, index: '0' }] }, statsUnreadable('resources\\[0\\]\\.index is a string, not a whole number')),
      stats('a state that is a number', { resources: [{ ...running, state: 5 }] }, statsUnreadable('resources\\[0\\]\\.state is 5, not a string')),
      stats('usage.cpu a string', { resources: [{ ...running, usage: { cpu: 'high' } }] }, statsUnreadable('resources\\[0\\]\\.usage\\.cpu is a string, not a number')),
      stats('CRASHED, details null', { resources: [{ ...running, state: 'CRASHED', details: null }] }, { fails: line('Instance 0 of process web not running: it is CRASHED.') }),
      stats('nulls where CC has nothing to say', { resources: [{ ...running, uptime: null, mem_quota: null, usage: null, details: null }] }, { works: true }),
      stats('none', { resources: [] }, { fails: line('Instance 0 of process web not found: demo-app has 0 web instances (none are valid).') }),
      appSsh('a bare number', withHref('2222'), notHostPort('2222', ": '2222' is not a host name or an IP address")),
      appSsh('a name with spaces', withHref('no such host:2222'), notHostPort('no such host:2222', ": 'no such host' is not a host name or an IP address")),
      appSsh('a port out of range', withHref('ssh.example.com:99999'), notHostPort('ssh.example.com:99999', ': its port must be from 1 to 65535')),
      appSsh('a port that is no number', withHref('ssh.example.com:abc'), notHostPort('ssh.example.com:abc')),
      appSsh('a URL', withHref('ssh://ssh.example.com:2222'), notHostPort('ssh://ssh.example.com:2222')),
      appSsh('a path', withHref('ssh.example.com:2222/x'), notHostPort('ssh.example.com:2222/x')),
      appSsh('a name in brackets', withHref('[ssh.example.com]:2222'), notHostPort('[ssh.example.com]:2222', ": '[ssh.example.com]' is not a host name or an IP address")),
      appSsh('empty', withHref(''), { fails: line('SSH endpoint not set') }),
      appSsh('null', () => null, { fails: line('SSH endpoint not set') }),
      appSsh('a number', withHref(5), unreadable('GET /', 'links\\.app_ssh\\.href is 5, not a string')),
      appSsh('without a fingerprint', (link) => ({ ...link, meta: { host_key_fingerprint: '' } }), { fails: line('SSH hostkey fingerprint not set') }),
      appSsh('[::1] on a closed port', (link) => ({ ...link, href: `[::1]:${closed}` }), {
        fails: /^Cannot reach the SSH endpoint \[::1\]:\d+: connection refused\. Port \d+ may be blocked by your network: /,
      }),
      appSsh('localhost', (link) => ({ ...link, href: String(link.href).replace('127.0.0.1', 'localhost') }), { works: true }),
      row('GET /: an HTML page', ssh, { route: 'GET /', ...html }, { fails: /^http:\/\/127\.0\.0\.1:\d+ does not look like a Cloud Foundry API \(GET \/ answered HTTP 200\)\.$/ }),
      row('GET /: links a number', ssh, { route: 'GET /', body: { links: 5 } }, unreadable('GET /', 'links is 5, not an object')),
      row(
        'GET /: login a string',
        login,
        { route: 'GET /', from: (root) => ({ links: { ...(root as { links: object }).links, login: 'https://login' } }) },
        unreadable('GET /', 'links\\.login is a string, not an object'),
        {
          home: () => tempHome(),
        },
      ),
      row('GET /uaa/oauth/authorize: a Location that is no URL', ssh, { route: 'GET /uaa/oauth/authorize', status: 302, headers: { Location: 'http://[' }, body: '' }, noCode),
      row(
        'GET /uaa/oauth/authorize: a Location without a code',
        ssh,
        { route: 'GET /uaa/oauth/authorize', status: 302, headers: { Location: '/login?error=x' }, body: '' },
        noCode,
      ),
      row('GET /uaa/oauth/authorize: an HTML page', ssh, { route: 'GET /uaa/oauth/authorize', ...html }, noCode),
      tokenRow('an HTML page', html, token('the body is not JSON \\(Content-Type: text/html\\)')),
      tokenRow('no access_token', { body: { token_type: 'bearer' } }, token('access_token is missing')),
      tokenRow('an access_token that is a number', { body: { access_token: 5 } }, token('access_token is 5, not a string')),
      tokenRow('an empty access_token', { body: { access_token: '' } }, token('access_token is empty')),
      tokenRow('a refresh_token that is a number', { from: (body) => ({ ...(body as object), refresh_token: 5 }) }, token('refresh_token is 5, not a string')),
      tokenRow(
        'HTTP 500',
        { status: 500, body: { error: 'server_error', error_description: 'UAA is down' } },
        { fails: line('UAA answered the token request with HTTP 500: UAA is down.') },
      ),
      tokenRow('HTTP 500 whose description is an object', { status: 500, body: { error_description: { x: 1 } } }, { fails: line('UAA answered the token request with HTTP 500.') }),
      row(
        'GET /v3/organizations: a resource without a name',
        ['target', '-o', 'demo-org'],
        { route: 'GET /v3/organizations', body: { resources: [{ guid: 'g' }] } },
        unreadable('GET /v3/organizations', 'resources\\[0\\]\\.name is missing'),
      ),
      row(
        'GET /v3/spaces: cut-off JSON',
        ['target', '-o', 'demo-org', '-s', 'demo-space'],
        { route: 'GET /v3/spaces', body: '{"resources":[' },
        unreadable('GET /v3/spaces', 'the body is not valid JSON \\(.+\\)'),
      ),
      row(
        'GET /v3/apps/:guid/env: system_env_json a number',
        ['connect-to-service', 'demo-app', 'pg', '--no-client'],
        { route: 'GET /v3/apps/:guid/env', body: { system_env_json: 5 } },
        unreadable('GET /v3/apps/:guid/env', 'system_env_json is 5, not an object'),
      ),
      row(
        'GET /v3/apps/:guid/env: an HTML page',
        ['connect-to-service', 'demo-app', 'pg', '--no-client'],
        { route: 'GET /v3/apps/:guid/env', ...html },
        unreadable('GET /v3/apps/:guid/env', 'the body is not JSON \\(Content-Type: text/html\\)'),
      ),
      row(
        'GET /v3/service_credential_bindings: a type that is a number',
        ['connect-to-service', 'demo-app', 'pg', '--no-client'],
        [
          { route: 'GET /v3/service_instances', body: { resources: [{ guid: 'si', name: 'pg' }] } },
          { route: 'GET /v3/service_credential_bindings', body: { resources: [{ guid: 'g', type: 5 }] } },
        ],
        unreadable('GET /v3/service_credential_bindings', 'resources\\[0\\]\\.type is 5, not a string'),
      ),
    ],
    { home: () => developer, vars: () => ({ api: proxy.url, closed: String(closed) }), reset: () => (proxy.answers = []) },
  );
});
