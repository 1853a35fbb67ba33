// The test Cloud Foundry: CC v3 and UAA on one HTTP(S) server on loopback, a Diego-like
// SSH proxy in front of the app instances' SSH servers, service instances backed by real
// database servers, plus a /foundation control API the tests use to change the world (global
// SSH switch, token revocation and expiry, for everyone or one user, warnings, page size,
// instance states, host key fingerprint format, dropped connections, service brokers' delay
// and failures, counted or lasting) and to read what was asked of it (requests, SSH log,
// backends, databases, service keys).
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { generate } from 'selfsigned';
import { type BackendKind, BackendPool } from './backends.js';
import { auditRoutes } from './audit-routes.js';
import { type CcSettings, ccRoutes } from './cc-routes.js';
import { complianceControlRoutes } from './compliance-control.js';
import { DATABASE_KINDS, type DatabaseKind, Databases, type PostgresEngine } from './databases.js';
import { deploymentRoutes, Deployments } from './deployments.js';
import { metadataRoutes } from './metadata-routes.js';
import { rolesRoutes } from './roles-routes.js';
import { ccError, json, type Reply, type Request, Router } from './router.js';
import { serviceRoutes } from './service-routes.js';
import { seedApps, seedHistory } from './seed.js';
import { seedServices } from './services.js';
import { FINGERPRINT_FORMATS, type FingerprintFormat, SshProxy } from './ssh-proxy.js';
import { INSTANCE_STATES, type Instance, World } from './state.js';
import { TokenService } from './tokens.js';
import { uaaRoutes } from './uaa-routes.js';

export interface FoundationOptions {
  port?: number;
  host?: string;
  https?: boolean;
  /** Seconds an access token lives. */
  accessTokenTtl?: number;
  /** Run the SSH proxy and the instances' SSH servers (default true). */
  ssh?: boolean;
  /** The SSH proxy's port on 127.0.0.1 (default: any free port). */
  sshPort?: number;
  /** What serves the instances behind the proxy (default: OpenSSH's sshd when installed, else built-in). */
  sshBackend?: BackendKind;
  /**
   * Service instances backed by real database servers, bound to the app db-app: all installed
   * ones (true) or those listed (default: none). Each server starts at its first need.
   */
  databases?: boolean | DatabaseKind[];
  /** What serves `postgres` (default: PostgreSQL where installed, else PGlite). */
  postgres?: PostgresEngine;
  /** Where a line goes when a database server starts or fails to (main.ts: stderr). */
  databaseLog?: (line: string) => void;
  /**
   * Addresses published to clients instead of those the foundation listens on, e.g. relays in
   * front of it: the API origin (root and v3 links), the UAA origin (uaa and login links; its
   * /uaa path is the foundation's) and the SSH endpoint as HOST:PORT (app_ssh).
   */
  published?: { apiUrl?: string; uaaUrl?: string; ssh?: string };
  /** Extra apps, 100 to a space and 50 spaces to an org (perf-org-K, perf-space-K), to benchmark large orgs. */
  seedApps?: number;
  /** Days audit events are kept (CC's sample configuration: 31). */
  auditRetentionDays?: number;
}

export interface RecordedRequest {
  /** The Host header: which published address the client used (absent in records made by hand). */
  host?: string;
  method: string;
  path: string;
  query: string;
}

export interface Foundation {
  url: string;
  world: World;
  tokens: TokenService;
  settings: CcSettings;
  requests: RecordedRequest[];
  /** The certificate of an HTTPS foundation, for clients that trust it. */
  certificate?: string;
  /** The SSH proxy (host:port in `ssh.proxy.address`) and the instances behind it, unless `ssh: false`. */
  ssh?: FoundationSsh;
  /** The database servers behind the service instances, with `databases`. */
  databases?: Databases;
  deployments: Deployments;
  stop(): Promise<void>;
}

export interface FoundationSsh {
  proxy: SshProxy;
  backends: BackendPool;
}

export async function startFoundation(options: FoundationOptions = {}): Promise<Foundation> {
  const world = new World();
  if (options.auditRetentionDays) world.audit.retentionDays = options.auditRetentionDays;
  seedHistory(world);
  seedApps(world, options.seedApps ?? 0);
  // Where it listens (its SSH proxy and backends call it there), and what clients are told.
  let url = '';
  let apiUrl = '';
  const uaaUrl = () => `${options.published?.uaaUrl ?? apiUrl}/uaa`;
  const tokens = new TokenService(uaaUrl);
  if (options.accessTokenTtl) tokens.accessTtlSeconds = options.accessTokenTtl;
  const settings: CcSettings = { pageSize: 50, appSsh: { href: '', fingerprint: '' }, brokerDelayMs: 300, brokerCreateFailures: 0, brokerDeleteFailures: 0 };
  const requests: RecordedRequest[] = [];

  let tls: { key: string; cert: string } | undefined;
  if (options.https) {
    const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
      keySize: 2048,
      extensions: [
        {
          name: 'subjectAltName',
          altNames: [
            { type: 2, value: 'localhost' },
            { type: 7, ip: '127.0.0.1' },
          ],
        },
      ],
    });
    tls = { key: pems.private, cert: pems.cert };
  }
  const certificate = tls?.cert;

  const databaseKinds = options.databases === true ? DATABASE_KINDS : options.databases || [];
  let databases: Databases | undefined;
  if (databaseKinds.length > 0) {
    databases = new Databases({ kinds: databaseKinds, postgres: options.postgres, log: options.databaseLog });
    seedServices(world, databases);
  }

  let ssh: FoundationSsh | undefined;
  if (options.ssh ?? true) {
    const backends = new BackendPool(world, () => url, options.sshBackend);
    const proxy = await SshProxy.start({ world, tokens, backends, uaaUrl: () => `${url}/uaa`, ca: () => certificate, port: options.sshPort });
    ssh = { proxy, backends };
    settings.appSsh = { href: options.published?.ssh ?? proxy.address, fingerprint: proxy.fingerprint('sha256-base64') };
  }
  const deployments = new Deployments(world, async (process) => {
    if (ssh) await Promise.all(process.instances.map((_, index) => ssh.backends.stopInstance(process.guid, index)));
  });
  const stopServers = async () => {
    deployments.stop();
    await ssh?.proxy.stop();
    await ssh?.backends.stop();
    await databases?.stop();
  };

  const router = new Router();
  uaaRoutes(router, world, tokens, uaaUrl);
  const renderers = ccRoutes(router, world, tokens, settings, () => apiUrl, uaaUrl);
  metadataRoutes(router, world, tokens, settings, renderers);
  serviceRoutes(router, world, tokens, settings, () => apiUrl);
  auditRoutes(router, world, tokens, settings, () => apiUrl);
  rolesRoutes(router, world, tokens, settings, () => apiUrl);
  deploymentRoutes(router, world, deployments, tokens, settings, () => apiUrl);
  controlRoutes(router, world, tokens, settings, requests, ssh, databases);
  complianceControlRoutes(router, world, deployments);

  const handler: http.RequestListener = (req, res) => {
    const parsed = new URL(req.url ?? '/', 'http://foundation');
    if (!parsed.pathname.startsWith('/foundation/')) {
      requests.push({ host: req.headers.host, method: req.method ?? 'GET', path: parsed.pathname, query: parsed.search });
    }
    void router.dispatch(req, res, apiUrl, () => ccError(404, 10000, 'CF-NotFound', 'Unknown request'));
  };

  const server = tls ? https.createServer(tls, handler) : http.createServer(handler);
  // Keep idle connections longer than clients do (as CC's load balancers), so a client never
  // sends a request on a connection the server is closing at that moment.
  server.keepAliveTimeout = 75_000;
  const host = options.host ?? '127.0.0.1';
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => resolve());
    });
  } catch (err) {
    await stopServers();
    throw err;
  }
  const { port } = server.address() as AddressInfo;
  url = `${options.https ? 'https' : 'http'}://${host}:${port}`;
  apiUrl = options.published?.apiUrl ?? url;

  return {
    url,
    world,
    tokens,
    settings,
    requests,
    certificate,
    ssh,
    databases,
    deployments,
    async stop() {
      await stopServers();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

const controlError = (status: number, error: string): Reply => json(status, { error });

function controlRoutes(router: Router, world: World, tokens: TokenService, settings: CcSettings, requests: RecordedRequest[], ssh?: FoundationSsh, databases?: Databases): void {
  router.on('GET', /^\/foundation\/state$/, () =>
    json(200, {
      global_ssh: world.globalSsh,
      spaces: world.spaces.map((s) => ({ name: s.name, guid: s.guid, allow_ssh: s.allowSsh })),
      apps: world.apps.map((a) => ({ name: a.name, guid: a.guid, state: a.state, ssh_enabled: a.sshEnabled })),
    }),
  );
  router.on('GET', /^\/foundation\/requests$/, () => json(200, requests));
  router.on('DELETE', /^\/foundation\/requests$/, () => {
    requests.length = 0;
    return json(204, undefined);
  });
  router.on('PUT', /^\/foundation\/global-ssh$/, (req) => {
    world.globalSsh = Boolean(req.json<{ enabled: boolean }>().enabled);
    return json(200, { enabled: world.globalSsh });
  });
  let fingerprintFormat: FingerprintFormat = 'sha256-base64';
  router.on('PUT', /^\/foundation\/settings$/, (req) => {
    const body = req.json<{
      page_size?: number;
      warning?: string | null;
      access_token_ttl?: number;
      fingerprint_format?: FingerprintFormat;
      keepalive_seconds?: number;
      broker_delay_ms?: number;
      broker_error?: string | null;
      broker_create_failures?: number;
      broker_delete_failures?: number;
    }>();
    const { fingerprint_format: format, keepalive_seconds: keepalive, broker_delay_ms: brokerDelay } = body;
    if ((format !== undefined || keepalive !== undefined) && !ssh) return controlError(409, 'No SSH proxy runs (ssh: false).');
    if (format !== undefined && !FINGERPRINT_FORMATS.includes(format)) {
      return controlError(422, `fingerprint_format is one of ${FINGERPRINT_FORMATS.join(', ')}`);
    }
    if (keepalive !== undefined && !(typeof keepalive === 'number' && keepalive > 0)) return controlError(422, 'keepalive_seconds is a number above 0');
    if (brokerDelay !== undefined && !(typeof brokerDelay === 'number' && brokerDelay >= 0)) return controlError(422, 'broker_delay_ms is a number of 0 or more');
    for (const name of ['broker_create_failures', 'broker_delete_failures'] as const) {
      const count = body[name];
      if (count !== undefined && !(Number.isInteger(count) && count >= 0)) return controlError(422, `${name} is a whole number of 0 or more`);
    }
    if (body.page_size) settings.pageSize = body.page_size;
    if (brokerDelay !== undefined) settings.brokerDelayMs = brokerDelay;
    if (body.broker_error !== undefined) settings.brokerError = body.broker_error ?? undefined;
    if (body.broker_create_failures !== undefined) settings.brokerCreateFailures = body.broker_create_failures;
    if (body.broker_delete_failures !== undefined) settings.brokerDeleteFailures = body.broker_delete_failures;
    if (body.warning !== undefined) settings.warning = body.warning ?? undefined;
    if (body.access_token_ttl) tokens.accessTtlSeconds = body.access_token_ttl;
    if (ssh && format) {
      fingerprintFormat = format;
      settings.appSsh.fingerprint = ssh.proxy.fingerprint(format);
    }
    if (ssh && keepalive) ssh.proxy.keepaliveSeconds = keepalive;
    return json(200, {
      page_size: settings.pageSize,
      warning: settings.warning ?? null,
      access_token_ttl: tokens.accessTtlSeconds,
      broker_delay_ms: settings.brokerDelayMs,
      broker_error: settings.brokerError ?? null,
      broker_create_failures: settings.brokerCreateFailures,
      broker_delete_failures: settings.brokerDeleteFailures,
      ...(ssh && { fingerprint_format: fingerprintFormat, keepalive_seconds: ssh.proxy.keepaliveSeconds }),
    });
  });
  // With {"user": NAME}, only that user's tokens: the other tests' logins stay good.
  const userNamed = (req: Request): { guid?: string; error?: Reply } => {
    const { user: name } = req.json<{ user?: string }>();
    if (name === undefined) return {};
    const user = world.userByName(name);
    return user ? { guid: user.guid } : { error: controlError(404, `No user ${name}.`) };
  };
  router.on('POST', /^\/foundation\/revoke-access-tokens$/, () => {
    tokens.revokeAccessTokens();
    return json(200, { revoked: 'access' });
  });
  // As if their lifetime had passed: CC refuses the access tokens issued so far (a client refreshes).
  router.on('POST', /^\/foundation\/expire-access-tokens$/, (req) => {
    const { guid, error } = userNamed(req);
    if (error) return error;
    tokens.expireAccessTokens(guid);
    return json(200, { expired: 'access' });
  });
  router.on('POST', /^\/foundation\/rotate-signing-key$/, () => {
    tokens.rotateKey();
    return json(200, { rotated: true });
  });
  router.on('POST', /^\/foundation\/revoke-refresh-tokens$/, (req) => {
    const { guid, error } = userNamed(req);
    if (error) return error;
    tokens.revokeRefreshTokens(guid);
    return json(200, { revoked: 'refresh' });
  });
  // An instance crashes, restarts...; one that stops running takes its SSH server and sessions with it.
  router.on('PUT', /^\/foundation\/instances$/, async (req) => {
    const { app: name, process: type = 'web', index, state } = req.json<{ app?: string; process?: string; index?: number; state?: Instance['state'] }>();
    const app = world.apps.find((a) => a.name === name);
    const process = app?.processes.find((p) => p.type === type);
    if (!app || !process || typeof index !== 'number' || !process.instances[index]) {
      return controlError(404, `No instance ${index} of process ${type} of app ${name}.`);
    }
    if (!state || !INSTANCE_STATES.includes(state)) return controlError(422, `state is one of ${INSTANCE_STATES.join(', ')}`);
    world.setInstanceState(process, index, state);
    if (state !== 'RUNNING') await ssh?.backends.stopInstance(process.guid, index);
    return json(200, { app: app.name, process: process.type, index, state });
  });
  // Every service key, so that tests can check that none is left behind.
  router.on('GET', /^\/foundation\/service-keys$/, () =>
    json(
      200,
      world.bindings
        .filter((b) => b.type === 'key')
        .map((key) => ({
          guid: key.guid,
          name: key.name,
          service_instance: world.instanceOf(key).name,
          created_by: key.createdBy,
          last_operation: `${key.lastOperation.type} ${key.lastOperation.state}`,
        })),
    ),
  );
  router.on('GET', /^\/foundation\/databases$/, () => json(200, { databases: databases?.status() ?? [], notes: databases?.notes ?? [] }));
  if (ssh) sshControlRoutes(router, ssh);
}

function sshControlRoutes(router: Router, { proxy, backends }: FoundationSsh): void {
  router.on('GET', /^\/foundation\/ssh\/log$/, () => json(200, proxy.log));
  router.on('DELETE', /^\/foundation\/ssh\/log$/, () => {
    proxy.log.length = 0;
    return json(204, undefined);
  });
  router.on('POST', /^\/foundation\/ssh\/drop$/, () => {
    proxy.drop();
    return json(200, { dropped: true });
  });
  router.on('POST', /^\/foundation\/ssh\/freeze$/, () => {
    proxy.freeze();
    return json(200, { frozen: true });
  });
  router.on('POST', /^\/foundation\/ssh\/down$/, async () => {
    await proxy.down();
    return json(200, { listening: false });
  });
  router.on('POST', /^\/foundation\/ssh\/up$/, async () => {
    await proxy.up();
    return json(200, { listening: true });
  });
  router.on('GET', /^\/foundation\/ssh\/backends$/, async () =>
    json(
      200,
      (await backends.running()).map(({ instance, kind, port, pid }) => ({ instance, kind, port, pid: pid ?? null })),
    ),
  );
}
