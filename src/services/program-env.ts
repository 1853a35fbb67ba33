// `connect-to-service APP SERVICE -- COMMAND ARGS`: any local program (pg_dump, a migration
// tool) gets the tunnel in its environment, the way the app itself sees the service. Values
// are set as they are (no shell reads them); URLs carry user and password percent-encoded.
import { type ClientFile, connectionUrl, environmentValue, type InFolder, type LocalEnd, type LocalProgram, nativeClient, RUN_CA_FILE, uriThroughTunnel } from './clients.js';
import type { Connection, ServiceBinding, ServiceType } from './credentials.js';

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The CA fields brokers write (those credentials.ts reads), each holding `ca` instead. */
function withCa(creds: Record<string, unknown>, ca: string): Record<string, unknown> {
  const rewritten: Record<string, unknown> = { ...creds };
  for (const key of ['sslrootcert', 'ca_certificate', 'ca']) if (typeof creds[key] === 'string') rewritten[key] = ca;
  if (isRecord(creds.tls)) rewritten.tls = withCa(creds.tls, ca);
  if (isRecord(creds.cert)) rewritten.cert = withCa(creds.cert, ca);
  return rewritten;
}

/** The binding's credentials pointed at the tunnel: host, port and URIs rewritten, and through a TLS bridge its CA the run's. */
function throughTunnel(creds: Record<string, unknown>, local: LocalEnd): Record<string, unknown> {
  const rewritten: Record<string, unknown> = local.ca ? withCa(creds, local.ca) : { ...creds };
  for (const key of ['host', 'hostname', 'host_name']) if (key in creds) rewritten[key] = local.host;
  if (Array.isArray(creds.hosts)) rewritten.hosts = [local.host];
  for (const key of ['port', 'tls_port']) if (key in creds) rewritten[key] = typeof creds[key] === 'string' ? String(local.port) : local.port;
  for (const key of ['uri', 'url', 'jdbcUrl']) {
    const uri = creds[key];
    if (typeof uri === 'string') rewritten[key] = uriThroughTunnel(uri, local);
  }
  return rewritten;
}

/** A service with its tunnel, as a program after -- gets it. */
export interface TunnelledService {
  name: string;
  type?: ServiceType;
  binding: ServiceBinding;
  conn: Connection;
  local: LocalEnd;
}

/**
 * The prefix of a service's own variables when a run has several: its name upper-cased, every
 * character other than A-Z and 0-9 an underscore, and one more before a leading digit
 * (`orders-db` → `ORDERS_DB`, `2cache` → `_2CACHE`).
 */
export function variablePrefix(serviceName: string): string {
  const prefix = serviceName.toUpperCase().replace(/[^A-Z0-9]/g, '_');
  return /^[0-9]/.test(prefix) ? `_${prefix}` : prefix;
}

/** One service's variables and files, as the program would get them were it the only one. */
function serviceVariables({ type, conn, local }: TunnelledService, inFolder: InFolder): { env: Record<string, string>; files: ClientFile[] } {
  if (!type) return { env: {}, files: [] };
  const env: Record<string, string> = { DATABASE_URL: connectionUrl(type, conn, local, true, local.ca ? inFolder(RUN_CA_FILE) : undefined) };
  const client = nativeClient(type, conn, local).prepare(inFolder);
  if (type === 'postgres') Object.assign(env, client.env);
  if (type === 'mysql') {
    Object.assign(env, { MYSQL_HOST: local.host, MYSQL_TCP_PORT: String(local.port), MYSQL_DEFAULTS_EXTRA_FILE: inFolder('my.cnf') });
    if (conn.username) env.MYSQL_USER = environmentValue('user name', conn.username);
    if (conn.password) env.MYSQL_PASSWORD = environmentValue('password', conn.password);
    if (conn.database) env.MYSQL_DATABASE = environmentValue('database name', conn.database);
  }
  if (type === 'redis') Object.assign(env, client.env, { REDIS_URL: env.DATABASE_URL });
  // The command may start clients many times: its files live as long as it does.
  return { env, files: client.files.map((file) => ({ ...file, readAtStart: false })) };
}

/**
 * The program's environment: VCAP_SERVICES with every service pointed at its tunnel, and each
 * type's variables (DATABASE_URL, PG*, MYSQL_*, REDIS_URL, REDISCLI_AUTH). With several services,
 * each one's variables also carry its prefix (ORDERS_DB_DATABASE_URL), and a name without the
 * prefix is set only when one service alone sets it: two postgres services leave PGHOST unset.
 */
export function programEnvironment(command: string[], services: TunnelledService[]): LocalProgram {
  const [program, ...args] = command;
  if (program === undefined) throw new Error('programEnvironment needs a program to run');
  const vcap: Record<string, unknown[]> = {};
  for (const { binding, local } of services) (vcap[binding.label ?? 'user-provided'] ??= []).push({ ...binding, credentials: throughTunnel(binding.credentials, local) });
  const prepare = (inFolder: InFolder) => {
    const env: Record<string, string> = { VCAP_SERVICES: JSON.stringify(vcap) };
    if (services.length === 1) {
      const [only] = services;
      const own = only ? serviceVariables(only, inFolder) : { env: {}, files: [] };
      return { args, env: { ...env, ...own.env }, files: own.files };
    }
    // Each service's files in their own names, so that two of a type do not share one.
    const each = services.map((service) => {
      const prefix = variablePrefix(service.name);
      const own = serviceVariables(service, (file) => inFolder(`${prefix}-${file}`));
      return { prefix, env: own.env, files: own.files.map((file) => ({ ...file, name: `${prefix}-${file.name}` })) };
    });
    const setters = new Map<string, number>();
    for (const { env: own } of each) for (const name of Object.keys(own)) setters.set(name, (setters.get(name) ?? 0) + 1);
    for (const { prefix, env: own } of each) {
      for (const [name, value] of Object.entries(own)) {
        env[`${prefix}_${name}`] = value;
        if (setters.get(name) === 1) env[name] = value;
      }
    }
    return { args, env, files: each.flatMap(({ files }) => files) };
  };
  return { programs: [program], prepare };
}
