// `npm run foundation [-- --port N] [--https] [--token-ttl SECONDS] [--ssh-port N | --no-ssh]
// [--databases LIST | --no-databases] [--pglite] [--seed-apps N]`: runs the test Cloud Foundry in the foreground
// and prints `api=URL` once it is ready (and on stderr `ssh=HOST:PORT`, where its SSH proxy
// listens, and a line such as `postgres=127.0.0.1:PORT (PostgreSQL 15, TLS)` when a database
// server starts: each starts at the first need of it).
import { parseArgs } from 'node:util';
import { DATABASE_KINDS, type DatabaseKind } from './databases.js';
import { SEED_CLIENT, SEED_USERS } from './state.js';
import { startFoundation } from './server.js';

const USAGE = [
  'usage: npm run foundation -- [--port N (0 = any free port)] [--https] [--token-ttl SECONDS] [--ssh-port N (default 0) | --no-ssh]',
  `    [--databases ${DATABASE_KINDS.join(',')} (the default: all installed) | --no-databases] [--pglite (PGlite serves postgres)]`,
  '    [--seed-apps N (N more apps in orgs perf-org-K, 100 to a space)]',
].join('\n');

function portOption(name: string, value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--${name} takes 0 to 65535, not '${value}'`);
  return port;
}

function databasesOption(value: string): DatabaseKind[] {
  const kinds = value.split(',').filter(Boolean);
  const unknown = kinds.filter((kind) => !(DATABASE_KINDS as readonly string[]).includes(kind));
  if (unknown.length > 0) throw new Error(`--databases takes a list of ${DATABASE_KINDS.join(', ')}, not '${unknown.join(',')}'`);
  return kinds as DatabaseKind[];
}

function parse(): { port: number; https: boolean; ttl?: number; ssh: boolean; sshPort: number; databases: DatabaseKind[]; pglite: boolean; seedApps: number } {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '9022' },
      https: { type: 'boolean', default: false },
      'token-ttl': { type: 'string' },
      'ssh-port': { type: 'string', default: '0' },
      'no-ssh': { type: 'boolean', default: false },
      databases: { type: 'string', default: DATABASE_KINDS.join(',') },
      'no-databases': { type: 'boolean', default: false },
      pglite: { type: 'boolean', default: false },
      'seed-apps': { type: 'string', default: '0' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const port = portOption('port', values.port);
  const sshPort = portOption('ssh-port', values['ssh-port']);
  const ttl = values['token-ttl'] === undefined ? undefined : Number(values['token-ttl']);
  if (ttl !== undefined && !(Number.isInteger(ttl) && ttl > 0)) throw new Error(`--token-ttl takes a number of seconds, not '${values['token-ttl']}'`);
  const databases = values['no-databases'] ? [] : databasesOption(values.databases);
  const seedApps = Number(values['seed-apps']);
  if (!(Number.isInteger(seedApps) && seedApps >= 0)) throw new Error(`--seed-apps takes a number of apps, not '${values['seed-apps']}'`);
  return { port, https: values.https ?? false, ttl, ssh: !values['no-ssh'], sshPort, databases, pglite: values.pglite ?? false, seedApps };
}

async function main(): Promise<void> {
  let options;
  try {
    options = parse();
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    process.exit(1);
  }
  const foundation = await startFoundation({
    port: options.port,
    https: options.https,
    accessTokenTtl: options.ttl,
    ssh: options.ssh,
    sshPort: options.sshPort,
    databases: options.databases,
    postgres: options.pglite ? 'pglite' : undefined,
    seedApps: options.seedApps,
    databaseLog: (line) => console.error(line),
  });
  const users = Object.entries(SEED_USERS)
    .map(([user, password]) => `${user}/${password}`)
    .join(', ');
  console.error(`Test Cloud Foundry: users ${users}; client ${SEED_CLIENT.id}/${SEED_CLIENT.secret}; org demo-org.`);
  if (foundation.ssh) console.error(`ssh=${foundation.ssh.proxy.address}`);
  if (foundation.databases) {
    for (const note of foundation.databases.notes) console.error(`Notice: ${note}`);
    const offered = foundation.databases.status().map(({ kind, engine }) => `${kind} (${engine})`);
    if (offered.length > 0) console.error(`Databases ${offered.join(', ')} start at their first use, behind the services of db-app.`);
  }
  console.log(`api=${foundation.url}`);
  const stop = () => {
    void foundation.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(`The foundation could not start: ${(err as Error).message}`);
  process.exit(1);
});
