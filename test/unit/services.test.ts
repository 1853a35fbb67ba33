// Service credentials in the shapes real brokers write, type detection, and how each native
// client is started (secrets never in its arguments).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { connectionUrl, type LocalProgram, mongoUri, nativeClient } from '../../src/services/clients.js';
import { detectType, parseConnection, type ServiceBinding, vcapBindings } from '../../src/services/credentials.js';
import { programEnvironment } from '../../src/services/program-env.js';

const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const local = { host: '127.0.0.1', port: 40001 };
/** The local end of a TLS bridge: its certificate signed by the run's CA. */
const RUN_CA = '-----BEGIN CERTIFICATE-----\nRUN\n-----END CERTIFICATE-----\n';
const bridged = { ...local, ca: RUN_CA };
/** The program as it would start, its folder /F. */
const prepared = (program: LocalProgram) => program.prepare((file) => `/F/${file}`);

const rds: ServiceBinding = {
  name: 'my-db',
  label: 'aws-rds',
  plan: 'micro-psql',
  tags: ['database', 'RDS'],
  credentials: { uri: 'postgres://u1:p%40ss@db.internal:5432/db1', username: 'u1', password: 'p@ss', host: 'db.internal', port: '5432', db_name: 'db1', name: 'db1' },
};
const tanzuMysql: ServiceBinding = {
  name: 'orders',
  label: 'p.mysql',
  plan: 'db-small',
  credentials: {
    hostname: 'mysql.internal',
    port: 3306,
    name: 'service_instance_db',
    username: 'mu',
    password: 'mp',
    uri: 'mysql://mu:mp@mysql.internal:3306/service_instance_db?reconnect=true',
    jdbcUrl: 'jdbc:mysql://mysql.internal:3306/service_instance_db?user=mu',
    tls: { cert: { ca: CA } },
  },
};
const tanzuPostgres: ServiceBinding = {
  name: 'pg',
  label: 'postgres',
  credentials: { db: 'postgres', hosts: ['pg-0.internal'], port: 5432, user: 'pgadmin', password: 'secret', uri: 'postgresql://pgadmin:secret@pg-0.internal:5432/postgres' },
};
const redisUri: ServiceBinding = { name: 'cache', label: 'p.redis', credentials: { uri: 'rediss://:rpass@redis.internal:6380' } };
const sap: ServiceBinding = {
  name: 'hana-pg',
  label: 'postgresql-db',
  credentials: { username: 'su', password: 'sp', hostname: 'sap.internal', dbname: 'sapdb', port: '1234', uri: 'postgres://sap.internal:1234/sapdb', sslrootcert: CA },
};

describe('service credentials', () => {
  it('reads the cloud.gov aws-rds shape: fields win over the URI, ports as strings', () => {
    assert.deepEqual(parseConnection(rds.credentials), {
      host: 'db.internal',
      port: 5432,
      database: 'db1',
      username: 'u1',
      password: 'p@ss',
      uri: 'postgres://u1:p%40ss@db.internal:5432/db1',
      tls: { required: false, ca: undefined },
    });
  });

  it('reads Tanzu MySQL and Postgres shapes (hosts[0], user, db) and finds a CA', () => {
    const mysql = parseConnection(tanzuMysql.credentials)!;
    assert.equal(mysql.host, 'mysql.internal');
    assert.equal(mysql.database, 'service_instance_db');
    assert.equal(mysql.tls.ca, CA);
    assert.equal(mysql.tls.required, true);
    assert.deepEqual(parseConnection(tanzuPostgres.credentials), {
      host: 'pg-0.internal',
      port: 5432,
      database: 'postgres',
      username: 'pgadmin',
      password: 'secret',
      uri: 'postgresql://pgadmin:secret@pg-0.internal:5432/postgres',
      tls: { required: false, ca: undefined },
    });
  });

  it('reads a URI alone (rediss means TLS) and SAP’s shape with its own CA', () => {
    assert.deepEqual(parseConnection(redisUri.credentials), {
      host: 'redis.internal',
      port: 6380,
      database: undefined,
      username: undefined,
      password: 'rpass',
      uri: 'rediss://:rpass@redis.internal:6380',
      tls: { required: true, ca: undefined },
    });
    const s = parseConnection(sap.credentials)!;
    assert.equal(s.database, 'sapdb');
    assert.equal(s.port, 1234);
    assert.equal(s.tls.ca, CA);
  });

  it('uses tls_port when TLS is asked for, and gives up on credentials without a host', () => {
    assert.equal(parseConnection({ host: 'r', port: 6379, tls_port: 6380, password: 'x' })!.port, 6380);
    assert.equal(parseConnection({ bucket: 'b', access_key_id: 'k', secret_access_key: 's' }), undefined);
  });

  it('flattens VCAP_SERVICES whatever the labels', () => {
    assert.deepEqual(
      vcapBindings({ 'aws-rds': [rds], 'p.mysql': [tanzuMysql] }).map((b) => b.name),
      ['my-db', 'orders'],
    );
  });
});

describe('type detection', () => {
  it('combines URI scheme, jdbcUrl, label, plan and tags', () => {
    assert.equal(detectType(rds).type, 'postgres');
    assert.equal(detectType({ ...rds, credentials: { ...rds.credentials, uri: undefined } }).type, 'postgres', 'plan micro-psql alone is enough');
    assert.equal(detectType(tanzuMysql).type, 'mysql');
    assert.equal(detectType(redisUri).type, 'redis');
    assert.equal(detectType(sap).type, 'postgres');
    const unknown = detectType({ name: 'x', label: 'mystery', credentials: { host: 'h', port: 1 } });
    assert.equal(unknown.type, undefined);
    assert.deepEqual(unknown.evidence, []);
    const torn = detectType({ name: 'x', label: 'redis', tags: ['mysql'], credentials: { host: 'h', port: 1 } });
    assert.equal(torn.type, undefined, 'conflicting hints decide nothing');
    assert.deepEqual(torn.evidence, ['label redis', 'tag mysql']);
    assert.match(detectType({ name: 'm', credentials: { uri: 'mongodb+srv://c.example.net/db' } }).evidence[0] ?? '', /cannot go through a tunnel/);
  });
});

describe('native clients', () => {
  const secrets = ['p@ss', 'mp', 'rpass'];
  const noSecretInArgs = (args: string[]) => assert.ok(!args.some((a) => secrets.some((s) => a.includes(s))), `secret in ${args.join(' ')}`);

  it('psql gets everything in its environment; through a TLS bridge verify-full against the run CA, without channel binding', () => {
    const plain = prepared(nativeClient('postgres', parseConnection(rds.credentials)!, local));
    assert.deepEqual(plain.args, []);
    assert.deepEqual(plain.env, { PGPORT: '40001', PGHOST: '127.0.0.1', PGSSLMODE: 'prefer', PGUSER: 'u1', PGPASSWORD: 'p@ss', PGDATABASE: 'db1' });
    const tls = prepared(nativeClient('postgres', parseConnection(sap.credentials)!, bridged));
    assert.deepEqual(tls.env, {
      PGHOST: '127.0.0.1',
      PGPORT: '40001',
      PGSSLMODE: 'verify-full',
      PGSSLROOTCERT: '/F/ca.pem',
      PGCHANNELBINDING: 'disable',
      PGUSER: 'su',
      PGPASSWORD: 'sp',
      PGDATABASE: 'sapdb',
    });
    assert.deepEqual(tls.files, [{ name: 'ca.pem', content: RUN_CA }], "the run's CA, not the service's");
  });

  it('mysql reads a defaults file given as the first argument; through a TLS bridge it verifies the run CA', () => {
    const launch = prepared(nativeClient('mysql', parseConnection(tanzuMysql.credentials)!, bridged));
    assert.deepEqual(launch.args, ['--defaults-extra-file=/F/my.cnf']);
    noSecretInArgs(launch.args);
    assert.equal(
      launch.files[0]?.content,
      '[client]\nhost=127.0.0.1\nport=40001\nprotocol=TCP\nuser="mu"\npassword="mp"\ndatabase="service_instance_db"\nssl-ca="/F/ca.pem"\nssl-verify-server-cert\n',
    );
    assert.deepEqual(launch.files[1], { name: 'ca.pem', content: RUN_CA });
    const plain = prepared(nativeClient('mysql', { host: 'h', port: 1, username: 'u', tls: { required: false } }, local));
    assert.equal(plain.files[0]?.content, '[client]\nhost=127.0.0.1\nport=40001\nprotocol=TCP\nuser="u"\n');
    assert.equal(plain.files.length, 1);
  });

  it('redis-cli gets REDISCLI_AUTH, and through a TLS bridge verifies the run CA (never --insecure)', () => {
    const launch = prepared(nativeClient('redis', parseConnection(redisUri.credentials)!, bridged));
    assert.deepEqual(launch.env, { REDISCLI_AUTH: 'rpass' });
    assert.deepEqual(launch.args, ['-h', '127.0.0.1', '-p', '40001', '--tls', '--cacert', '/F/ca.pem']);
    assert.deepEqual(launch.files, [{ name: 'ca.pem', content: RUN_CA }]);
    noSecretInArgs(launch.args);
  });

  it('mongosh through a TLS bridge: tls=true and the run CA in its URI', () => {
    const launch = prepared(nativeClient('mongodb', { host: 'm', port: 27017, database: 'app', username: 'mo', password: 'mpw', tls: { required: true } }, bridged));
    assert.equal(launch.files[0]?.content, 'db = connect("mongodb://mo:mpw@127.0.0.1:40001/app?tls=true&directConnection=true&tlsCAFile=%2FF%2Fca.pem");\n');
    assert.deepEqual(launch.files[1], { name: 'ca.pem', content: RUN_CA });
  });

  it('mongosh logs in from a script file, not from its arguments', () => {
    const launch = prepared(nativeClient('mongodb', { host: 'm', port: 27017, database: 'app', username: 'mo', password: 'mpw', tls: { required: false } }, local));
    assert.deepEqual(launch.args, ['--nodb', '--shell', '/F/connect.js']);
    assert.equal(launch.files[0]?.content, 'db = connect("mongodb://mo:mpw@127.0.0.1:40001/app?directConnection=true");\n');
    assert.equal(launch.files[0]?.readAtStart, true, 'removed once mongosh has connected');
  });

  it('connection strings mask the password unless asked', () => {
    const conn = parseConnection(rds.credentials)!;
    assert.equal(connectionUrl('postgres', conn, local, false), 'postgres://u1:********@127.0.0.1:40001/db1');
    assert.equal(connectionUrl('postgres', conn, local, true), 'postgres://u1:p%40ss@127.0.0.1:40001/db1');
    assert.equal(
      connectionUrl('postgres', parseConnection(sap.credentials)!, bridged, false, '/F/ca.pem'),
      'postgres://su:********@127.0.0.1:40001/sapdb?sslmode=verify-full&sslrootcert=%2FF%2Fca.pem&channel_binding=disable',
    );
  });
});

describe('-- COMMAND: the program’s environment', () => {
  it('points PG*, DATABASE_URL and a rewritten VCAP_SERVICES at the tunnel', () => {
    const conn = parseConnection(rds.credentials)!;
    const program = prepared(programEnvironment(['pg_dump', '--schema-only'], [{ name: 'svc', type: 'postgres', binding: rds, conn, local }]));
    assert.deepEqual(programEnvironment(['pg_dump'], [{ name: 'svc', type: 'postgres', binding: rds, conn, local }]).programs, ['pg_dump']);
    assert.deepEqual(program.args, ['--schema-only']);
    assert.equal(program.env.PGPORT, '40001');
    assert.equal(program.env.DATABASE_URL, 'postgres://u1:p%40ss@127.0.0.1:40001/db1');
    const vcap = JSON.parse(program.env.VCAP_SERVICES ?? '')['aws-rds'][0].credentials;
    assert.equal(vcap.host, '127.0.0.1');
    assert.equal(vcap.port, '40001');
    assert.equal(vcap.uri, 'postgres://u1:p%40ss@127.0.0.1:40001/db1');
  });

  it('through a TLS bridge: a verifying DATABASE_URL, the run CA in a file that lives with the command and in VCAP_SERVICES', () => {
    const program = prepared(programEnvironment(['migrate'], [{ name: 'svc', type: 'postgres', binding: sap, conn: parseConnection(sap.credentials)!, local: bridged }]));
    assert.equal(program.env.DATABASE_URL, 'postgres://su:sp@127.0.0.1:40001/sapdb?sslmode=verify-full&sslrootcert=%2FF%2Fca.pem&channel_binding=disable');
    assert.equal(program.env.PGSSLMODE, 'verify-full');
    assert.equal(program.env.PGCHANNELBINDING, 'disable');
    assert.deepEqual(program.files, [{ name: 'ca.pem', content: RUN_CA, readAtStart: false }]);
    const vcap = JSON.parse(program.env.VCAP_SERVICES ?? '')['postgresql-db'][0].credentials;
    assert.equal(vcap.sslrootcert, RUN_CA);
    assert.equal(vcap.hostname, '127.0.0.1');
    const mysql = prepared(programEnvironment(['tool'], [{ name: 'svc', type: 'mysql', binding: tanzuMysql, conn: parseConnection(tanzuMysql.credentials)!, local: bridged }]));
    assert.deepEqual(JSON.parse(mysql.env.VCAP_SERVICES ?? '')['p.mysql'][0].credentials.tls, { cert: { ca: RUN_CA } });
  });

  it('gives mysql tools MYSQL_* and a defaults file', () => {
    const program = prepared(programEnvironment(['mysqldump', 'db'], [{ name: 'svc', type: 'mysql', binding: tanzuMysql, conn: parseConnection(tanzuMysql.credentials)!, local }]));
    assert.equal(program.env.MYSQL_TCP_PORT, '40001');
    assert.equal(program.env.MYSQL_DEFAULTS_EXTRA_FILE, '/F/my.cnf');
    assert.ok(program.files.some((f) => f.name === 'my.cnf'));
  });
});

describe('the MySQL option file', () => {
  // Secrets that would be syntax if written as they are: a newline starts a new option (pager= runs a command).
  const awkward = [
    'x\npager=touch /tmp/pwned #',
    'line1\nline2',
    'back\\slash',
    'quo"te',
    "it's",
    ' spaces at both ends ',
    'hash # and ; semi',
    'tab\there',
    'cr\rlf',
    '$HOME `id` {dir}',
    'ünïcødé 🔑',
    'bs\b',
  ];

  it('writes every value so that the client reads back exactly that value (checked with MariaDB’s own reader)', { skip: !existsSync('/usr/bin/my_print_defaults') }, () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cf-ssh-tools-option-file-'));
    try {
      for (const password of awkward) {
        const launch = prepared(
          nativeClient('mysql', { host: 'db.internal', port: 3306, username: 'u', password, database: 'd', tls: { required: false } }, { host: '127.0.0.1', port: 1 }),
        );
        const file = path.join(dir, 'my.cnf');
        writeFileSync(file, launch.files[0]?.content ?? '');
        const read = execFileSync('my_print_defaults', [`--defaults-file=${file}`, 'client']).toString();
        assert.equal(read, `--host=127.0.0.1\n--port=1\n--protocol=TCP\n--user=u\n--password=${password}\n--database=d\n`, JSON.stringify(password));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a value the file cannot hold (NUL), naming which', () => {
    assert.throws(
      () => prepared(nativeClient('mysql', { host: 'h', port: 1, username: 'u', password: 'a\0b', tls: { required: false } }, { host: '127.0.0.1', port: 1 })),
      /^UserError: The service's password holds a NUL character, which the MySQL client's option file cannot hold\.$/,
    );
  });
});

describe('secrets never become syntax', () => {
  // Each must come back exactly from every format it is written into.
  const awkward = [
    `quo"te and it's`,
    'back\\slash',
    '$HOME ${x} `id`',
    'hash # semi ; equals =',
    '{dir}',
    'line1\nline2',
    ' spaces at both ends ',
    'ünïcødé',
    'emoji 🔑',
    'at@colon:slash/percent%41',
    '?question&amp#frag',
  ];
  const conn = (secret: string) => ({ host: 'db.internal', port: 5432, username: `u-${secret}`, password: secret, database: 'd', tls: { required: false } });
  const credentials = (secret: string) => ({
    uri: `postgres://${encodeURIComponent(`u-${secret}`)}:${encodeURIComponent(secret)}@db.internal:5432/d`,
    host: 'db.internal',
    port: 5432,
    username: `u-${secret}`,
    password: secret,
    name: 'd',
  });
  const userAndPassword = (text: string) => {
    const url = new URL(text);
    return [decodeURIComponent(url.username), decodeURIComponent(url.password)];
  };

  for (const secret of awkward) {
    it(`every format gives back ${JSON.stringify(secret)}`, () => {
      const expected = [`u-${secret}`, secret];
      for (const type of ['postgres', 'mysql', 'redis', 'mongodb'] as const) {
        assert.deepEqual(userAndPassword(connectionUrl(type, conn(secret), local, true)), expected, `the ${type} url`);
      }
      const binding: ServiceBinding = { name: 'db', label: 'postgres', credentials: credentials(secret) };
      const program = prepared(programEnvironment(['tool'], [{ name: 'svc', type: 'postgres', binding: binding, conn: parseConnection(binding.credentials)!, local }]));
      assert.deepEqual(userAndPassword(program.env.DATABASE_URL ?? ''), expected, 'DATABASE_URL');
      assert.equal(program.env.PGPASSWORD, secret, 'PGPASSWORD as it is');
      const vcap = JSON.parse(program.env.VCAP_SERVICES ?? '').postgres[0].credentials;
      assert.deepEqual(userAndPassword(vcap.uri), expected, "VCAP_SERVICES' uri");
      assert.equal(new URL(vcap.uri).host, '127.0.0.1:40001');
      assert.equal(vcap.password, secret);
      const redis = prepared(programEnvironment(['tool'], [{ name: 'svc', type: 'redis', binding: binding, conn: conn(secret), local }]));
      assert.deepEqual(userAndPassword(redis.env.REDIS_URL ?? ''), expected, 'REDIS_URL');
      assert.equal(redis.env.REDISCLI_AUTH, secret);
      const script = prepared(nativeClient('mongodb', conn(secret), local)).files[0]?.content ?? '';
      const literal = /^db = connect\((".*")\);\n$/s.exec(script)?.[1];
      assert.ok(literal, script);
      assert.deepEqual(userAndPassword(JSON.parse(literal)), expected, "mongosh's script");
    });
  }

  it('a Redis password without a user is the default user’s, as redis-cli -u needs it', () => {
    assert.equal(connectionUrl('redis', parseConnection(redisUri.credentials)!, bridged, true), 'rediss://default:rpass@127.0.0.1:40001');
  });
});

describe('Mongo keeps its URI', () => {
  it('connects with the binding’s URI: its options kept, the hosts and port the tunnel’s', () => {
    const uri = 'mongodb://app%40user:p%3Ass@m-0.internal:27017,m-1.internal:27017,m-2.internal:27017/orders?replicaSet=rs0&authSource=admin&tls=true';
    const conn = parseConnection({ uri, hosts: ['m-0.internal'], port: 27017 }, 'mongodb')!;
    assert.equal(
      mongoUri(conn, bridged, '/F/ca.pem'),
      'mongodb://app%40user:p%3Ass@127.0.0.1:40001/orders?replicaSet=rs0&authSource=admin&tls=true&directConnection=true&tlsCAFile=%2FF%2Fca.pem',
    );
    const script = prepared(nativeClient('mongodb', conn, local)).files[0]?.content;
    assert.equal(script, `db = connect("mongodb://app%40user:p%3Ass@127.0.0.1:40001/orders?replicaSet=rs0&authSource=admin&tls=true&directConnection=true");\n`);
  });

  it('mongodump and mongorestore read the URI from a 0600 config file, not their arguments', () => {
    const conn = parseConnection({ uri: 'mongodb://u:secret@m:27017/db?authSource=admin' }, 'mongodb')!;
    const dump = prepared(nativeClient('mongodb', conn, local, 'mongodump', ['--gzip']));
    assert.deepEqual(dump.args, ['--config=/F/mongo-tools.yaml', '--gzip']);
    assert.deepEqual(dump.files, [
      { name: 'mongo-tools.yaml', content: 'uri: "mongodb://u:secret@127.0.0.1:40001/db?authSource=admin&directConnection=true"\n', readAtStart: true },
    ]);
  });
});

describe('native clients by name after --', () => {
  it('mysqldump takes the database as an argument, not from its option file', () => {
    const conn = parseConnection(tanzuMysql.credentials)!;
    const dump = prepared(nativeClient('mysql', conn, local, 'mariadb-dump', ['--no-data']));
    assert.deepEqual(dump.args, ['--defaults-extra-file=/F/my.cnf', 'service_instance_db', '--no-data']);
    assert.doesNotMatch(dump.files[0]?.content ?? '', /database=/);
    assert.deepEqual(prepared(nativeClient('mysql', conn, local, 'mysqldump', ['--all-databases'])).args, ['--defaults-extra-file=/F/my.cnf', '--all-databases']);
  });
});
