// How each native client is started against the local end of a tunnel, with secrets only in
// the child's environment or in 0600 files (never on a command line, where `ps` shows them).
import type { Connection, ServiceType } from './credentials.js';
import { UserError } from '../errors.js';

export interface ClientFile {
  name: string;
  content: string;
  /** 0700 instead of 0600 (a script a program runs, such as an askpass helper). */
  executable?: boolean;
}

/** A local program to start beside a tunnel: a database client, the system ssh, the user's own command. */
export interface LocalProgram {
  /** Programs to try, first found on PATH wins. */
  programs: string[];
  args: string[];
  env: Record<string, string>;
  /** Written into a 0700 folder with mode 0600 before the start, removed after; `{dir}` in args is that folder. */
  files: ClientFile[];
}

export interface Launch extends LocalProgram {
  /** The Debian/Ubuntu package that provides them, for the "not installed" message. */
  debianPackage: string;
}

/** A host as a URL takes it: an IPv6 address in brackets. */
export function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** Where the tunnel listens. */
export interface LocalEnd {
  host: string;
  port: number;
}

/** The escapes MySQL's and MariaDB's option-file reader undoes in a value: what is not escaped would be syntax (a newline starts a new option). */
const OPTION_FILE_ESCAPES: Record<string, string> = { '\\': '\\\\', '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b' };

/** A value for the client's option file: quoted, every special character escaped; NUL cannot be written at all. */
export function mysqlOption(name: string, value: string): string {
  if (value.includes('\0')) throw new UserError(`The service's ${name} holds a NUL character, which the MySQL client's option file cannot hold.`);
  return `"${value.replace(/[\\"\n\r\t\b]/g, (ch) => OPTION_FILE_ESCAPES[ch] ?? ch)}"`;
}

export function nativeClient(type: ServiceType, conn: Connection, local: LocalEnd): Launch {
  switch (type) {
    case 'postgres': {
      const env: Record<string, string> = { PGPORT: String(local.port) };
      // verify-full checks the certificate against PGHOST while PGHOSTADDR is where the tunnel is.
      if (conn.tls.ca) Object.assign(env, { PGHOST: conn.host, PGHOSTADDR: local.host, PGSSLMODE: 'verify-full', PGSSLROOTCERT: '{dir}/ca.pem' });
      else Object.assign(env, { PGHOST: local.host, PGSSLMODE: conn.tls.required ? 'require' : 'prefer' });
      if (conn.username) env.PGUSER = conn.username;
      if (conn.password) env.PGPASSWORD = conn.password;
      if (conn.database) env.PGDATABASE = conn.database;
      return { programs: ['psql'], debianPackage: 'postgresql-client', args: [], env, files: conn.tls.ca ? [{ name: 'ca.pem', content: conn.tls.ca }] : [] };
    }
    case 'mysql': {
      const lines = ['[client]', `host=${local.host}`, `port=${local.port}`, 'protocol=TCP'];
      if (conn.username) lines.push(`user=${mysqlOption('user name', conn.username)}`);
      if (conn.password) lines.push(`password=${mysqlOption('password', conn.password)}`);
      if (conn.database) lines.push(`database=${mysqlOption('database name', conn.database)}`);
      if (conn.tls.ca) lines.push('ssl-ca={dir}/ca.pem', 'ssl-verify-server-cert');
      else if (conn.tls.required) lines.push('ssl');
      const files = [{ name: 'my.cnf', content: `${lines.join('\n')}\n` }, ...(conn.tls.ca ? [{ name: 'ca.pem', content: conn.tls.ca }] : [])];
      // --defaults-extra-file must come first, or the client ignores it.
      return { programs: ['mariadb', 'mysql'], debianPackage: 'mariadb-client', args: ['--defaults-extra-file={dir}/my.cnf'], env: {}, files };
    }
    case 'redis': {
      const args = ['-h', local.host, '-p', String(local.port)];
      if (conn.username && conn.username !== 'default') args.push('--user', conn.username);
      if (conn.tls.required) args.push('--tls', '--sni', conn.host, ...(conn.tls.ca ? ['--cacert', '{dir}/ca.pem'] : ['--insecure']));
      const env: Record<string, string> = conn.password ? { REDISCLI_AUTH: conn.password } : {};
      return { programs: ['redis-cli'], debianPackage: 'redis-tools', args, env, files: conn.tls.ca ? [{ name: 'ca.pem', content: conn.tls.ca }] : [] };
    }
    case 'mongodb': {
      // mongosh has no password variable: a 0600 script opens the connection and logs in.
      const query = [conn.tls.required && 'tls=true', conn.tls.ca && 'tlsCAFile={dir}/ca.pem'].filter(Boolean).join('&');
      const target = `mongodb://${urlHost(local.host)}:${local.port}/${encodeURIComponent(conn.database ?? '')}${query ? `?${query}` : ''}`;
      const login = conn.username ? `db.auth(${JSON.stringify(conn.username)}, ${JSON.stringify(conn.password ?? '')});\n` : '';
      return {
        programs: ['mongosh'],
        debianPackage: "mongodb-mongosh (from MongoDB's own package repository)",
        args: ['--nodb', '--shell', '{dir}/connect.js'],
        env: {},
        files: [{ name: 'connect.js', content: `db = connect(${JSON.stringify(target)});\n${login}` }, ...(conn.tls.ca ? [{ name: 'ca.pem', content: conn.tls.ca }] : [])],
      };
    }
  }
}

/** A connection string for the tunnel's end, for --no-client and DATABASE_URL; the password masked unless asked. */
export function connectionUrl(type: ServiceType, conn: Connection, local: LocalEnd, showPassword: boolean): string {
  const scheme = { postgres: 'postgres', mysql: 'mysql', redis: conn.tls.required ? 'rediss' : 'redis', mongodb: 'mongodb' }[type];
  const url = new URL(`${scheme}://${urlHost(local.host)}:${local.port}`);
  if (conn.username) url.username = encodeURIComponent(conn.username);
  if (conn.password) url.password = showPassword ? encodeURIComponent(conn.password) : 'REDACTED';
  else if (type === 'redis' && !conn.username) url.username = '';
  if (conn.database) url.pathname = `/${encodeURIComponent(conn.database)}`;
  if (type === 'postgres' && conn.tls.required) url.searchParams.set('sslmode', conn.tls.ca ? 'verify-ca' : 'require');
  return url.toString().replace(':REDACTED@', ':********@');
}
