// `connect-to-service APP SERVICE -- COMMAND ARGS`: any local program (pg_dump, mysqldump, a
// migration tool) gets the tunnel in its environment, the way the app itself sees the service.
import { connectionUrl, type LocalEnd, type LocalProgram, nativeClient, urlHost } from './clients.js';
import type { Connection, ServiceBinding, ServiceType } from './credentials.js';

/** The binding's credentials pointed at the tunnel: host, port and URIs rewritten. */
function throughTunnel(creds: Record<string, unknown>, conn: Connection, local: LocalEnd): Record<string, unknown> {
  const rewritten: Record<string, unknown> = { ...creds };
  for (const key of ['host', 'hostname', 'host_name']) if (key in creds) rewritten[key] = local.host;
  if (Array.isArray(creds.hosts)) rewritten.hosts = [local.host];
  for (const key of ['port', 'tls_port']) if (key in creds) rewritten[key] = typeof creds[key] === 'string' ? String(local.port) : local.port;
  for (const key of ['uri', 'url', 'jdbcUrl']) {
    if (typeof creds[key] === 'string')
      rewritten[key] = (creds[key] as string).replace(`${urlHost(conn.host)}:`, `${urlHost(local.host)}:`).replace(/:(\d+)(?=[/?]|$)/, `:${local.port}`);
  }
  return rewritten;
}

export function programEnvironment(command: string[], type: ServiceType | undefined, binding: ServiceBinding, conn: Connection, local: LocalEnd): LocalProgram {
  const [program, ...args] = command;
  if (program === undefined) throw new Error('programEnvironment needs a program to run');
  const env: Record<string, string> = {
    VCAP_SERVICES: JSON.stringify({ [binding.label ?? 'user-provided']: [{ ...binding, credentials: throughTunnel(binding.credentials, conn, local) }] }),
  };
  if (!type) return { programs: [program], args, env, files: [] };
  env.DATABASE_URL = connectionUrl(type, conn, local, true);
  const client = nativeClient(type, conn, local);
  if (type === 'postgres') Object.assign(env, client.env);
  if (type === 'mysql') {
    Object.assign(env, { MYSQL_HOST: local.host, MYSQL_TCP_PORT: String(local.port), MYSQL_DEFAULTS_EXTRA_FILE: '{dir}/my.cnf' });
    if (conn.username) env.MYSQL_USER = conn.username;
    if (conn.password) env.MYSQL_PASSWORD = conn.password;
    if (conn.database) env.MYSQL_DATABASE = conn.database;
  }
  if (type === 'redis') Object.assign(env, client.env, { REDIS_URL: env.DATABASE_URL });
  return { programs: [program], args, env, files: client.files };
}
