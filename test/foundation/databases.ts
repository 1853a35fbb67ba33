// The database servers behind the foundation's service instances: a private PostgreSQL (with
// TLS), MariaDB (with TLS) and Redis (with a TLS port) on 127.0.0.1, each in a temporary
// folder with a random free port, a test account and the accounts of awkward-accounts.ts (whose
// names and passwords hold what breaks careless quoting), never the system's own services. Each
// starts at its first need (the first read of its credentials, an SSH session into an app bound
// to it), so a foundation whose tests never touch a database starts none. Where PostgreSQL is
// not installed, the embedded PGlite (npm @electric-sql/pglite-socket) stands in for it.
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generate } from 'selfsigned';
import { AWKWARD_ACCOUNTS, mariadbAccountStatements, postgresAccountStatements, redisAccountLines } from './awkward-accounts.js';
import { Daemon, freePort, runToEnd, runningAsRoot, systemAccount } from './daemons.js';
import { mysqlGreets, postgresAnswers, redisAnswers } from './database-probes.js';

export const DATABASE_KINDS = ['postgres', 'mysql', 'redis'] as const;
export type DatabaseKind = (typeof DATABASE_KINDS)[number];
/** What serves `postgres`: the real PostgreSQL, or PGlite in the foundation's process. */
export type PostgresEngine = 'postgresql' | 'pglite';

const STARTUP_TIMEOUT_MS = 30_000;
const PREPARATION_TIMEOUT_MS = 60_000;
const MARIADBD = '/usr/sbin/mariadbd';
const MARIADB_INSTALL_DB = '/usr/bin/mariadb-install-db';
const REDIS_SERVER = '/usr/bin/redis-server';
// devDependencies, imported at run time only where PGlite stands in for PostgreSQL.
const PGLITE = '@electric-sql/pglite';
const PGLITE_SOCKET = '@electric-sql/pglite-socket';

/** A running database server and the account its service instances hand out. */
export interface DatabaseServer {
  kind: DatabaseKind;
  /** PostgreSQL 15, PGlite, MariaDB, Redis. */
  engine: string;
  host: '127.0.0.1';
  port: number;
  database: string;
  username: string;
  password: string;
  /** PostgreSQL: a second account it lets in over TLS only, so that credentials asking for TLS show it is used. */
  tlsUser?: { username: string; password: string };
  /** Redis: its TLS port (the server speaks TLS on `port` otherwise, where `ca` is set). */
  tlsPort?: number;
  /** The test CA that signed the server's certificate (for localhost only), where it speaks TLS. */
  ca?: string;
  /** The server's own certificate, where it speaks TLS. */
  certificate?: string;
  startupMs: number;
  pid?: number;
}

/** What GET /foundation/databases shows of a server (no secrets). */
export interface DatabaseStatus {
  kind: DatabaseKind;
  engine: string;
  state: 'not started' | 'starting' | 'running' | 'failed';
  port?: number;
  tlsPort?: number;
  tls?: boolean;
  startupMs?: number;
  pid?: number;
  error?: string;
}

interface TestCertificates {
  ca: string;
  certificate: string;
  key: string;
}

/** A folder of the foundation's temporary one, owned by the account a server runs as. */
interface Folder {
  path: string;
  /** Writes a file only its owner reads, and returns its path. */
  file(name: string, content: string): string;
}

/** What an engine gets to start its server. */
interface EngineContext {
  folder(name: string, account?: string): Folder;
  certificates(): Promise<TestCertificates>;
  /** Starts a server; resolves once `ready` says so. It is stopped with the foundation. */
  daemon(argv: string[], options: { account?: string; deathSignal: NodeJS.Signals }, ready: () => Promise<boolean>): Promise<Daemon>;
  /** A line for the foundation's log. */
  note(message: string): void;
}

type StartedServer = Omit<DatabaseServer, 'kind' | 'startupMs'> & { stop?: () => Promise<void> };

interface Engine {
  name: string;
  start(context: EngineContext): Promise<StartedServer>;
}

const secret = () => randomBytes(12).toString('hex');

/** As root, a server runs as its Debian package's account (PostgreSQL refuses root; the others need not have it). */
function accountFor(name: string): string | undefined {
  if (!runningAsRoot()) return undefined;
  if (!systemAccount(name)) throw new Error(`there is no '${name}' account to run it as (we are root)`);
  return name;
}

/** Starts a server on a free port; on another one when something took that port first. */
async function onFreePorts<T>(count: number, start: (...ports: number[]) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const ports = await Promise.all(Array.from({ length: count }, freePort));
    try {
      return await start(...ports);
    } catch (err) {
      if (attempt === 3 || !/in use/i.test((err as Error).message)) throw err;
    }
  }
}

function postgresqlEngine(bin: string, version: string): Engine {
  return {
    name: `PostgreSQL ${version}`,
    async start(context) {
      const account = accountFor('postgres');
      const folder = context.folder('postgres', account);
      const data = path.join(folder.path, 'data');
      const username = 'demo_user';
      const database = 'demo_db';
      const password = secret();
      const tlsUser = { username: 'demo_tls_user', password: secret() };
      const passwordFile = folder.file('password', password);
      await runToEnd(
        [
          path.join(bin, 'initdb'),
          '-D',
          data,
          '-U',
          username,
          `--pwfile=${passwordFile}`,
          '--auth=scram-sha-256',
          '--encoding=UTF8',
          '--locale=C',
          '--no-sync',
          '--no-instructions',
        ],
        { account, timeoutMs: PREPARATION_TIMEOUT_MS },
      );
      rmSync(passwordFile);
      // Single-user mode: the database, the TLS-only account and the awkward ones, before anything listens.
      const statements = [
        `CREATE DATABASE ${database} OWNER ${username};`,
        `CREATE ROLE ${tlsUser.username} LOGIN PASSWORD '${tlsUser.password}';`,
        ...postgresAccountStatements(AWKWARD_ACCOUNTS.postgres),
      ];
      const said = await runToEnd([path.join(bin, 'postgres'), '--single', '-D', data, '-c', 'unix_socket_directories=', 'postgres'], {
        account,
        input: `${statements.join('\n')}\n`,
        timeoutMs: PREPARATION_TIMEOUT_MS,
      });
      if (/ERROR:/.test(said)) throw new Error(`PostgreSQL's single-user mode said: ${said}`);
      const tls = await context.certificates();
      const dataFile = (name: string, content: string) => folder.file(path.join('data', name), content);
      dataFile('pg_hba.conf', [`hostnossl all ${tlsUser.username} 127.0.0.1/32 reject`, 'host all all 127.0.0.1/32 scram-sha-256', ''].join('\n'));
      const certificateFile = dataFile('server.crt', tls.certificate);
      const keyFile = dataFile('server.key', tls.key);
      const { daemon, port } = await onFreePorts(1, async (port) => ({
        port,
        daemon: await context.daemon(
          [
            path.join(bin, 'postgres'),
            '-D',
            data,
            '-c',
            `port=${port}`,
            '-c',
            'listen_addresses=127.0.0.1',
            '-c',
            'unix_socket_directories=',
            '-c',
            'ssl=on',
            '-c',
            `ssl_cert_file=${certificateFile}`,
            '-c',
            `ssl_key_file=${keyFile}`,
            // A throwaway database: speed over durability, and little shared memory.
            '-c',
            'fsync=off',
            '-c',
            'synchronous_commit=off',
            '-c',
            'full_page_writes=off',
            '-c',
            'max_connections=40',
            '-c',
            'shared_buffers=16MB',
          ],
          // SIGINT is PostgreSQL's fast shutdown: it does not wait for connected clients to leave.
          { account, deathSignal: 'SIGINT' },
          () => postgresAnswers(port, username, database),
        ),
      }));
      return {
        engine: this.name,
        host: '127.0.0.1',
        port,
        database,
        username,
        password,
        tlsUser,
        ca: tls.ca,
        certificate: tls.certificate,
        pid: daemon.pid,
      };
    },
  };
}

interface PgliteModule {
  PGlite: { create(): Promise<{ close(): Promise<void> }> };
}
interface PgliteSocketModule {
  PGLiteSocketServer: new (options: { db: unknown; host: string; port: number; maxConnections: number }) => EventTarget & {
    start(): Promise<void>;
    stop(): Promise<void>;
  };
}

const pgliteEngine: Engine = {
  name: 'PGlite',
  async start() {
    const { PGlite } = (await import(PGLITE)) as PgliteModule;
    const { PGLiteSocketServer } = (await import(PGLITE_SOCKET)) as PgliteSocketModule;
    const db = await PGlite.create();
    // It multiplexes its clients on one PGlite: allow a few at once (its default is one).
    const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 16 });
    let port = 0;
    server.addEventListener('listening', (event) => (port = (event as CustomEvent<{ port: number }>).detail.port));
    await server.start();
    const stop = async () => {
      await server.stop();
      await db.close();
    };
    if (!(await postgresAnswers(port, 'postgres', 'postgres'))) {
      await stop();
      throw new Error('PGlite does not answer on its socket');
    }
    // PGlite has one user and one database, and neither checks passwords nor speaks TLS.
    return { engine: this.name, host: '127.0.0.1', port, database: 'postgres', username: 'postgres', password: secret(), stop };
  },
};

const mariadbEngine: Engine = {
  name: 'MariaDB',
  async start(context) {
    const account = accountFor('mysql');
    const folder = context.folder('mysql', account);
    const data = path.join(folder.path, 'data');
    const install = () =>
      runToEnd([MARIADB_INSTALL_DB, '--no-defaults', `--datadir=${data}`, '--auth-root-authentication-method=socket', '--skip-test-db'], {
        account,
        timeoutMs: PREPARATION_TIMEOUT_MS,
      });
    // Its bootstrap failed once in a full CI run (cause not kept then; the error lines are now)
    // and never alone: once more from an empty folder, the first failure noted.
    await install().catch(async (err: Error) => {
      context.note(`mariadb-install-db failed, trying once more: ${err.message}`);
      rmSync(data, { recursive: true, force: true });
      await install();
    });
    const username = 'demo_user';
    const database = 'service_instance_db';
    const password = secret();
    // Run by the server itself before it takes connections.
    const initFile = folder.file(
      'init.sql',
      [
        `CREATE DATABASE IF NOT EXISTS ${database};`,
        `CREATE USER '${username}'@'%' IDENTIFIED BY '${password}';`,
        `GRANT ALL PRIVILEGES ON ${database}.* TO '${username}'@'%';`,
        ...mariadbAccountStatements(AWKWARD_ACCOUNTS.mysql, database),
        '',
      ].join('\n'),
    );
    const tls = await context.certificates();
    const { daemon, port } = await onFreePorts(1, async (port) => ({
      port,
      daemon: await context.daemon(
        [
          MARIADBD,
          '--no-defaults',
          `--datadir=${data}`,
          `--socket=${path.join(folder.path, 'mysqld.sock')}`,
          `--pid-file=${path.join(folder.path, 'mysqld.pid')}`,
          `--port=${port}`,
          '--bind-address=127.0.0.1',
          '--skip-name-resolve',
          '--skip-log-bin',
          '--innodb-buffer-pool-size=16M',
          `--init-file=${initFile}`,
          `--ssl-ca=${folder.file('ca.pem', tls.ca)}`,
          `--ssl-cert=${folder.file('server.crt', tls.certificate)}`,
          `--ssl-key=${folder.file('server.key', tls.key)}`,
        ],
        { account, deathSignal: 'SIGTERM' },
        () => mysqlGreets(port),
      ),
    }));
    return {
      engine: this.name,
      host: '127.0.0.1',
      port,
      database,
      username,
      password,
      ca: tls.ca,
      certificate: tls.certificate,
      pid: daemon.pid,
    };
  },
};

const redisEngine: Engine = {
  name: 'Redis',
  async start(context) {
    const account = accountFor('redis');
    const folder = context.folder('redis', account);
    const password = secret();
    const tls = await context.certificates();
    const start = (withTls: boolean) =>
      onFreePorts(2, (port, tlsPort) => {
        const config = folder.file(
          'redis.conf',
          [
            'bind 127.0.0.1',
            `port ${port}`,
            `requirepass ${password}`,
            'save ""',
            'appendonly no',
            `dir ${folder.path}`,
            ...redisAccountLines(AWKWARD_ACCOUNTS.redis),
            ...(withTls
              ? [
                  `tls-port ${tlsPort}`,
                  `tls-cert-file ${folder.file('server.crt', tls.certificate)}`,
                  `tls-key-file ${folder.file('server.key', tls.key)}`,
                  `tls-ca-cert-file ${folder.file('ca.pem', tls.ca)}`,
                  'tls-auth-clients no',
                ]
              : []),
            '',
          ].join('\n'),
        );
        const ready = async () => (await redisAnswers(port, password)) && (!withTls || (await redisAnswers(tlsPort, password, tls.ca)));
        return context.daemon([REDIS_SERVER, config], { account, deathSignal: 'SIGTERM' }, ready).then((daemon) => ({
          daemon,
          port,
          tlsPort: withTls ? tlsPort : undefined,
        }));
      });
    // A redis-server built without TLS support fails to start with it (untried: Debian's has it): then it runs without.
    const started = await start(true).catch((err: Error) => {
      if (/tls/i.test(err.message) && !/in use/i.test(err.message)) return start(false);
      throw err;
    });
    return {
      engine: this.name,
      host: '127.0.0.1',
      port: started.port,
      tlsPort: started.tlsPort,
      database: '',
      username: 'default',
      password,
      ...(started.tlsPort && { ca: tls.ca, certificate: tls.certificate }),
      pid: started.daemon.pid,
    };
  },
};

/** The newest PostgreSQL under /usr/lib/postgresql (Debian's layout). */
function installedPostgresql(): Engine | undefined {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => /^\d+$/.test(v))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const version = versions.find((v) => ['postgres', 'initdb'].every((program) => existsSync(path.join(root, v, 'bin', program))));
  return version ? postgresqlEngine(path.join(root, version, 'bin'), version) : undefined;
}

function pgliteInstalled(): boolean {
  try {
    import.meta.resolve(PGLITE);
    import.meta.resolve(PGLITE_SOCKET);
    return true;
  } catch {
    return false;
  }
}

async function testCertificates(): Promise<TestCertificates> {
  const ca = await generate([{ name: 'commonName', value: 'cf-ssh-tools test foundation CA' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  const server = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      {
        name: 'subjectAltName',
        // The host name only, as brokers' certificates name the real host: a client that
        // checks the address it connected to (the tunnel's 127.0.0.1) fails, as it would there.
        altNames: [{ type: 2, value: 'localhost' }],
      },
      { name: 'extKeyUsage', serverAuth: true },
    ],
  });
  return { ca: ca.cert, certificate: server.cert, key: server.private };
}

/** A server starting or started, and how that went. */
class Launch {
  state: DatabaseStatus['state'] = 'starting';
  running?: DatabaseServer;
  error?: string;
  /** PGlite runs in our process: it stops with a call rather than a signal. */
  stopEmbedded?: () => Promise<void>;
  readonly server: Promise<DatabaseServer>;

  constructor(start: (launch: Launch) => Promise<DatabaseServer>) {
    this.server = start(this);
    // Its callers see a failure; this keeps a start nobody awaits from crashing the foundation.
    this.server.catch(() => undefined);
  }
}

export interface DatabasesOptions {
  /** The kinds to offer (default: all three). */
  kinds?: readonly DatabaseKind[];
  /** What serves `postgres` (default: PostgreSQL where installed, else PGlite). */
  postgres?: PostgresEngine;
  /** Where a line goes when a server starts or fails to. */
  log?: (line: string) => void;
}

/** The foundation's database servers, each started at its first `start()`. */
export class Databases {
  /** The engine of each kind offered, installed and chosen. */
  private readonly engines = new Map<DatabaseKind, Engine>();
  /** One line for each kind asked for that cannot run here. */
  readonly notes: string[] = [];
  private readonly launches = new Map<DatabaseKind, Launch>();
  private readonly daemons = new Set<Daemon>();
  private root?: string;
  private certificates?: Promise<TestCertificates>;
  private stopped = false;
  private readonly log: (line: string) => void;
  private readonly killDaemons = () => {
    for (const daemon of this.daemons) daemon.kill();
  };

  constructor(options: DatabasesOptions = {}) {
    this.log = options.log ?? (() => undefined);
    const kinds = options.kinds ?? DATABASE_KINDS;
    if (kinds.includes('postgres')) {
      const postgresql = options.postgres === 'pglite' ? undefined : installedPostgresql();
      const engine = postgresql ?? (pgliteInstalled() ? pgliteEngine : undefined);
      if (engine) this.engines.set('postgres', engine);
      if (!engine) {
        const missing = options.postgres === 'pglite' ? 'PGlite is not' : 'Neither PostgreSQL (/usr/lib/postgresql/*/bin) nor PGlite is';
        this.notes.push(`${missing} installed (npm ${PGLITE_SOCKET}): no PostgreSQL services.`);
      } else if (!postgresql && options.postgres !== 'pglite') {
        this.notes.push('PostgreSQL is not installed (/usr/lib/postgresql/*/bin): PGlite stands in, without TLS or password checks (no demo-pg-tls, no broken-pg).');
      }
    }
    if (kinds.includes('mysql')) {
      if ([MARIADBD, MARIADB_INSTALL_DB].every((file) => existsSync(file))) this.engines.set('mysql', mariadbEngine);
      else this.notes.push(`MariaDB is not installed (${MARIADBD}, ${MARIADB_INSTALL_DB}): no MySQL services.`);
    }
    if (kinds.includes('redis')) {
      if (existsSync(REDIS_SERVER)) this.engines.set('redis', redisEngine);
      else this.notes.push(`Redis is not installed (${REDIS_SERVER}): no Redis services.`);
    }
    process.on('exit', this.killDaemons);
  }

  /** The engine that serves `kind`, if it is offered. */
  engine(kind: DatabaseKind): string | undefined {
    return this.engines.get(kind)?.name;
  }

  /** The server of `kind`, started at the first call. */
  start(kind: DatabaseKind): Promise<DatabaseServer> {
    const engine = this.engines.get(kind);
    if (!engine) return Promise.reject(new Error(`this foundation runs no ${kind} server`));
    let launch = this.launches.get(kind);
    if (!launch) {
      launch = this.launch(kind, engine);
      this.launches.set(kind, launch);
    }
    return launch.server;
  }

  private launch(kind: DatabaseKind, engine: Engine): Launch {
    const startedAt = Date.now();
    return new Launch(async (launch) => {
      try {
        const { stop, ...started } = await engine.start(this.context());
        launch.stopEmbedded = stop;
        // The foundation stopped while this one was starting.
        if (this.stopped) await stop?.();
        const server: DatabaseServer = { ...started, kind, startupMs: Date.now() - startedAt };
        Object.assign(launch, { state: 'running', running: server });
        this.log(`${kind}=127.0.0.1:${server.port} (${summary(server)}), ready in ${(server.startupMs / 1000).toFixed(1)} s`);
        return server;
      } catch (err) {
        Object.assign(launch, { state: 'failed', error: (err as Error).message });
        this.log(`Notice: ${kind} (${engine.name}) did not start: ${(err as Error).message}`);
        throw err;
      }
    });
  }

  private context(): EngineContext {
    return {
      folder: (name, account) => {
        if (!this.root) {
          this.root = mkdtempSync(path.join(os.tmpdir(), 'cf-ssh-tools-databases-'));
          // The servers' accounts go through it to their own folders.
          chmodSync(this.root, 0o711);
        }
        const folder = path.join(this.root, name);
        mkdirSync(folder, { mode: 0o700 });
        const owner = account ? systemAccount(account) : undefined;
        const own = (file: string) => owner && chownSync(file, owner.uid, owner.gid);
        own(folder);
        return {
          path: folder,
          file: (file, content) => {
            const full = path.join(folder, file);
            writeFileSync(full, content, { mode: 0o600 });
            own(full);
            return full;
          },
        };
      },
      certificates: () => (this.certificates ??= testCertificates()),
      note: (message) => this.log(`Notice: ${message}`),
      daemon: async (argv, options, ready) => {
        const daemon = new Daemon(argv, options);
        this.daemons.add(daemon);
        try {
          await daemon.ready(ready, STARTUP_TIMEOUT_MS);
          if (this.stopped) throw new Error('the foundation stopped');
          return daemon;
        } catch (err) {
          await daemon.stop();
          this.daemons.delete(daemon);
          throw err;
        }
      },
    };
  }

  /** For GET /foundation/databases. */
  status(): DatabaseStatus[] {
    return [...this.engines].map(([kind, engine]) => {
      const launch = this.launches.get(kind);
      const running = launch?.running;
      return {
        kind,
        engine: engine.name,
        state: launch?.state ?? 'not started',
        ...(running && { port: running.port, tlsPort: running.tlsPort, tls: Boolean(running.ca), startupMs: running.startupMs, pid: running.pid }),
        ...(launch?.error && { error: launch.error }),
      };
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.launches.values()].flatMap((launch) => (launch.stopEmbedded ? [launch.stopEmbedded()] : [])));
    await Promise.all([...this.daemons].map((daemon) => daemon.stop()));
    this.daemons.clear();
    process.off('exit', this.killDaemons);
    if (this.root) rmSync(this.root, { recursive: true, force: true });
  }
}

/** "PostgreSQL 15, TLS", "Redis, TLS on 41234", "PGlite, no TLS, any password". */
function summary(server: DatabaseServer): string {
  if (server.engine === 'PGlite') return 'PGlite, no TLS, any password';
  if (server.tlsPort) return `${server.engine}, TLS on ${server.tlsPort}`;
  return `${server.engine}, ${server.ca ? 'TLS' : 'no TLS'}`;
}
