// How each native client is started against the local end of a tunnel, with secrets only in
// the child's environment or in 0600 files (never on a command line, where `ps` shows them).
// Credential data goes in as it is: nothing here is a template, and every format it is
// written into (URL, option file, script) escapes it.
import type { Connection, ServiceType } from './credentials.js';
import { UserError } from '../errors.js';

export interface ClientFile {
  name: string;
  content: string;
  /** 0700 instead of 0600 (a script a program runs, such as an askpass helper). */
  executable?: boolean;
  /** Holds a secret the client reads at its start: removed once it has connected through the tunnel. */
  readAtStart?: boolean;
}

/** Where a file of the program's is written: a path in its private folder. */
export type InFolder = (file: string) => string;

/** The command line, environment and files of a program, its files' paths known. */
export interface PreparedProgram {
  args: string[];
  env: Record<string, string>;
  /** Written into a 0700 folder with mode 0600 before the start, removed after. */
  files: ClientFile[];
}

/** A local program to start beside a tunnel: a database client, the system ssh, the user's own command. */
export interface LocalProgram {
  /** Programs to try, first found on PATH wins. */
  programs: string[];
  /** Its arguments, environment and files, given where its files are (`inFolder('ca.pem')`). */
  prepare(inFolder: InFolder): PreparedProgram;
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
  /**
   * PEM of the run's CA when the tunnel is a TLS bridge: the local end's certificate is signed
   * by it, and clients verify against it (the bridge verifies the service's real name).
   */
  ca?: string;
}

/** The file the local end's CA is written to, for clients to trust. */
export const RUN_CA_FILE = 'ca.pem';

/** The escapes MySQL's and MariaDB's option-file reader undoes in a value: what is not escaped would be syntax (a newline starts a new option). */
const OPTION_FILE_ESCAPES: Record<string, string> = { '\\': '\\\\', '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b' };

/**
 * A value of the service's as it is, for a place that cannot hold NUL at all (an environment
 * variable, a command line, an option file): refused, naming the field, before any program
 * starts. Node's own refusal of it would quote the value, a password among them.
 */
function withoutNul(name: string, value: string, place: string): string {
  if (value.includes('\0')) throw new UserError(`The service's ${name} holds a NUL character, which ${place} cannot hold.`);
  return value;
}

/** A value for the client's option file: quoted, every special character escaped. */
export function mysqlOption(name: string, value: string): string {
  return `"${withoutNul(name, value, "the MySQL client's option file").replace(/[\\"\n\r\t\b]/g, (ch) => OPTION_FILE_ESCAPES[ch] ?? ch)}"`;
}

/** A value of the service's for a program's environment. */
export const environmentValue = (name: string, value: string) => withoutNul(name, value, 'an environment variable');

/** The native clients of each type, the first the default; any of them named after -- gets the tunnel too. */
const CLIENTS: Record<ServiceType, { programs: string[]; debianPackage: string }> = {
  postgres: { programs: ['psql'], debianPackage: 'postgresql-client' },
  mysql: { programs: ['mariadb', 'mysql', 'mariadb-dump', 'mysqldump'], debianPackage: 'mariadb-client' },
  redis: { programs: ['redis-cli'], debianPackage: 'redis-tools' },
  mongodb: { programs: ['mongosh', 'mongodump', 'mongorestore'], debianPackage: "mongodb-mongosh (from MongoDB's own package repository)" },
};

/** The interactive clients tried when none is named: the dump tools are only started by name. */
const DEFAULT_CLIENTS: Record<ServiceType, string[]> = { postgres: ['psql'], mysql: ['mariadb', 'mysql'], redis: ['redis-cli'], mongodb: ['mongosh'] };

/** Whether `program` is one of the native clients of `type`, which get the tunnel when named after --. */
export function isNativeClient(type: ServiceType, program: string): boolean {
  return CLIENTS[type].programs.includes(program);
}

/** The name to suggest for giving arguments to the client of `type`. */
export function defaultClientName(type: ServiceType): string {
  return DEFAULT_CLIENTS[type][0] ?? type;
}

const isDumpTool = (program: string) => program.endsWith('dump');

/** mysqldump takes the database as an argument, unless told to dump several. */
const namesItsDatabases = (args: string[]) => args.some((arg) => /^(-A|-B|--all-databases|--databases)$/.test(arg));

/**
 * The binding's URI pointed at the tunnel: the host list (one host or several, as Mongo's)
 * and port replaced, everything else (user, password, path, options) as the broker wrote it.
 */
export function uriThroughTunnel(uri: string, local: LocalEnd): string {
  const parts = /^((?:jdbc:)?[a-z][\w+.-]*:\/\/)([^/?#]*@)?([^/?#]*)(.*)$/is.exec(uri);
  if (!parts) return uri;
  const [, scheme = '', userinfo = '', , rest = ''] = parts;
  return `${scheme}${userinfo}${urlHost(local.host)}:${local.port}${rest}`;
}

/** A query parameter added to a URI that does not have it yet. */
function withParam(uri: string, name: string, value: string): string {
  if (new RegExp(`[?&]${name}=`, 'i').test(uri)) return uri;
  const separator = uri.includes('?') ? '&' : /^[^:]+:\/\/[^/]*$/.test(uri) ? '/?' : '?';
  return `${uri}${separator}${name}=${encodeURIComponent(value)}`;
}

/** The Mongo URI the clients connect with: the binding's own, through the tunnel, to that one server. */
export function mongoUri(conn: Connection, local: LocalEnd, caFile: string | undefined): string {
  let uri = conn.uri?.startsWith('mongodb://') ? uriThroughTunnel(conn.uri, local) : connectionUrl('mongodb', conn, local, true);
  // A tunnel reaches one server: without this the driver would go on to the replica set's own addresses.
  uri = withParam(uri, 'directConnection', 'true');
  if (local.ca) uri = withTlsParams('mongodb', uri, caFile);
  return uri;
}

/**
 * How `program` (one of the type's native clients; the default one when not given) is started
 * against the tunnel, with `extra` (the user's arguments after --) after its own.
 */
export function nativeClient(type: ServiceType, conn: Connection, local: LocalEnd, program?: string, extra: string[] = []): Launch {
  const { debianPackage } = CLIENTS[type];
  const programs = program ? [program] : DEFAULT_CLIENTS[type];
  // Through a TLS bridge the client verifies the local end against the run's CA; else there is no TLS to verify.
  const caFile = (inFolder: InFolder) => (local.ca ? inFolder(RUN_CA_FILE) : undefined);
  const caFiles: ClientFile[] = local.ca ? [{ name: RUN_CA_FILE, content: local.ca }] : [];
  switch (type) {
    case 'postgres':
      return { programs, debianPackage, prepare: (inFolder) => ({ args: extra, env: postgresEnv(conn, local, caFile(inFolder)), files: caFiles }) };
    case 'mysql': {
      const dump = program !== undefined && isDumpTool(program);
      return {
        programs,
        debianPackage,
        prepare: (inFolder) => {
          const lines = ['[client]', `host=${local.host}`, `port=${local.port}`, 'protocol=TCP'];
          // The client sends names in its locale's character set (latin1 without a locale), and the
          // server finds no such account: names written here are UTF-8, which it must then be told.
          if (/\P{ASCII}/u.test(`${conn.username ?? ''}${conn.database ?? ''}`)) lines.push('default-character-set=utf8mb4');
          if (conn.username) lines.push(`user=${mysqlOption('user name', conn.username)}`);
          if (conn.password) lines.push(`password=${mysqlOption('password', conn.password)}`);
          // The dump tools refuse a database option: they take it as an argument.
          if (conn.database && !dump) lines.push(`database=${mysqlOption('database name', conn.database)}`);
          const ca = caFile(inFolder);
          if (ca) lines.push(`ssl-ca=${mysqlOption('CA path', ca)}`, 'ssl-verify-server-cert');
          const database = dump && conn.database && !namesItsDatabases(extra) ? [conn.database] : [];
          // --defaults-extra-file must come first, or the client ignores it; the database before any table names.
          return {
            args: [`--defaults-extra-file=${inFolder('my.cnf')}`, ...database, ...extra],
            env: {},
            files: [{ name: 'my.cnf', content: `${lines.join('\n')}\n`, readAtStart: true }, ...caFiles],
          };
        },
      };
    }
    case 'redis':
      return {
        programs,
        debianPackage,
        prepare: (inFolder) => {
          const args = ['-h', local.host, '-p', String(local.port)];
          if (conn.username && conn.username !== 'default') args.push('--user', withoutNul('user name', conn.username, 'a command line'));
          const ca = caFile(inFolder);
          if (ca) args.push('--tls', '--cacert', ca);
          const env: Record<string, string> = conn.password ? { REDISCLI_AUTH: environmentValue('password', conn.password) } : {};
          return { args: [...args, ...extra], env, files: caFiles };
        },
      };
    case 'mongodb':
      return {
        programs,
        debianPackage,
        prepare: (inFolder) => {
          const uri = mongoUri(conn, local, caFile(inFolder));
          // The Mongo tools take no password from the environment: the URI, with it, is in a 0600 file.
          if (program === 'mongodump' || program === 'mongorestore') {
            // A JSON string is a YAML double-quoted string.
            return {
              args: [`--config=${inFolder('mongo-tools.yaml')}`, ...extra],
              env: {},
              files: [{ name: 'mongo-tools.yaml', content: `uri: ${JSON.stringify(uri)}\n`, readAtStart: true }, ...caFiles],
            };
          }
          return {
            args: ['--nodb', '--shell', inFolder('connect.js'), ...extra],
            env: {},
            files: [{ name: 'connect.js', content: `db = connect(${JSON.stringify(uri)});\n`, readAtStart: true }, ...caFiles],
          };
        },
      };
  }
}

function postgresEnv(conn: Connection, local: LocalEnd, caFile: string | undefined): Record<string, string> {
  const env: Record<string, string> = { PGHOST: local.host, PGPORT: String(local.port) };
  // SCRAM's channel binding ties the login to the certificate the client sees, which through the
  // bridge is the run's, not the server's: the server would refuse it.
  if (caFile) Object.assign(env, { PGSSLMODE: 'verify-full', PGSSLROOTCERT: caFile, PGCHANNELBINDING: 'disable' });
  else env.PGSSLMODE = 'prefer';
  if (conn.username) env.PGUSER = environmentValue('user name', conn.username);
  if (conn.password) env.PGPASSWORD = environmentValue('password', conn.password);
  if (conn.database) env.PGDATABASE = environmentValue('database name', conn.database);
  return env;
}

/** The default client's programs and package, for the "not installed" check before the tunnel opens. */
export function defaultClient(type: ServiceType): { programs: string[]; debianPackage: string } {
  return { programs: DEFAULT_CLIENTS[type], debianPackage: CLIENTS[type].debianPackage };
}

/** What a URL to a TLS bridge's local end needs to verify it against the run's CA (in `caFile`). */
function withTlsParams(type: ServiceType, uri: string, caFile: string | undefined): string {
  if (type === 'postgres') {
    const url = withParam(uri, 'sslmode', 'verify-full');
    return withParam(caFile ? withParam(url, 'sslrootcert', caFile) : url, 'channel_binding', 'disable');
  }
  if (type === 'mongodb') {
    const url = withParam(uri, 'tls', 'true');
    return caFile ? withParam(url, 'tlsCAFile', caFile) : url;
  }
  return uri;
}

/**
 * A connection string for the tunnel's end, for --no-client, DATABASE_URL and REDIS_URL; user
 * and password percent-encoded, the password masked unless asked. A Redis password without a
 * user is the ACL's `default` user's, which `redis-cli -u` needs named. Through a TLS bridge it
 * verifies the local end against the run's CA, in `caFile`.
 */
export function connectionUrl(type: ServiceType, conn: Connection, local: LocalEnd, showPassword: boolean, caFile?: string): string {
  const scheme = { postgres: 'postgres', mysql: 'mysql', redis: local.ca ? 'rediss' : 'redis', mongodb: 'mongodb' }[type];
  const url = new URL(`${scheme}://${urlHost(local.host)}:${local.port}`);
  const username = conn.username ?? (type === 'redis' && conn.password ? 'default' : undefined);
  if (username) url.username = encodeURIComponent(username);
  if (conn.password) url.password = showPassword ? encodeURIComponent(conn.password) : 'REDACTED';
  if (conn.database) url.pathname = `/${encodeURIComponent(conn.database)}`;
  const text = url.toString().replace(':REDACTED@', ':********@');
  return local.ca ? withTlsParams(type, text, caFile) : text;
}
