// connect-to-service with credentials that break careless quoting, against the foundation's real
// servers. User-provided services, made as `cf create-user-provided-service` and `cf
// bind-service` make them, hold the accounts of awkward-accounts.ts in the shapes brokers use;
// every way cf-ssh-tools hands them to a client (the native client, `--` with the environment,
// the mongosh launcher) logs in as exactly that account, and no payload in them runs. A value a
// format cannot hold is refused before any client starts.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { AWKWARD_ACCOUNTS, type AwkwardAccount, CANARY } from '../foundation/awkward-accounts.js';
import { DATABASE_KINDS, type DatabaseKind } from '../foundation/databases.js';
import { cli, type CliResult, loggedIn, onPath } from '../helpers/cli.js';
import { type RunningFoundation, startFoundationProcess } from '../helpers/foundation.js';

// CC's JSON, read loosely: the assertions say what each field must be.
type Json = Record<string, any>;

/** Where a kind's server listens, and the database its accounts may use. */
interface Server {
  port: number;
  database: string;
}

interface AwkwardService {
  name: string;
  account: AwkwardAccount;
  credentials: Json;
}

const userInfo = ({ username, password }: AwkwardAccount) => `${encodeURIComponent(username)}:${encodeURIComponent(password)}@`;

/** Each kind's credentials as a real broker writes them: a URI with percent-encoded user info, and separate fields. */
const CREDENTIALS: Record<DatabaseKind, (account: AwkwardAccount, server: Server) => Json> = {
  // cloud.gov's aws-rds: `username` and `password` fields beside the URI, the port a string.
  postgres: (account, { port, database }) => ({
    db_name: database,
    host: 'localhost',
    name: database,
    password: account.password,
    port: String(port),
    uri: `postgres://${userInfo(account)}localhost:${port}/${database}`,
    username: account.username,
  }),
  // Tanzu MySQL without its TLS: `hostname` and `name`, a URI with ?reconnect=true.
  mysql: (account, { port, database }) => ({
    hostname: '127.0.0.1',
    name: database,
    password: account.password,
    port,
    uri: `mysql://${userInfo(account)}127.0.0.1:${port}/${database}?reconnect=true`,
    username: account.username,
  }),
  // Redis with an ACL user: host, port and password, the user in the URI only.
  redis: (account, { port }) => ({ host: '127.0.0.1', password: account.password, port, uri: `redis://${userInfo(account)}127.0.0.1:${port}` }),
};

/** What each server says its client is: `select current_user`, MariaDB's `select current_user()` (user@host), ACL WHOAMI. */
const whoami = (kind: DatabaseKind, { username }: AwkwardAccount) => (kind === 'mysql' ? `${username}@%\n` : `${username}\n`);

/** The arguments after -- for each kind's native client: a query of who we are. */
const NATIVE_CLIENT: Record<DatabaseKind, { program: string; args: string[] }> = {
  postgres: { program: 'psql', args: ['-tAc', 'select current_user'] },
  // -r: the name as it is, without the batch mode's escapes.
  mysql: { program: 'mariadb', args: ['-NBre', 'select current_user()'] },
  redis: { program: 'redis-cli', args: ['redis-cli', 'ACL', 'WHOAMI'] },
};

/** `said LABEL` prints what the client before it wrote as one line `LABEL HEX`, so that a name with a newline stays one line. */
const SAID = `said() { printf '%s %s\\n' "$1" "$(od -An -tx1 -v | tr -d ' \\n')"; }`;
/** A URL alone: none of the variables that would log in without it. */
const URL_ALONE = 'env -u PGHOST -u PGPORT -u PGUSER -u PGPASSWORD -u PGDATABASE -u REDISCLI_AUTH';
/**
 * How a program of the user's starts mariadb with fields: no option files, and names read as
 * UTF-8 (the client reads them in the locale's character set, latin1 without one).
 */
const MARIADB_OPTIONS = ['--no-defaults', '--default-character-set=utf8mb4', '--protocol=TCP'];

/** For each kind: a script that logs in every way a program would with what `--` gives it, and the lines it must print. */
const ENVIRONMENT_SCRIPT: Record<DatabaseKind, { script: string; expected: (account: AwkwardAccount, server: Server) => Record<string, string> }> = {
  postgres: {
    script: [
      SAID,
      `${URL_ALONE} psql "$DATABASE_URL" -tAc 'select current_user' | said DATABASE_URL`,
      `psql -tAc 'select current_user' | said PG_VARIABLES`,
      `${URL_ALONE} psql "$(vcap-uri)" -tAc 'select current_user' | said VCAP_SERVICES`,
    ].join('\n'),
    expected: (account) => ({ DATABASE_URL: whoami('postgres', account), PG_VARIABLES: whoami('postgres', account), VCAP_SERVICES: whoami('postgres', account) }),
  },
  mysql: {
    script: [
      SAID,
      `mariadb --defaults-extra-file="$MYSQL_DEFAULTS_EXTRA_FILE" -NBre 'select current_user()' | said MYSQL_DEFAULTS_EXTRA_FILE`,
      `MYSQL_PWD="$MYSQL_PASSWORD" mariadb ${MARIADB_OPTIONS.join(' ')} -h"$MYSQL_HOST" -P"$MYSQL_TCP_PORT" -u"$MYSQL_USER" -D"$MYSQL_DATABASE" -NBre 'select current_user()' | said MYSQL_VARIABLES`,
      `mariadb-uri "$DATABASE_URL" | said DATABASE_URL`,
      `mariadb-uri "$(vcap-uri)" | said VCAP_SERVICES`,
      // The options the client takes from the file: those written, each whole, and no other (no pager, no command).
      `my_print_defaults --defaults-file="$MYSQL_DEFAULTS_EXTRA_FILE" client | grep -v -e '^--host=' -e '^--port=' | said OPTIONS`,
    ].join('\n'),
    expected: (account, { database }) => ({
      MYSQL_DEFAULTS_EXTRA_FILE: whoami('mysql', account),
      MYSQL_VARIABLES: whoami('mysql', account),
      DATABASE_URL: whoami('mysql', account),
      VCAP_SERVICES: whoami('mysql', account),
      OPTIONS: [
        '--protocol=TCP',
        // Names that are not ASCII are UTF-8, which the client must be told.
        ...(/\P{ASCII}/u.test(account.username) ? ['--default-character-set=utf8mb4'] : []),
        `--user=${account.username}`,
        `--password=${account.password}`,
        `--database=${database}`,
        '',
      ].join('\n'),
    }),
  },
  redis: {
    script: [
      SAID,
      `${URL_ALONE} redis-cli --no-auth-warning -u "$REDIS_URL" ACL WHOAMI | said REDIS_URL`,
      `${URL_ALONE} redis-cli --no-auth-warning -u "$(vcap-uri)" ACL WHOAMI | said VCAP_SERVICES`,
    ].join('\n'),
    expected: (account) => ({ REDIS_URL: whoami('redis', account), VCAP_SERVICES: whoami('redis', account) }),
  },
};

/** Programs a test puts on PATH: what an app does with VCAP_SERVICES, and mongosh as far as cf-ssh-tools meets it. */
const STAND_INS: Record<string, string> = {
  // Prints the URI of the one service in VCAP_SERVICES, as an app reads it.
  'vcap-uri': `const [binding] = Object.values(JSON.parse(process.env.VCAP_SERVICES)).flat();
process.stdout.write(binding.credentials.uri);`,
  // Asks MariaDB who it is, connecting with a mysql:// URI as an app would: its fields decoded, the password in MYSQL_PWD.
  'mariadb-uri': `const uri = new URL(process.argv[2]);
const field = (text) => decodeURIComponent(text);
const args = ${JSON.stringify(MARIADB_OPTIONS)}.concat(
  ['-h' + uri.hostname, '-P' + uri.port, '-u' + field(uri.username), '-D' + field(uri.pathname.slice(1)), '-NBre', 'select current_user()'],
);
const run = require('node:child_process').spawnSync('mariadb', args, { stdio: 'inherit', env: { ...process.env, MYSQL_PWD: field(uri.password) } });
process.exit(run.status ?? 1);`,
  // Runs its --shell script as mongosh does (JavaScript, with require) and records its arguments, the script's mode and what it connected to.
  mongosh: `const fs = require('node:fs');
const args = process.argv.slice(2);
const script = args[args.indexOf('--shell') + 1];
const uris = [];
globalThis.connect = (uri) => (uris.push(uri), {});
globalThis.require = require;
const mode = (fs.statSync(script).mode & 0o777).toString(8);
require('node:vm').runInThisContext(fs.readFileSync(script, 'utf8'));
fs.writeFileSync(process.env.MONGOSH_RECORD, JSON.stringify({ args, mode, uris }));`,
};

const NUL_PASSWORD = 'before\0after';

/** Where each kind's client would get a password with a NUL, which cannot hold one; and how the client is started. */
const NUL_REFUSALS: { kind: DatabaseKind; place: string; clients: string[][] }[] = [
  { kind: 'mysql', place: "the MySQL client's option file", clients: [['-NBre', 'select 1'], ['mariadb-dump']] },
  { kind: 'postgres', place: 'an environment variable', clients: [['-tAc', 'select 1']] },
  { kind: 'redis', place: 'an environment variable', clients: [['redis-cli', 'PING']] },
];

describe('connect-to-service with awkward credentials on real servers', { timeout: 180_000 }, () => {
  let foundation: RunningFoundation;
  let home: string;
  let cc: (method: string, route: string, body?: unknown) => Promise<{ status: number; body: Json }>;
  let dbApp: string;
  /** The working folder of every run: where a payload that ran would leave its file. */
  let work: string;
  /** The TMPDIR of every run, empty again after each. */
  let tmp: string;
  let bin: string;
  /** What the stand-in mongosh saw, a file for each run. */
  let records: string;
  let leftWorkingFolder: string;
  const servers: Partial<Record<DatabaseKind, Server>> = {};
  const services: Partial<Record<DatabaseKind, AwkwardService[]>> = {};
  const made: string[] = [];

  const run = (args: string[], env: Record<string, string> = {}): Promise<CliResult> =>
    cli(home, ['connect-to-service', 'db-app', ...args], { env: { PATH: `${bin}:${process.env.PATH}`, TMPDIR: tmp, ...env }, timeoutMs: 30_000 });

  /** A user-provided service bound to db-app, made as `cf create-user-provided-service NAME -p JSON` and `cf bind-service db-app NAME` make it. */
  async function userProvidedService(space: string, name: string, credentials: Json): Promise<void> {
    const created = await cc('POST', '/v3/service_instances', { type: 'user-provided', name, credentials, tags: ['awkward'], relationships: { space: { data: { guid: space } } } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    made.push(created.body.guid);
    const bound = await cc('POST', '/v3/service_credential_bindings', {
      type: 'app',
      relationships: { service_instance: { data: { guid: created.body.guid } }, app: { data: { guid: dbApp } } },
    });
    assert.equal(bound.status, 201, JSON.stringify(bound.body));
    // CC keeps them as they were given: JSON carries every character.
    assert.deepEqual((await cc('GET', `/v3/service_instances/${created.body.guid}/credentials`)).body, credentials);
  }

  /** Skips a test whose server or programs are not here; the kind's services when they are. */
  const servicesOf = (t: TestContext, kind: DatabaseKind, programs: string[]): AwkwardService[] => {
    const missing = programs.filter((program) => !onPath(program));
    if (!servers[kind]) t.skip(`no ${kind} server with the awkward accounts runs here`);
    else if (missing.length > 0) t.skip(`${missing.join(', ')} not installed`);
    return servers[kind] && missing.length === 0 ? (services[kind] ?? []) : [];
  };

  before(async () => {
    foundation = await startFoundationProcess();
    home = await loggedIn(foundation.url);
    const { access_token: token } = await foundation.tokens('developer', 'developer-pass');
    cc = async (method, route, body) => {
      const res = await fetch(`${foundation.url}${route}`, {
        method,
        headers: { Authorization: `bearer ${token}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : {} };
    };
    const space = (await cc('GET', '/v3/spaces?names=demo-space')).body.resources[0].guid;
    dbApp = (await cc('GET', '/v3/apps?names=db-app')).body.resources[0].guid;
    // Reading db-app's services starts their servers, and says where they listen.
    const vcap: Json[] = Object.values((await cc('GET', `/v3/apps/${dbApp}/env`)).body.system_env_json.VCAP_SERVICES).flat() as Json[];
    const credentialsOf = (name: string) => vcap.find((binding) => binding.name === name)?.credentials;
    const { databases } = await foundation.control<{ databases: { kind: DatabaseKind; engine: string; state: string }[] }>('GET', '/foundation/databases');
    // PGlite has one account and checks no password: it cannot hold the awkward ones.
    const running = (kind: DatabaseKind) => databases.some((d) => d.kind === kind && d.state === 'running' && d.engine !== 'PGlite');
    const pg = credentialsOf('demo-pg');
    if (running('postgres') && pg) servers.postgres = { port: Number(pg.port), database: pg.name };
    const mysql = credentialsOf('demo-mysql');
    if (running('mysql') && mysql) servers.mysql = { port: mysql.port, database: mysql.name };
    const redis = credentialsOf('demo-redis');
    if (running('redis') && redis) servers.redis = { port: Number(new URL(redis.uri).port), database: '' };

    for (const kind of DATABASE_KINDS) {
      const server = servers[kind];
      if (!server) continue;
      services[kind] = AWKWARD_ACCOUNTS[kind].map((account, i) => ({ name: `awkward-${kind}-${i + 1}`, account, credentials: CREDENTIALS[kind](account, server) }));
    }
    await Promise.all(
      Object.values(services)
        .flat()
        .map((service) => userProvidedService(space, service.name, service.credentials)),
    );
    for (const { kind } of NUL_REFUSALS) {
      const server = servers[kind];
      const [account] = AWKWARD_ACCOUNTS[kind] as [AwkwardAccount];
      if (server) await userProvidedService(space, `awkward-${kind}-nul`, CREDENTIALS[kind]({ ...account, password: NUL_PASSWORD }, server));
    }

    const scratch = (name: string) => mkdtempSync(path.join(os.tmpdir(), `cf-ssh-tools-awkward-${name}-`));
    [work, tmp, bin, records] = [scratch('work'), scratch('tmp'), scratch('bin'), scratch('records')];
    for (const [name, source] of Object.entries(STAND_INS)) {
      writeFileSync(path.join(bin, name), `#!${process.execPath}\n${source}\n`);
      chmodSync(path.join(bin, name), 0o755);
    }
    // The runs' programs inherit it: a command a payload smuggled in would leave its file here.
    leftWorkingFolder = process.cwd();
    process.chdir(work);
  });

  after(async () => {
    process.chdir(leftWorkingFolder);
    // As `cf delete-service`: their bindings go with them.
    for (const guid of made) assert.equal((await cc('DELETE', `/v3/service_instances/${guid}`)).status, 204);
    await foundation.stop();
    for (const folder of [work, tmp, bin, records]) rmSync(folder, { recursive: true, force: true });
  });

  // Two tests at a time, each running its accounts at once: eight SSH logins at most, below
  // the 10 unauthenticated connections at which the instance's sshd (MaxStartups) drops some.
  describe('every account logs in as itself', { concurrency: 2 }, () => {
    for (const kind of DATABASE_KINDS) {
      const { program, args } = NATIVE_CLIENT[kind];

      it(`${kind}: the native client (${program})`, async (t) => {
        await Promise.all(
          servicesOf(t, kind, [program]).map(async ({ name, account }) => {
            const r = await run([name, '--', ...args]);
            assert.equal(r.stdout, whoami(kind, account), `${account.about}: ${r.stderr}`);
            assert.equal(r.stderr, '', account.about);
            assert.equal(r.code, 0, account.about);
          }),
        );
      });

      it(`${kind}: a program after -- with the environment`, async (t) => {
        const { script, expected } = ENVIRONMENT_SCRIPT[kind];
        const programs = { postgres: ['psql'], mysql: ['mariadb', 'my_print_defaults'], redis: ['redis-cli'] }[kind];
        await Promise.all(
          servicesOf(t, kind, programs).map(async ({ name, account }) => {
            // The folder where a payload that ran would leave its file: the final test looks there.
            const r = await run([name, '--', 'sh', '-c', `${script}\npwd | said WORKING_FOLDER`]);
            assert.equal(r.code, 0, `${account.about}: ${r.stderr}`);
            const said = Object.fromEntries(
              r.stdout.split('\n').flatMap((line) => {
                const [label, hex = ''] = line.split(' ');
                return label ? [[label, Buffer.from(hex, 'hex').toString()]] : [];
              }),
            );
            assert.deepEqual(said, { ...expected(account, servers[kind] as Server), WORKING_FOLDER: `${realpathSync(work)}\n` }, `${account.about}: ${r.stderr}`);
          }),
        );
      });

      it(`${kind}: the mongosh launcher holds the values as JSON in its script, none in its arguments`, async (t) => {
        await Promise.all(
          servicesOf(t, kind, []).map(async ({ name, account }) => {
            const record = path.join(records, `${name}.json`);
            const r = await run([name, '--type', 'mongodb'], { MONGOSH_RECORD: record });
            assert.equal(r.code, 0, `${account.about}: ${r.stderr}`);
            const { args, mode, uris } = JSON.parse(readFileSync(record, 'utf8')) as { args: string[]; mode: string; uris: string[] };
            assert.deepEqual(args.slice(0, 2), ['--nodb', '--shell']);
            assert.match(args[2] ?? '', /\/connect\.js$/);
            assert.equal(args.length, 3);
            assert.equal(mode, '600');
            assert.equal(uris.length, 1, account.about);
            const uri = new URL(uris[0] as string);
            assert.deepEqual([decodeURIComponent(uri.username), decodeURIComponent(uri.password), uri.hostname], [account.username, account.password, '127.0.0.1'], account.about);
          }),
        );
      });
    }
  });

  for (const { kind, place, clients } of NUL_REFUSALS) {
    it(`${kind}: a NUL in the password is refused before any program starts: one line naming it, exit 1, nothing left`, async (t) => {
      if (servicesOf(t, kind, []).length === 0) return;
      // Clients that would only say they started; and a program after -- that would do the same.
      const standIns = mkdtempSync(path.join(os.tmpdir(), 'cf-ssh-tools-awkward-clients-'));
      const started = path.join(standIns, 'started');
      const named = clients.map(([first = '']) => first).filter((word) => !word.startsWith('-'));
      for (const program of new Set([NATIVE_CLIENT[kind].program, ...named])) {
        writeFileSync(path.join(standIns, program), `#!/bin/sh\ntouch '${started}'\n`);
        chmodSync(path.join(standIns, program), 0o755);
      }
      try {
        for (const command of [...clients, ['sh', '-c', `touch '${started}'`]]) {
          const r = await run([`awkward-${kind}-nul`, '--', ...command], { PATH: `${standIns}:${process.env.PATH}` });
          assert.equal(r.stderr, `The service's password holds a NUL character, which ${place} cannot hold.\n`, command.join(' '));
          assert.equal(r.stdout, 'FAILED\n');
          assert.equal(r.code, 1);
          assert.ok(!existsSync(started), `nothing started for -- ${command.join(' ')}`);
          assert.deepEqual(readdirSync(tmp), [], 'nothing left in TMPDIR');
        }
      } finally {
        rmSync(standIns, { recursive: true, force: true });
      }
    });
  }

  it(`no payload ran (no ${CANARY} file), and no run left anything in TMPDIR`, () => {
    assert.deepEqual(readdirSync(work), []);
    assert.deepEqual(readdirSync(tmp), []);
    assert.ok(!existsSync(path.join(home, CANARY)));
  });
});
