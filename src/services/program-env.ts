// `connect-to-service APP SERVICE -- COMMAND ARGS`: any local program (pg_dump, a migration
// tool) gets the tunnel in its environment, the way the app itself sees the service. Values
// are set as they are (no shell reads them); URLs carry user and password percent-encoded.
import { connectionUrl, environmentValue, type InFolder, type LocalEnd, type LocalProgram, nativeClient, RUN_CA_FILE, uriThroughTunnel } from './clients.js';
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

export function programEnvironment(command: string[], type: ServiceType | undefined, binding: ServiceBinding, conn: Connection, local: LocalEnd): LocalProgram {
  const [program, ...args] = command;
  if (program === undefined) throw new Error('programEnvironment needs a program to run');
  const vcap = JSON.stringify({ [binding.label ?? 'user-provided']: [{ ...binding, credentials: throughTunnel(binding.credentials, local) }] });
  const prepare = (inFolder: InFolder) => {
    const env: Record<string, string> = { VCAP_SERVICES: vcap };
    if (!type) return { args, env, files: [] };
    env.DATABASE_URL = connectionUrl(type, conn, local, true, local.ca ? inFolder(RUN_CA_FILE) : undefined);
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
    return { args, env, files: client.files.map((file) => ({ ...file, readAtStart: false })) };
  };
  return { programs: [program], prepare };
}
