// connect-to-service end to end: the built CLI → the foundation's SSH proxy → an app
// instance's sshd → real PostgreSQL, MariaDB and Redis servers, with their real clients.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { once } from 'node:events';
import path from 'node:path';
import readline from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { BIN, cli, loggedIn, onPath, tempHome } from '../helpers/cli.js';
import { type RunningFoundation, startFoundationProcess } from '../helpers/foundation.js';
import { freePort } from '../helpers/net.js';
import { TmuxPane } from '../helpers/tmux.js';

interface ServiceKeyRecord {
  name: string;
}

describe('connect-to-service with real databases', () => {
  let foundation: RunningFoundation;
  let developer: string;
  let passwords: string[];

  const keys = () => foundation.control<ServiceKeyRecord[]>('GET', '/foundation/service-keys');
  const env = (home: string, extra: Record<string, string> = {}) => ({ PATH: process.env.PATH, HOME: home, CF_HOME: home, CF_SSH_TOOLS_NO_KEYCHAIN: 'true', ...extra });

  /** Starts connect-to-service --no-client and resolves with the port it printed. */
  async function tunnel(home: string, args: string[], extraEnv: Record<string, string> = {}) {
    const child = spawn(process.execPath, [BIN, 'connect-to-service', ...args], { env: env(home, extraEnv), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    // The details are complete when the url line is out, or, without a type, "Press Ctrl-C" on stderr.
    const port = await new Promise<number>((resolve, reject) => {
      // Either stream may come first: look again whenever one of them has more.
      const check = () => {
        const complete = /^\s+url:/m.test(stdout) || (stderr.includes('Press Ctrl-C') && /^\s+port:/m.test(stdout));
        if (complete) resolve(Number(/^\s+port:\s+(\d+)$/m.exec(stdout)![1]));
      };
      readline.createInterface({ input: child.stdout! }).on('line', (line) => {
        stdout += `${line}\n`;
        check();
      });
      child.stderr!.on('data', check);
      child.once('exit', (code) => reject(new Error(`connect-to-service exited with ${code}: ${stderr}`)));
    });
    return { child, port, output: () => stdout, errors: () => stderr };
  }

  /** Sends `signal` and resolves with how the run ended: its exit status, or the signal it died of. */
  async function stop(child: ReturnType<typeof spawn>, signal: NodeJS.Signals): Promise<number | NodeJS.Signals | null> {
    const exited = new Promise<number | NodeJS.Signals | null>((resolve) => child.once('exit', (code, died) => resolve(code ?? died)));
    child.kill(signal);
    return exited;
  }

  before(async () => {
    foundation = await startFoundationProcess();
    developer = await loggedIn(foundation.url);
    const token = (await foundation.tokens('developer', 'developer-pass')).access_token;
    const get = async (p: string) => (await (await fetch(`${foundation.url}${p}`, { headers: { Authorization: `bearer ${token}` } })).json()) as { resources: { guid: string }[] };
    const [app] = (await get('/v3/apps?names=db-app')).resources;
    assert.ok(app, 'the foundation has db-app');
    const envResponse = (await (await fetch(`${foundation.url}/v3/apps/${app.guid}/env`, { headers: { Authorization: `bearer ${token}` } })).json()) as {
      system_env_json: { VCAP_SERVICES: Record<string, { credentials: { password?: string; uri?: string } }[]> };
    };
    passwords = Object.values(envResponse.system_env_json.VCAP_SERVICES)
      .flat()
      .map((b) => b.credentials.password ?? /:([^:@/]+)@/.exec(b.credentials.uri ?? '')?.[1])
      .filter((p): p is string => Boolean(p));
    assert.ok(passwords.length > 0);
  });
  after(() => foundation.stop());

  it('psql runs a query non-interactively, its exit status ours', async () => {
    const r = await cli(developer, ['connect-to-service', 'db-app', 'demo-pg', '--', '-tAc', 'select 40 + 2']);
    assert.equal(r.stdout.trim(), '42', r.stderr);
    assert.equal(r.code, 0);
    const bad = await cli(developer, ['connect-to-service', 'db-app', 'demo-pg', '--', '-c', 'select * from no_such_table', '-v', 'ON_ERROR_STOP=1']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /no_such_table/);
  });

  it('psql verifies the server certificate against the real host name through the tunnel', async () => {
    const r = await cli(developer, ['connect-to-service', 'db-app', 'demo-pg-tls', '--', '-tAc', 'select ssl from pg_stat_ssl where pid = pg_backend_pid()']);
    assert.equal(r.stdout.trim(), 't', r.stderr);
    assert.equal(r.code, 0);
  });

  it('--no-client through the TLS bridge: psql connects with the printed url, verifying the printed CA file', async () => {
    const t = await tunnel(developer, ['db-app', 'demo-pg-tls', '--no-client', '--show-password']);
    try {
      assert.match(t.output(), /^ {2}tls: {7}required; the link to the service is verified against its real name, localhost, with the service's own CA$/m);
      const url = /^\s+url:\s+(\S+)$/m.exec(t.output())?.[1] ?? '';
      assert.match(url, /\?sslmode=verify-full&sslrootcert=[^&]+ca\.pem&channel_binding=disable$/);
      const r = execFileSync('psql', [url, '-tAc', 'select ssl from pg_stat_ssl where pid = pg_backend_pid()'], { env: { PATH: process.env.PATH } });
      assert.equal(r.toString().trim(), 't');
    } finally {
      assert.equal(await stop(t.child, 'SIGINT'), 'SIGINT');
    }
  });

  it('a CredHub-backed binding: says to use a key, and a key reads it', async () => {
    const binding = await cli(developer, ['connect-to-service', 'db-app', 'credhub-pg', '--', '-tAc', 'select 1']);
    assert.equal(binding.code, 1);
    assert.match(binding.stderr, /keeps the app's credentials in CredHub.*give --credentials key/);
    const key = await cli(developer, ['connect-to-service', 'db-app', 'credhub-pg', '--credentials', 'key', '--', '-tAc', 'select 1']);
    assert.equal(key.stdout.trim(), '1', key.stderr);
    assert.deepEqual(await keys(), []);
  });

  it('a broken binding (wrong password) fails with the client’s clear error and a non-zero exit', async () => {
    const r = await cli(developer, ['connect-to-service', 'db-app', 'broken-pg', '--', '-c', 'select 1']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /password authentication failed/);
  });

  it('--no-client prints the details with the password masked; a separate psql connects through the printed port', async () => {
    const chosen = await freePort();
    const t = await tunnel(developer, ['db-app', 'demo-pg', '--no-client', '--local-port', String(chosen), '--bind', '127.0.0.1']);
    try {
      assert.equal(t.port, chosen, '--local-port is where the tunnel listens');
      for (const password of passwords) assert.ok(!t.output().includes(password), 'no password in --no-client output');
      assert.match(t.output(), /password:\s+\*{8} \(--show-password shows it\)/);
      const creds = /username:\s+(\S+)[\s\S]*database:\s+(\S+)|database:\s+(\S+)[\s\S]*username:\s+(\S+)/.exec(t.output());
      const [user, db] = creds?.[1] ? [creds[1], creds[2]] : [creds?.[4], creds?.[3]];
      assert.ok(user && db, `the details name a user and a database: ${t.output()}`);
      const password = passwords.find((p) => {
        try {
          execFileSync('psql', ['-h', '127.0.0.1', '-p', String(t.port), '-U', user, '-d', db, '-tAc', 'select 1'], { env: { ...process.env, PGPASSWORD: p }, stdio: 'pipe' });
          return true;
        } catch {
          return false;
        }
      });
      assert.ok(password, 'a plain psql connected through the tunnel');
    } finally {
      assert.equal(await stop(t.child, 'SIGINT'), 'SIGINT', 'cleaned up, then dead of Ctrl-C, as cf ssh -N');
    }
  });

  it('-- pg_dump gets the tunnel in its environment', async () => {
    const r = await cli(developer, ['connect-to-service', 'db-app', 'demo-pg', '--', 'pg_dump', '--schema-only']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /PostgreSQL database dump/);
  });

  it('secrets never reach a command line (ps) or CF_TRACE', async () => {
    const child = spawn(process.execPath, [BIN, 'connect-to-service', 'db-app', 'demo-pg', '--', '-c', 'select pg_sleep(3)'], {
      env: env(developer, { CF_TRACE: 'true' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let trace = '';
    child.stderr.on('data', (d) => (trace += d));
    let psSeen = '';
    for (let i = 0; i < 40 && !psSeen.includes('psql'); i += 1) {
      await sleep(100);
      psSeen = execFileSync('ps', ['-eo', 'args']).toString();
    }
    assert.match(psSeen, /psql/);
    const exit = await new Promise((resolve) => child.once('exit', resolve));
    assert.equal(exit, 0, trace);
    for (const password of passwords) {
      assert.ok(!psSeen.includes(password), 'password in ps output');
      assert.ok(!trace.includes(password), 'password in CF_TRACE output');
    }
    assert.match(trace, /GET \/v3\/apps\/[\w-]+\/env HTTP\/1\.1/);
  });

  it('a service key for this run only: created, deleted at the end, after SIGINT and after SIGTERM', async () => {
    assert.deepEqual(await keys(), []);
    const r = await cli(developer, ['connect-to-service', 'db-app', 'demo-pg', '--credentials', 'key', '--', '-tAc', 'select 2']);
    assert.equal(r.stdout.trim(), '2', r.stderr);
    assert.deepEqual(await keys(), []);
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      const t = await tunnel(developer, ['db-app', 'demo-pg', '--credentials', 'key', '--no-client']);
      const made = await keys();
      assert.equal(made.length, 1);
      assert.match(made[0]?.name ?? '', /^cf-ssh-tools-developer-[0-9a-f]{8}$/);
      assert.equal(await stop(t.child, signal), signal);
      assert.deepEqual(await keys(), [], `the key is gone after ${signal}`);
    }
  });

  it('a key left behind by a killed run is deleted by the next run, which says so', async () => {
    const t = await tunnel(developer, ['db-app', 'demo-pg', '--credentials', 'key', '--no-client']);
    const [left] = await keys();
    assert.ok(left, 'the killed run left its key');
    await stop(t.child, 'SIGKILL');
    assert.equal((await keys()).length, 1);
    const r = await cli(developer, ['connect-to-service', 'db-app', 'demo-pg', '--credentials', 'key', '--', '-tAc', 'select 3']);
    assert.equal(r.stdout.trim(), '3', r.stderr);
    assert.match(r.stderr, new RegExp(`^Deleted service key ${left.name} of demo-pg, left behind by an earlier run that could not delete it\\.$`, 'm'));
    assert.deepEqual(await keys(), []);
  });

  it('a folder with a password left by a killed run is removed by the next run, which says so', { skip: !onPath('mariadb') }, async () => {
    const temp = mkdtempSync(path.join(os.tmpdir(), 'cf-ssh-tools-connect-tmp-'));
    const child = spawn(process.execPath, [BIN, 'connect-to-service', 'db-app', 'demo-mysql', '--', 'sh', '-c', 'echo "$$"; exec sleep 60'], {
      env: env(developer, { TMPDIR: temp }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const [pid] = (await once(readline.createInterface({ input: child.stdout! }), 'line')) as [string];
    // Else the run failed before its program started: its own output says why.
    assert.match(pid, /^\d+$/, `the program's pid, not: ${pid}`);
    try {
      const [left] = readdirSync(temp);
      assert.ok(left && readdirSync(path.join(temp, left)).includes('my.cnf'), 'the command’s option file is there while it runs');
      assert.equal(await stop(child, 'SIGKILL'), 'SIGKILL');
      const r = await cli(developer, ['connect-to-service', 'db-app', 'demo-pg', '--', '-tAc', 'select 3'], { env: { TMPDIR: temp } });
      assert.equal(r.stdout.trim(), '3', r.stderr);
      assert.equal(r.stderr, `Removed ${path.join(temp, left)}, left by a run of cf-ssh-tools that was killed (it may have held a service's password).\n`);
      assert.deepEqual(readdirSync(temp), []);
    } finally {
      process.kill(Number(pid), 'SIGKILL');
      rmSync(temp, { recursive: true, force: true });
    }
  });

  it('two users at once do not disturb each other', async () => {
    const admin = await loggedIn(foundation.url, 'admin');
    const [a, b] = await Promise.all([
      cli(developer, ['connect-to-service', 'db-app', 'demo-pg', '--credentials', 'key', '--', '-tAc', 'select pg_sleep(1), 10']),
      cli(admin, ['connect-to-service', 'db-app', 'demo-pg', '--credentials', 'key', '--', '-tAc', 'select pg_sleep(1), 20']),
    ]);
    assert.match(a.stdout, /\|10/, a.stderr);
    assert.match(b.stdout, /\|20/, b.stderr);
    assert.deepEqual(await keys(), []);
  });

  it('mysql (MariaDB’s client) runs a query with a defaults file, over TLS on both legs of the bridge', { skip: !onPath('mariadb') && !onPath('mysql') }, async () => {
    const r = await cli(developer, ['connect-to-service', 'db-app', 'demo-mysql', '--', '-N', '-e', 'select 6 * 7']);
    assert.equal(r.stdout.trim(), '42', r.stderr);
    const cipher = await cli(developer, ['connect-to-service', 'db-app', 'demo-mysql', '--', '-N', '-e', "SHOW SESSION STATUS LIKE 'Ssl_cipher'"]);
    assert.match(cipher.stdout, /^Ssl_cipher\t\S+$/m, cipher.stderr);
  });

  it('redis-cli over TLS: verifies the run CA locally, the bridge the service’s certificate', { skip: !onPath('redis-cli') }, async () => {
    const r = await cli(developer, ['connect-to-service', 'db-app', 'demo-redis-tls', '--', 'redis-cli', 'PING']);
    assert.equal(r.stdout.trim(), 'PONG', r.stderr);
    assert.equal(r.code, 0);
  });

  it('TLS fails closed before any client starts: a CA that did not sign the certificate, a host the certificate does not name', async () => {
    const temp = mkdtempSync(path.join(os.tmpdir(), 'cf-ssh-tools-connect-tmp-'));
    try {
      const cases = [
        ['wrong-ca-pg', ['--', '-tAc', 'select 1'], "The certificate of localhost is not signed by the service's CA: unable to verify the first certificate."],
        ['wrong-ca-pg', ['--no-client'], "The certificate of localhost is not signed by the service's CA: unable to verify the first certificate."],
        [
          'mysql-by-address',
          ['--', '-N', '-e', 'select 1'],
          "The certificate of 127.0.0.1 does not match its name: Hostname/IP does not match certificate's altnames: IP: 127.0.0.1 is not in the cert's list: .",
        ],
      ] as const;
      for (const [service, args, line] of cases) {
        const r = await cli(developer, ['connect-to-service', 'db-app', service, ...args], { env: { TMPDIR: temp } });
        assert.equal(r.code, 1, r.stderr);
        // cf's word for a command that failed, and no client output.
        assert.equal(r.stdout, 'FAILED\n');
        assert.equal(r.stderr, `${line} No connection to '${service}' is made without verified TLS.\n`);
        assert.deepEqual(readdirSync(temp), [], 'nothing is left in TMPDIR');
      }
    } finally {
      rmSync(temp, { recursive: true, force: true });
    }
  });

  it('--insecure-tls is the one way past a certificate that does not verify: still TLS, and every run says so', async () => {
    const r = await cli(developer, ['connect-to-service', 'db-app', 'wrong-ca-pg', '--insecure-tls', '--', '-tAc', 'select ssl from pg_stat_ssl where pid = pg_backend_pid()']);
    assert.equal(r.stdout.trim(), 't', r.stderr);
    assert.equal(r.code, 0);
    const warning =
      'Warning: --insecure-tls: the certificate of localhost is not checked; whoever is between db-app/0 and the service can read and change what goes through the tunnel.';
    assert.match(r.stderr, new RegExp(`^${warning.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`, 'm'));
    const t = await tunnel(developer, ['db-app', 'wrong-ca-pg', '--no-client', '--insecure-tls']);
    try {
      assert.match(t.output(), /^ {2}tls: {7}required; the link to the service is NOT verified \(--insecure-tls\)$/m);
      assert.ok(t.errors().includes(warning), t.errors());
    } finally {
      assert.equal(await stop(t.child, 'SIGINT'), 'SIGINT');
    }
    const plain = await cli(developer, ['connect-to-service', 'db-app', 'demo-pg', '--insecure-tls', '--', '-tAc', 'select 1']);
    assert.equal(plain.stdout.trim(), '1', plain.stderr);
    assert.match(plain.stderr, /^--insecure-tls has no effect: 'demo-pg' does not ask for TLS\.$/m);
  });

  it('redis-cli by name answers PING with the password in REDISCLI_AUTH; REDIS_URL works with redis-cli -u', { skip: !onPath('redis-cli') }, async () => {
    const r = await cli(developer, ['connect-to-service', 'db-app', 'demo-redis', '--', 'redis-cli', 'PING']);
    assert.equal(r.stdout.trim(), 'PONG', r.stderr);
    const url = await cli(developer, ['connect-to-service', 'db-app', 'demo-redis', '--', 'sh', '-c', 'redis-cli --no-auth-warning -u "$REDIS_URL" PING']);
    assert.equal(url.stdout.trim(), 'PONG', url.stderr);
    const bare = await cli(developer, ['connect-to-service', 'db-app', 'demo-redis', '--', 'PING']);
    assert.equal(bare.code, 1);
    assert.equal(bare.stderr, "No program 'PING'; to give arguments to the client start them with the client's name: -- redis-cli PING\n");
  });

  it('mariadb-dump by name dumps the database through the tunnel', { skip: !onPath('mariadb-dump') }, async () => {
    const r = await cli(developer, ['connect-to-service', 'db-app', 'demo-mysql', '--', 'mariadb-dump', '--no-data']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /-- (MariaDB|MySQL) dump/);
  });

  it('mariadb’s option file, with the password, is gone once it has connected, while its query still runs', { skip: !onPath('mariadb') }, async () => {
    const tmp = tempHome();
    const child = spawn(process.execPath, [BIN, 'connect-to-service', 'db-app', 'demo-mysql', '--', '-N', '-e', 'select sleep(2)'], {
      env: env(developer, { TMPDIR: tmp }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let running = true;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => ((running = false), resolve(code))));
    const optionFiles = () => readdirSync(tmp).flatMap((d) => (d.startsWith('cf-ssh-tools-') ? readdirSync(path.join(tmp, d)).filter((f) => f === 'my.cnf') : []));
    const folders = () => readdirSync(tmp).filter((d) => d.startsWith('cf-ssh-tools-'));
    let sawFile = false;
    while (running && folders().length === 0) await sleep(20);
    while (running && optionFiles().length > 0) {
      sawFile = true;
      await sleep(20);
    }
    assert.ok(running, 'the query was still running when the option file had gone');
    assert.ok(sawFile || folders().length > 0, 'the client had its folder');
    assert.equal(await exited, 0);
    assert.deepEqual(folders(), [], 'the folder goes with the client');
  });

  it('mongosh (a stand-in on PATH) gets a 0600 script, no password in its arguments', async () => {
    const bin = path.join(tempHome(), 'bin');
    mkdirSync(bin);
    const record = path.join(bin, 'record.txt');
    writeFileSync(path.join(bin, 'mongosh'), `#!/bin/sh\n{ echo "args: $*"; stat -c '%a' "$3"; cat "$3"; } > ${record}\n`);
    chmodSync(path.join(bin, 'mongosh'), 0o755);
    const r = await cli(developer, ['connect-to-service', 'db-app', 'demo-pg', '--type', 'mongodb'], { env: { PATH: `${bin}:${process.env.PATH}` } });
    assert.equal(r.code, 0, r.stderr);
    const [args = '', mode, ...script] = readFileSync(record, 'utf8').trim().split('\n');
    assert.match(args, /^args: --nodb --shell \/.+\/connect\.js$/);
    assert.equal(mode, '600');
    assert.match(script.join('\n'), /^db = connect\("mongodb:\/\/[^"@]+@127\.0\.0\.1:\d+\/[^"]*directConnection=true"\);$/);
    for (const password of passwords) assert.ok(!args.includes(password));
  });

  it('a client that is not installed, without a terminal: names the package and stops, never waiting for Ctrl-C', async () => {
    const r = await cli(developer, ['connect-to-service', 'db-app', 'demo-pg'], { env: { PATH: '/nonexistent' } });
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr, 'No client started: psql is not installed (Debian/Ubuntu package: postgresql-client). Give --no-client to hold the tunnel open for other programs.\n');
  });

  it('Ctrl-C in psql cancels the query, not the tunnel; the tunnel ends when psql does', async () => {
    const pane = TmuxPane.start('psql', {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: developer,
      CF_HOME: developer,
      CF_SSH_TOOLS_NO_KEYCHAIN: 'true',
      TERM: 'xterm-256color',
      PS1: 'local$ ',
      PAGER: 'cat',
    });
    try {
      pane.type(`${process.execPath} ${BIN} connect-to-service db-app demo-pg --credentials key`);
      await pane.waitFor(/^demo_db=[>#]/m);
      pane.type('select pg_sleep(60);');
      await sleep(500);
      pane.keys('C-c');
      await pane.waitFor(/canceling statement due to user request/);
      pane.type('select 40 + 2 as answer;');
      await pane.waitFor(/^\s+42\s*$/m);
      pane.type('\\q');
      await pane.waitFor(/local\$\s*$/);
      pane.type('echo "exit=$?"');
      await pane.waitFor(/exit=0/);
      assert.deepEqual(await keys(), [], 'the key went with the tunnel');
    } finally {
      pane.stop();
    }
  });

  it('a service whose type nothing tells: the reason, and --type decides; --no-client holds the tunnel anyway', async () => {
    const r = await cli(developer, ['connect-to-service', 'db-app', 'legacy-db']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^No client started: the type of 'legacy-db' could not be told \(no hints\); give it with --type\. Give --no-client/m);
    const t = await tunnel(developer, ['db-app', 'legacy-db', '--no-client']);
    try {
      assert.match(t.output(), /^Tunnel to legacy-db is open:$/m);
    } finally {
      assert.equal(await stop(t.child, 'SIGINT'), 'SIGINT');
    }
    const typed = await cli(developer, ['connect-to-service', 'db-app', 'legacy-db', '--type', 'postgres', '--', '-tAc', 'select 5']);
    assert.equal(typed.stdout.trim(), '5', typed.stderr);
  });

  it('a service without host and port (an S3 bucket) gets a clear error, not a broken tunnel', async () => {
    const r = await cli(developer, ['connect-to-service', 'db-app', 'demo-bucket']);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^Service instance 'demo-bucket' has no host and port in its credentials \(fields: bucket, region, access_key_id, secret_access_key\): there is nothing to tunnel to\.$/m,
    );
    assert.doesNotMatch(r.stderr + r.stdout, /not-a-real-secret-key/);
  });

  it('says which services are bound when the name is wrong', async () => {
    const r = await cli(developer, ['connect-to-service', 'db-app', 'no-such-db']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Service instance 'no-such-db' is not bound to app 'db-app'\. It is bound to: .*demo-pg/);
  });
});
