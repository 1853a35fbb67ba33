// The test foundation's service brokers: service instances in demo-space, backed by its real
// database servers (databases.ts) and bound to the app db-app, each handing out credentials in
// the shape a real broker does (PROTOCOLS.md §8), so that clients meet the variety they meet on
// real foundations: a URI or separate fields, the port as a number or a string, `host`,
// `hostname` or `hosts`, a CA in `sslrootcert` or `tls`, a CredHub reference.
import { randomUUID } from 'node:crypto';
import { generate } from 'selfsigned';
import type { DatabaseKind, DatabaseServer, Databases } from './databases.js';
import type { Credentials, World } from './state.js';

const userInfo = (user: string, password: string) => `${encodeURIComponent(user)}:${encodeURIComponent(password)}@`;

/** cloud.gov's aws-rds (PostgreSQL): a URI and the same in fields, the port as a string. */
function awsRds(db: DatabaseServer, password = db.password): Credentials {
  return {
    db_name: db.database,
    host: 'localhost',
    name: db.database,
    password,
    port: String(db.port),
    uri: `postgres://${userInfo(db.username, password)}localhost:${db.port}/${db.database}`,
    username: db.username,
  };
}

/** SAP BTP's postgresql-db: `hostname`, `dbname`, a URI without credentials, the server's certificate and its CA. */
function sapPostgresqlDb(db: DatabaseServer): Credentials {
  // The account PostgreSQL lets in over TLS only: a client that ignores the CA cannot log in.
  const { username, password } = db.tlsUser as NonNullable<DatabaseServer['tlsUser']>;
  return {
    dbname: db.database,
    hostname: 'localhost',
    password,
    port: String(db.port),
    sslcert: db.certificate,
    sslrootcert: db.ca,
    uri: `postgres://localhost:${db.port}/${db.database}`,
    username,
  };
}

/** Tanzu Postgres: `hosts`, `db`, `user`, a URI and a JDBC URL. */
function tanzuPostgres(db: DatabaseServer): Credentials {
  const query = new URLSearchParams({ user: db.username, password: db.password });
  return {
    db: db.database,
    hosts: ['localhost'],
    jdbcUrl: `jdbc:postgresql://localhost:${db.port}/${db.database}?${query}`,
    password: db.password,
    port: db.port,
    uri: `postgresql://${userInfo(db.username, db.password)}localhost:${db.port}/${db.database}`,
    user: db.username,
  };
}

/** Tanzu MySQL: `hostname`, `name`, a URI with ?reconnect=true, a JDBC URL, and the CA under tls.cert.ca. */
function tanzuMysql(db: DatabaseServer): Credentials {
  const query = new URLSearchParams({ user: db.username, password: db.password });
  return {
    hostname: 'localhost',
    jdbcUrl: `jdbc:mysql://localhost:${db.port}/${db.database}?${query}`,
    name: db.database,
    password: db.password,
    port: db.port,
    tls: { cert: { ca: db.ca } },
    uri: `mysql://${userInfo(db.username, db.password)}localhost:${db.port}/${db.database}?reconnect=true`,
    username: db.username,
  };
}

/** Tanzu Redis, the short way: a URI alone. */
const redisUri = (db: DatabaseServer): Credentials => ({ uri: `redis://:${encodeURIComponent(db.password)}@127.0.0.1:${db.port}` });

/** Tanzu Redis with TLS: host, port, password, tls_port, and the CA. */
function redisTls(db: DatabaseServer): Credentials {
  if (!db.tlsPort) throw new Error('this redis-server was built without TLS');
  return { host: 'localhost', password: db.password, port: db.port, tls: { ca: db.ca }, tls_port: db.tlsPort };
}

/** A CA that signed nothing here: a broker that hands out the wrong one. */
let foreignCa: Promise<string> | undefined;
const aForeignCa = () =>
  (foreignCa ??= generate([{ name: 'commonName', value: 'a CA that signed no server here' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [{ name: 'basicConstraints', cA: true, critical: true }],
  }).then((ca) => ca.cert));

/** SAP BTP's postgresql-db, with a CA that did not sign the server's certificate. */
const withForeignCa = async (db: DatabaseServer): Promise<Credentials> => ({ ...sapPostgresqlDb(db), sslrootcert: await aForeignCa() });

/** Tanzu MySQL reached by its address: its certificate names its host name only. */
function mysqlByAddress(db: DatabaseServer): Credentials {
  const credentials = tanzuMysql(db);
  return { ...credentials, hostname: '127.0.0.1', uri: String(credentials.uri).replace('@localhost:', '@127.0.0.1:') };
}

interface Service {
  name: string;
  kind: DatabaseKind;
  label: string;
  description: string;
  plan: string;
  tags: string[];
  credentials(db: DatabaseServer): Credentials | Promise<Credentials>;
  credhub?: boolean;
  /** PGlite cannot serve it: it neither checks passwords nor speaks TLS. */
  needsPostgresql?: boolean;
}

const SERVICES: Service[] = [
  { name: 'demo-pg', kind: 'postgres', label: 'aws-rds', description: 'Dedicated databases on AWS RDS', plan: 'micro-psql', tags: ['database', 'RDS'], credentials: awsRds },
  {
    name: 'demo-pg-tls',
    kind: 'postgres',
    label: 'postgresql-db',
    description: 'PostgreSQL on SAP BTP',
    plan: 'development',
    tags: ['postgres', 'postgresql', 'relational'],
    credentials: sapPostgresqlDb,
    needsPostgresql: true,
  },
  {
    name: 'broken-pg',
    kind: 'postgres',
    label: 'aws-rds',
    description: 'Dedicated databases on AWS RDS',
    plan: 'micro-psql',
    tags: ['database', 'RDS'],
    credentials: (db) => awsRds(db, 'not-the-password'),
    needsPostgresql: true,
  },
  {
    name: 'credhub-pg',
    kind: 'postgres',
    label: 'postgres',
    description: 'Tanzu Postgres',
    plan: 'on-demand-postgres-small',
    tags: ['postgres'],
    credentials: tanzuPostgres,
    credhub: true,
  },
  {
    name: 'wrong-ca-pg',
    kind: 'postgres',
    label: 'postgresql-db',
    description: 'PostgreSQL on SAP BTP',
    plan: 'development',
    tags: ['postgres', 'postgresql', 'relational'],
    credentials: withForeignCa,
    needsPostgresql: true,
  },
  { name: 'demo-mysql', kind: 'mysql', label: 'p.mysql', description: 'Tanzu MySQL', plan: 'db-small', tags: ['mysql'], credentials: tanzuMysql },
  { name: 'mysql-by-address', kind: 'mysql', label: 'p.mysql', description: 'Tanzu MySQL', plan: 'db-small', tags: ['mysql'], credentials: mysqlByAddress },
  { name: 'demo-redis', kind: 'redis', label: 'p.redis', description: 'Tanzu Redis', plan: 'cache-small', tags: ['redis', 'pivotal', 'on-demand'], credentials: redisUri },
  {
    name: 'demo-redis-tls',
    kind: 'redis',
    label: 'p.redis',
    description: 'Tanzu Redis',
    plan: 'cache-small-tls',
    tags: ['redis', 'pivotal', 'on-demand'],
    credentials: redisTls,
  },
  // A user-provided service with nothing that tells its type: clients must say it with --type.
  {
    name: 'legacy-db',
    kind: 'postgres',
    label: 'user-provided',
    description: 'User-provided service',
    plan: '',
    tags: [],
    credentials: (db) => ({ host: 'localhost', port: db.port, username: db.username, password: db.password, database: db.database }),
  },
];

/** Services that are not databases here: nothing to tunnel to. */
const NOT_TUNNELABLE = [
  {
    name: 'demo-bucket',
    label: 's3',
    description: 'AWS S3 buckets',
    plan: 'basic',
    tags: ['s3'],
    credentials: { bucket: 'demo-bucket-3f9a', region: 'us-gov-west-1', access_key_id: 'AKIAEXAMPLE', secret_access_key: 'not-a-real-secret-key' },
  },
];

/**
 * Adds the app db-app to demo-space (started, one running instance) and binds it to a
 * service instance of each service whose database can run here.
 */
export function seedServices(world: World, databases: Databases): void {
  const space = world.spaces.find((s) => s.name === 'demo-space');
  if (!space) throw new Error('the world has no demo-space');
  const app = world.addApp(space, 'db-app');
  const offeringGuids = new Map<string, string>();
  for (const service of SERVICES) {
    const engine = databases.engine(service.kind);
    if (!engine || (service.needsPostgresql && engine === 'PGlite')) continue;
    const offeringGuid = offeringGuids.get(service.label) ?? randomUUID();
    offeringGuids.set(service.label, offeringGuid);
    const instance = world.addServiceInstance(space, {
      name: service.name,
      offering: { guid: offeringGuid, label: service.label, description: service.description },
      plan: { guid: randomUUID(), name: service.plan },
      tags: service.tags,
      credhub: service.credhub,
      credentials: async () => service.credentials(await databases.start(service.kind)),
    });
    world.addBinding(instance, { type: 'app', app }, 'admin');
  }
  for (const service of NOT_TUNNELABLE) {
    const instance = world.addServiceInstance(space, {
      name: service.name,
      offering: { guid: randomUUID(), label: service.label, description: service.description },
      plan: { guid: randomUUID(), name: service.plan },
      tags: service.tags,
      credentials: async () => service.credentials,
    });
    world.addBinding(instance, { type: 'app', app }, 'admin');
  }
}
