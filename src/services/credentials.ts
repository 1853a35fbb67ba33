// Service credentials as brokers write them (VCAP_SERVICES or a binding's details), read
// into one shape: where the service is, who to log in as, and what TLS it asks for.

export type ServiceType = 'postgres' | 'mysql' | 'redis' | 'mongodb';

export const SERVICE_TYPES: readonly ServiceType[] = ['postgres', 'mysql', 'redis', 'mongodb'];

/** One entry of VCAP_SERVICES (`{"<label>":[entry, ...]}`), or a binding read from CC. */
export interface ServiceBinding {
  name: string;
  label?: string;
  plan?: string;
  tags?: string[];
  credentials: Record<string, unknown>;
}

export interface Connection {
  host: string;
  port: number;
  database?: string;
  username?: string;
  password?: string;
  /** The credentials' URI as the broker wrote it, when they have one (Mongo's keeps its options there). */
  uri?: string;
  tls: {
    /** The credentials ask for TLS (a rediss:// URI, sslmode=require, a CA, a TLS port). */
    required: boolean;
    /** PEM of the CA the server's certificate is signed by. */
    ca?: string;
  };
}

/** A JSON object; undefined for anything else (null, a list, a string). */
const record = (value: unknown): Record<string, unknown> | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;

const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : typeof value === 'number' ? String(value) : undefined);

const first = (creds: Record<string, unknown>, ...keys: string[]): string | undefined => {
  for (const key of keys) {
    const value = text(creds[key]);
    if (value !== undefined) return value;
  }
  return undefined;
};

function parseUri(creds: Record<string, unknown>): URL | undefined {
  const uri = first(creds, 'uri', 'url');
  if (!uri) return undefined;
  try {
    return new URL(uri);
  } catch {
    return undefined;
  }
}

/** The scheme of the credentials' URI, if they have one: postgres, mysql, rediss, ... */
export function uriScheme(creds: unknown): string | undefined {
  return parseUri(record(creds) ?? {})?.protocol.replace(/:$/, '');
}

function caOf(creds: Record<string, unknown>): string | undefined {
  const tls = record(creds.tls);
  const candidates = [creds.sslrootcert, creds.ca_certificate, creds.ca, record(tls?.cert)?.ca, tls?.ca];
  return candidates.map(text).find((c) => c?.includes('BEGIN CERTIFICATE'));
}

const DEFAULT_PORTS: Record<ServiceType, number> = { postgres: 5432, mysql: 3306, redis: 6379, mongodb: 27017 };

/**
 * Separate fields win over the URI; host is host|hostname|host_name|hosts[0]; the database
 * is name|db_name|dbname|database|db or the URI's path; a TLS port is used when TLS is asked for.
 * Undefined when the credentials name no host and TCP port (an S3 bucket, say), or are no object.
 */
export function parseConnection(given: unknown, type?: ServiceType): Connection | undefined {
  const creds = record(given) ?? {};
  const uri = parseUri(creds);
  const hosts = Array.isArray(creds.hosts) ? text(creds.hosts[0]) : undefined;
  const host = first(creds, 'host', 'hostname', 'host_name') ?? hosts ?? (uri?.hostname || undefined);
  const scheme = uri?.protocol.replace(/:$/, '');
  const ca = caOf(creds);
  const sslmode = first(creds, 'sslmode') ?? uri?.searchParams.get('sslmode') ?? undefined;
  const tlsPort = first(creds, 'tls_port');
  const required = Boolean(
    ca || tlsPort || scheme === 'rediss' || scheme === 'amqps' || (sslmode && !/^(disable|allow|prefer)$/.test(sslmode)) || creds.tls === true || creds.ssl === true,
  );
  const plainPort = first(creds, 'port') ?? (uri?.port || undefined);
  const portText = required && tlsPort ? tlsPort : plainPort;
  const port = portText ? Number(portText) : type ? DEFAULT_PORTS[type] : undefined;
  if (!host || port === undefined || !Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  const rawUri = first(creds, 'uri', 'url');
  const uriDatabase = uri?.pathname.replace(/^\/+/, '') || undefined;
  return {
    host: host.replace(/^\[|\]$/g, ''),
    port,
    database: first(creds, 'name', 'db_name', 'dbname', 'database', 'db') ?? (uriDatabase ? decodeURIComponent(uriDatabase) : undefined),
    username: first(creds, 'username', 'user', 'user_name') ?? (uri?.username ? decodeURIComponent(uri.username) : undefined),
    password: first(creds, 'password') ?? (uri?.password ? decodeURIComponent(uri.password) : undefined),
    ...(rawUri ? { uri: rawUri } : {}),
    tls: { required, ca },
  };
}

const SIGNALS: Record<ServiceType, RegExp> = {
  postgres: /postgres|psql|\bpg\b|rds-pg|\bpg[-_]|elephantsql|crunchy/i,
  mysql: /mysql|mariadb|cleardb|aurora-mysql/i,
  redis: /redis|valkey/i,
  mongodb: /mongo/i,
};

const SCHEMES: Record<string, ServiceType> = {
  postgres: 'postgres',
  postgresql: 'postgres',
  mysql: 'mysql',
  mariadb: 'mysql',
  redis: 'redis',
  rediss: 'redis',
  mongodb: 'mongodb',
};

export interface Detection {
  type?: ServiceType;
  /** What the answer rests on, for messages: "URI scheme postgres", "plan micro-psql". */
  evidence: string[];
}

/**
 * The service's type from everything that hints at it: the URI scheme and jdbcUrl (strong),
 * then label, plan, tags and instance name. Conflicting hints leave it undecided.
 */
export function detectType(binding: ServiceBinding): Detection {
  const creds = record(binding.credentials) ?? {};
  const scheme = uriScheme(creds);
  if (scheme === 'mongodb+srv') return { evidence: ['a mongodb+srv URI (DNS seed lists cannot go through a tunnel)'] };
  if (scheme && SCHEMES[scheme]) return { type: SCHEMES[scheme], evidence: [`URI scheme ${scheme}`] };
  const jdbc = /^jdbc:(\w+):/.exec(text(creds.jdbcUrl) ?? '')?.[1];
  if (jdbc && SCHEMES[jdbc]) return { type: SCHEMES[jdbc], evidence: [`jdbcUrl jdbc:${jdbc}`] };
  const tags: unknown[] = Array.isArray(binding.tags) ? binding.tags : [];
  const hints: [string, string | undefined][] = [
    ['label', text(binding.label)],
    ['plan', text(binding.plan)],
    ...tags.map((tag): [string, string | undefined] => ['tag', text(tag)]),
    ['name', text(binding.name)],
  ];
  const votes = new Map<ServiceType, string[]>();
  for (const [kind, value] of hints) {
    if (!value) continue;
    for (const type of SERVICE_TYPES) {
      if (SIGNALS[type].test(value)) votes.set(type, [...(votes.get(type) ?? []), `${kind} ${value}`]);
    }
  }
  const [only] = votes;
  if (only && votes.size === 1) {
    const [type, evidence] = only;
    return { type, evidence };
  }
  return { evidence: [...votes.values()].flat() };
}

/**
 * One entry of VCAP_SERVICES in the shape ServiceBinding promises, its other fields kept; or why
 * it cannot be used. Odd hints (tags that are no list, a label that is no string) are dropped.
 */
function vcapEntry(entry: unknown, label: string): ServiceBinding | string {
  const fields = record(entry);
  if (!fields) return 'it is not an object';
  const name = text(fields.name);
  if (!name) return 'it has no name';
  if (fields.credentials === undefined) return `'${name}' has no credentials`;
  const credentials = record(fields.credentials);
  if (!credentials) return `the credentials of '${name}' are not an object`;
  const tags = Array.isArray(fields.tags) ? fields.tags.filter((tag): tag is string => typeof tag === 'string') : undefined;
  return { ...fields, name, label: text(fields.label) ?? label, plan: text(fields.plan), tags, credentials };
}

/**
 * The bindings of VCAP_SERVICES, whatever label they are grouped under. An entry that cannot be
 * used (not an object, no name, no credentials object) is left out, and `onSkipped` told why.
 */
export function vcapBindings(vcap: unknown, onSkipped: (note: string) => void = () => undefined): ServiceBinding[] {
  const bindings: ServiceBinding[] = [];
  for (const [label, entries] of Object.entries(record(vcap) ?? {})) {
    if (!Array.isArray(entries)) {
      onSkipped(`Skipped '${label}' in VCAP_SERVICES: it is not a list of services.`);
      continue;
    }
    entries.forEach((entry: unknown, i) => {
      const binding = vcapEntry(entry, label);
      if (typeof binding === 'string') onSkipped(`Skipped entry ${i + 1} of '${label}' in VCAP_SERVICES: ${binding}.`);
      else bindings.push(binding);
    });
  }
  return bindings;
}

/** CredHub-backed bindings show only a reference in VCAP_SERVICES. */
export function isCredhubReference(creds: unknown): boolean {
  return typeof record(creds)?.['credhub-ref'] === 'string';
}
