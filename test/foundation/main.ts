// `npm run foundation [-- --port N] [--https [--ca-out FILE]] [--token-ttl SECONDS] [--ssh-port N | --no-ssh]
// [--databases LIST | --no-databases] [--pglite] [--public-url URL] [--public-uaa-url URL] [--public-ssh HOST:PORT]
// [--seed-apps N]`: runs the test Cloud Foundry in the foreground and prints `api=URL` once it is ready (and on
// stderr `ssh=HOST:PORT`, where its SSH proxy listens, and a line such as
// `postgres=127.0.0.1:PORT (PostgreSQL 15, TLS)` when a database server starts: each starts at
// the first need of it). The --public-* options publish other addresses in its links (relays in
// front of it, as bench/latency.mjs places them); `api=` still says where it listens.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DATABASE_KINDS, type DatabaseKind } from './databases.js';
import { SEED_CLIENT, SEED_USERS } from './state.js';
import { startFoundation } from './server.js';

const USAGE = [
  'usage: npm run foundation -- [--port N (0 = any free port)] [--https [--ca-out FILE (its certificate, for clients)]] [--token-ttl SECONDS]',
  '    [--ssh-port N (default 0) | --no-ssh]',
  `    [--databases ${DATABASE_KINDS.join(',')} (the default: all installed) | --no-databases] [--pglite (PGlite serves postgres)]`,
  "    [--public-url URL (the API origin in its links)] [--public-uaa-url URL (the UAA and login origin; default: the API's)]",
  '    [--public-ssh HOST:PORT (the SSH endpoint it publishes)] [--seed-apps N (N more apps in orgs perf-org-K, 100 to a space)]',
].join('\n');

function portOption(name: string, value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--${name} takes 0 to 65535, not '${value}'`);
  return port;
}

function originOption(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const url = URL.canParse(value) ? new URL(value) : undefined;
  if (!url || !['http:', 'https:'].includes(url.protocol) || url.pathname !== '/' || url.search) {
    throw new Error(`--${name} takes an origin such as https://127.0.0.1:8443, not '${value}'`);
  }
  return url.origin;
}

function hostPortOption(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const match = /^([^\s:]+):(\d+)$/.exec(value);
  if (!match || Number(match[2]) < 1 || Number(match[2]) > 65535) throw new Error(`--${name} takes HOST:PORT, not '${value}'`);
  return value;
}

function databasesOption(value: string): DatabaseKind[] {
  const kinds = value.split(',').filter(Boolean);
  const unknown = kinds.filter((kind) => !(DATABASE_KINDS as readonly string[]).includes(kind));
  if (unknown.length > 0) throw new Error(`--databases takes a list of ${DATABASE_KINDS.join(', ')}, not '${unknown.join(',')}'`);
  return kinds as DatabaseKind[];
}

interface Options {
  port: number;
  https: boolean;
  caOut?: string;
  ttl?: number;
  ssh: boolean;
  sshPort: number;
  databases: DatabaseKind[];
  pglite: boolean;
  published: { apiUrl?: string; uaaUrl?: string; ssh?: string };
  seedApps: number;
}

function parse(): Options {
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
      'ca-out': { type: 'string' },
      'public-url': { type: 'string' },
      'public-uaa-url': { type: 'string' },
      'public-ssh': { type: 'string' },
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
  const https = values.https ?? false;
  if (values['ca-out'] !== undefined && !https) throw new Error('--ca-out needs --https: a plain HTTP foundation has no certificate');
  const published = {
    apiUrl: originOption('public-url', values['public-url']),
    uaaUrl: originOption('public-uaa-url', values['public-uaa-url']),
    ssh: hostPortOption('public-ssh', values['public-ssh']),
  };
  const seedApps = Number(values['seed-apps']);
  if (!(Number.isInteger(seedApps) && seedApps >= 0)) throw new Error(`--seed-apps takes a number of apps, not '${values['seed-apps']}'`);
  return { port, https, caOut: values['ca-out'], ttl, ssh: !values['no-ssh'], sshPort, databases, pglite: values.pglite ?? false, published, seedApps };
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
    published: options.published,
  });
  if (options.caOut && foundation.certificate) writeFileSync(options.caOut, foundation.certificate);
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
