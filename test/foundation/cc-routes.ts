// The test Cloud Controller v3: the endpoints cf-ssh-tools and the cf CLI use for SSH,
// with CC's JSON shapes, pagination, roles and error bodies.
import { ccError, json, type Reply, type Request, type Router } from './router.js';
import type { App, Org, Process, Space, User, World } from './state.js';
import type { TokenService } from './tokens.js';

export const CC_VERSION = '3.180.0';
/** When the seeded world was created. */
export const CREATED = '2026-01-01T00:00:00Z';

export interface CcSettings {
  /** Items per page when the request names none (tests set it low to exercise pagination). */
  pageSize: number;
  /** Sent in X-Cf-Warnings on every CC response while set. */
  warning?: string;
  /** What root links.app_ssh publishes (empty until an SSH proxy runs). */
  appSsh: { href: string; fingerprint: string };
  /** How long a service broker takes to create or delete a service key (the job is PROCESSING meanwhile). */
  brokerDelayMs: number;
  /** While set, service brokers fail to create and delete service keys with this description. */
  brokerError?: string;
  /** How many of the next service key creates fail at the broker (their jobs end FAILED). */
  brokerCreateFailures: number;
  /** How many of the next service key deletes fail at the broker (CC answers 502 CF-ServiceBrokerBadResponse). */
  brokerDeleteFailures: number;
}

const V3_RESOURCES = [
  'app_usage_events',
  'apps',
  'audit_events',
  'buildpacks',
  'builds',
  'deployments',
  'domains',
  'droplets',
  'environment_variable_groups',
  'feature_flags',
  'info',
  'isolation_segments',
  'organization_quotas',
  'organizations',
  'packages',
  'processes',
  'resource_matches',
  'roles',
  'routes',
  'security_groups',
  'service_brokers',
  'service_credential_bindings',
  'service_instances',
  'service_offerings',
  'service_plans',
  'service_route_bindings',
  'service_usage_events',
  'sidecars',
  'space_quotas',
  'spaces',
  'stacks',
  'tasks',
  'users',
];

export const notFound = (what: string) => ccError(404, 10010, 'CF-ResourceNotFound', `${what} not found`);
export const notAuthorized = () => ccError(403, 10003, 'CF-NotAuthorized', 'You are not authorized to perform the requested action');
export const unprocessable = (detail: string) => ccError(422, 10008, 'CF-UnprocessableEntity', detail);
export const metadata = { labels: {}, annotations: {} };
export const linker = (baseUrl: () => string) => (path: string) => ({ href: `${baseUrl()}${path}` });

/** A page of `items` as CC lists them; `extra` (or what it makes of the page's items) goes next to `resources` (CC's `included`). */
export function paginate<T>(
  req: Request,
  items: T[],
  render: (item: T) => unknown,
  settings: CcSettings,
  extra: Record<string, unknown> | ((page: T[]) => Record<string, unknown>) = {},
): Reply {
  const perPage = Math.max(1, Math.min(5000, Number(req.url.searchParams.get('per_page')) || settings.pageSize));
  const page = Math.max(1, Number(req.url.searchParams.get('page')) || 1);
  const totalPages = Math.max(1, Math.ceil(items.length / perPage));
  const shown = items.slice((page - 1) * perPage, page * perPage);
  const href = (p: number) => {
    const url = new URL(req.url.toString());
    url.searchParams.set('page', String(p));
    url.searchParams.set('per_page', String(perPage));
    return { href: url.toString() };
  };
  return json(200, {
    pagination: {
      total_results: items.length,
      total_pages: totalPages,
      first: href(1),
      last: href(totalPages),
      next: page < totalPages ? href(page + 1) : null,
      previous: page > 1 ? href(page - 1) : null,
    },
    resources: shown.map(render),
    ...(typeof extra === 'function' ? extra(shown) : extra),
  });
}

/** CC's list filters: a comma-separated `names`, `guids`, `*_guids`; `order_by=name`. */
export function filtered<T extends { name?: string | null; guid: string }>(req: Request, items: T[], relations: Record<string, (item: T) => string> = {}): T[] {
  const q = req.url.searchParams;
  const set = (key: string) => (q.has(key) ? new Set((q.get(key) ?? '').split(',')) : undefined);
  let result = items;
  const names = set('names');
  if (names) result = result.filter((i) => names.has(i.name ?? ''));
  const guids = set('guids');
  if (guids) result = result.filter((i) => guids.has(i.guid));
  for (const [key, relation] of Object.entries(relations)) {
    const wanted = set(key);
    if (wanted) result = result.filter((i) => wanted.has(relation(i)));
  }
  const orderBy = q.get('order_by');
  if (orderBy === 'name' || orderBy === '-name') {
    result = [...result].sort((a, b) => (a.name ?? '').localeCompare(b.name ?? '') * (orderBy === 'name' ? 1 : -1));
  }
  return result;
}

/** CC endpoints that need a valid token: 401 without one, then the handler with the user; warnings on the answer. */
export function authenticated(world: World, tokens: TokenService, settings: CcSettings) {
  const withWarnings = (reply: Reply): Reply => (settings.warning ? { ...reply, headers: { ...reply.headers, 'X-Cf-Warnings': encodeURIComponent(settings.warning) } } : reply);
  return (handler: (req: Request, user: User) => Reply | Promise<Reply>) => async (req: Request) => {
    const header = req.headers.authorization;
    if (!header) return ccError(401, 10002, 'CF-NotAuthenticated', 'Authentication error');
    const userGuid = tokens.userForAccessToken(header);
    const user = userGuid ? world.users.get(userGuid) : undefined;
    if (!user) return ccError(401, 1000, 'CF-InvalidAuthToken', 'Invalid Auth Token');
    return withWarnings(await handler(req, user));
  };
}

/** CC's apps and spaces as GET shows them, for the routes that answer with one. */
export interface CcRenderers {
  app: (app: App) => unknown;
  space: (space: Space) => unknown;
}

export function ccRoutes(router: Router, world: World, tokens: TokenService, settings: CcSettings, baseUrl: () => string, uaaUrl: () => string): CcRenderers {
  const link = linker(baseUrl);

  const renderOrg = (org: Org) => ({
    guid: org.guid,
    name: org.name,
    created_at: CREATED,
    updated_at: CREATED,
    suspended: false,
    relationships: { quota: { data: { guid: 'default-quota' } } },
    metadata,
    links: { self: link(`/v3/organizations/${org.guid}`), domains: link(`/v3/organizations/${org.guid}/domains`) },
  });
  const renderSpace = (space: Space) => ({
    guid: space.guid,
    name: space.name,
    created_at: CREATED,
    updated_at: CREATED,
    relationships: { organization: { data: { guid: space.orgGuid } }, quota: { data: null } },
    metadata: space.metadata,
    links: { self: link(`/v3/spaces/${space.guid}`), organization: link(`/v3/organizations/${space.orgGuid}`), features: link(`/v3/spaces/${space.guid}/features`) },
  });
  const renderApp = (app: App) => ({
    guid: app.guid,
    name: app.name,
    state: app.state,
    created_at: CREATED,
    updated_at: CREATED,
    lifecycle: { type: 'buildpack', data: { buildpacks: ['nodejs_buildpack'], stack: 'cflinuxfs4' } },
    relationships: { space: { data: { guid: app.spaceGuid } }, current_droplet: { data: { guid: `${app.guid}-droplet` } } },
    metadata: app.metadata,
    links: {
      self: link(`/v3/apps/${app.guid}`),
      space: link(`/v3/spaces/${app.spaceGuid}`),
      processes: link(`/v3/apps/${app.guid}/processes`),
      environment_variables: link(`/v3/apps/${app.guid}/environment_variables`),
      features: link(`/v3/apps/${app.guid}/features`),
    },
  });
  const renderProcess = (app: App) => (process: Process) => ({
    guid: process.guid,
    type: process.type,
    command: '[PRIVATE DATA HIDDEN IN LISTS]',
    instances: process.instances.length,
    memory_in_mb: 256,
    disk_in_mb: 1024,
    log_rate_limit_in_bytes_per_second: -1,
    health_check: { type: 'port', data: { timeout: null, invocation_timeout: null } },
    readiness_health_check: { type: 'process', data: { invocation_timeout: null } },
    relationships: { app: { data: { guid: app.guid } }, revision: null },
    metadata,
    created_at: CREATED,
    updated_at: CREATED,
    links: { self: link(`/v3/processes/${process.guid}`), stats: link(`/v3/processes/${process.guid}/stats`), app: link(`/v3/apps/${app.guid}`) },
  });
  const feature = (enabled: boolean, description: string) => ({ name: 'ssh', description, enabled });
  const APP_SSH_DESCRIPTION = 'Enable SSHing into the app.';
  const SPACE_SSH_DESCRIPTION = 'Enable SSHing into apps in the space.';

  const authed = authenticated(world, tokens, settings);

  const visibleApp = (user: User, guid: string | undefined) => {
    const app = world.apps.find((a) => a.guid === guid);
    return app && world.canSeeSpace(user, world.spaceOf(app)) ? app : undefined;
  };
  const visibleSpace = (user: User, guid: string | undefined) => {
    const space = world.spaces.find((s) => s.guid === guid);
    return space && world.canSeeSpace(user, space) ? space : undefined;
  };
  const processOf = (user: User, guid: string | undefined) => {
    const found = guid === undefined ? undefined : world.processByGuid(guid);
    return found && world.canSeeSpace(user, world.spaceOf(found.app)) ? found : undefined;
  };

  router.on('GET', /^\/$/, () =>
    json(200, {
      links: {
        self: link(''),
        bits_service: null,
        cloud_controller_v2: null,
        cloud_controller_v3: { href: `${baseUrl()}/v3`, meta: { version: CC_VERSION } },
        network_policy_v0: link('/networking/v0/external'),
        network_policy_v1: link('/networking/v1/external'),
        login: { href: uaaUrl() },
        uaa: { href: uaaUrl() },
        credhub: null,
        routing: link('/routing'),
        logging: { href: baseUrl().replace(/^http/, 'ws') + '/logging' },
        log_cache: link('/log-cache'),
        log_stream: link('/log-stream'),
        app_ssh: { href: settings.appSsh.href, meta: { host_key_fingerprint: settings.appSsh.fingerprint, oauth_client: 'ssh-proxy' } },
      },
    }),
  );

  router.on('GET', /^\/v3\/?$/, () => json(200, { links: { self: link('/v3'), ...Object.fromEntries(V3_RESOURCES.map((r) => [r, link(`/v3/${r}`)])) } }));

  router.on('GET', /^\/v3\/info$/, () =>
    json(200, {
      build: '',
      cli_version: { minimum: '', recommended: '' },
      custom: {},
      description: 'cf-ssh-tools test foundation',
      name: 'foundation',
      version: 0,
      links: { self: link('/v3/info'), support: { href: '' } },
    }),
  );

  router.on(
    'GET',
    /^\/v3\/organizations$/,
    authed((req, user) =>
      paginate(
        req,
        filtered(
          req,
          world.orgs.filter((o) => world.canSeeOrg(user, o)),
        ),
        renderOrg,
        settings,
      ),
    ),
  );

  router.on(
    'GET',
    /^\/v3\/organizations\/([^/]+)$/,
    authed((req, user) => {
      const org = world.orgs.find((o) => o.guid === req.params[0] && world.canSeeOrg(user, o));
      return org ? json(200, renderOrg(org)) : notFound('Organization');
    }),
  );

  router.on(
    'GET',
    /^\/v3\/spaces$/,
    authed((req, user) =>
      paginate(
        req,
        filtered(
          req,
          world.spaces.filter((s) => world.canSeeSpace(user, s)),
          { organization_guids: (s) => s.orgGuid },
        ),
        renderSpace,
        settings,
      ),
    ),
  );

  router.on(
    'GET',
    /^\/v3\/spaces\/([^/]+)$/,
    authed((req, user) => {
      const space = visibleSpace(user, req.params[0]);
      return space ? json(200, renderSpace(space)) : notFound('Space');
    }),
  );

  router.on(
    'GET',
    /^\/v3\/spaces\/([^/]+)\/features\/ssh$/,
    authed((req, user) => {
      const space = visibleSpace(user, req.params[0]);
      return space ? json(200, feature(space.allowSsh, SPACE_SSH_DESCRIPTION)) : notFound('Space');
    }),
  );

  router.on(
    'PATCH',
    /^\/v3\/spaces\/([^/]+)\/features\/ssh$/,
    authed((req, user) => {
      const space = visibleSpace(user, req.params[0]);
      if (!space) return notFound('Space');
      if (!world.canUpdateSpace(user, space)) return notAuthorized();
      const { enabled } = req.json<{ enabled?: unknown }>();
      if (typeof enabled !== 'boolean') return unprocessable('Enabled must be a boolean');
      space.allowSsh = enabled;
      return json(200, feature(space.allowSsh, SPACE_SSH_DESCRIPTION));
    }),
  );

  router.on(
    'GET',
    /^\/v3\/apps$/,
    authed((req, user) =>
      paginate(
        req,
        filtered(
          req,
          world.apps.filter((a) => world.canSeeSpace(user, world.spaceOf(a))),
          {
            space_guids: (a) => a.spaceGuid,
            organization_guids: (a) => world.spaceOf(a).orgGuid,
          },
        ),
        renderApp,
        settings,
      ),
    ),
  );

  router.on(
    'GET',
    /^\/v3\/apps\/([^/]+)$/,
    authed((req, user) => {
      const app = visibleApp(user, req.params[0]);
      return app ? json(200, renderApp(app)) : notFound('App');
    }),
  );

  router.on(
    'GET',
    /^\/v3\/apps\/([^/]+)\/processes$/,
    authed((req, user) => {
      const app = visibleApp(user, req.params[0]);
      return app ? paginate(req, app.processes, renderProcess(app), settings) : notFound('App');
    }),
  );

  router.on(
    'GET',
    /^\/v3\/apps\/([^/]+)\/processes\/([^/]+)$/,
    authed((req, user) => {
      const app = visibleApp(user, req.params[0]);
      const process = app?.processes.find((p) => p.type === req.params[1]);
      return app && process ? json(200, renderProcess(app)(process)) : notFound('Process');
    }),
  );

  const emptyList = (req: Request) => paginate(req, [], (x) => x, settings);

  router.on(
    'GET',
    /^\/v3\/processes\/([^/]+)$/,
    authed((req, user) => {
      const found = processOf(user, req.params[0]);
      return found ? json(200, renderProcess(found.app)(found.process)) : notFound('Process');
    }),
  );

  router.on(
    'GET',
    /^\/v3\/processes\/([^/]+)\/stats$/,
    authed((req, user) => {
      const found = processOf(user, req.params[0]);
      if (!found) return notFound('Process');
      const stopped = found.app.state === 'STOPPED';
      return json(200, {
        resources: found.process.instances.map((instance, index) => ({
          type: found.process.type,
          index,
          state: stopped ? 'DOWN' : instance.state,
          host: instance.state === 'RUNNING' ? '127.0.0.1' : '',
          uptime: stopped ? 0 : instance.uptime,
          mem_quota: 268435456,
          disk_quota: 1073741824,
          log_rate_limit: -1,
          fds_quota: 16384,
          isolation_segment: null,
          details: instance.state === 'CRASHED' ? 'APP/PROC/WEB: Exited with status 1' : null,
          instance_ports: [],
          usage:
            instance.state === 'RUNNING' && !stopped
              ? { time: new Date().toISOString(), cpu: 0.0042 * (index + 1), mem: 41943040 * (index + 1), disk: 104857600, log_rate: 0 }
              : {},
        })),
      });
    }),
  );

  router.on(
    'GET',
    /^\/v3\/processes\/([^/]+)\/sidecars$/,
    authed((req, user) => (processOf(user, req.params[0]) ? emptyList(req) : notFound('Process'))),
  );

  router.on(
    'GET',
    /^\/v3\/apps\/([^/]+)\/features$/,
    authed((req, user) => {
      const app = visibleApp(user, req.params[0]);
      if (!app) return notFound('App');
      return json(200, {
        resources: [
          { name: 'ssh', description: APP_SSH_DESCRIPTION, enabled: app.sshEnabled },
          { name: 'revisions', description: 'Enable versioning of an application', enabled: true },
          { name: 'service-binding-k8s', description: 'Enable k8s service bindings for the app', enabled: false },
          { name: 'file-based-vcap-services', description: 'Enable file-based VCAP service bindings for the app', enabled: false },
        ],
        pagination: { total_results: 4, total_pages: 1, first: { href: '' }, last: { href: '' }, next: null, previous: null },
      });
    }),
  );

  router.on(
    'GET',
    /^\/v3\/apps\/([^/]+)\/features\/ssh$/,
    authed((req, user) => {
      const app = visibleApp(user, req.params[0]);
      return app ? json(200, feature(app.sshEnabled, APP_SSH_DESCRIPTION)) : notFound('App');
    }),
  );

  router.on(
    'PATCH',
    /^\/v3\/apps\/([^/]+)\/features\/ssh$/,
    authed((req, user) => {
      const app = visibleApp(user, req.params[0]);
      if (!app) return notFound('App');
      if (!world.isSpaceDeveloper(user, world.spaceOf(app))) return notAuthorized();
      const { enabled } = req.json<{ enabled?: unknown }>();
      if (typeof enabled !== 'boolean') return unprocessable('Enabled must be a boolean');
      app.sshEnabled = enabled;
      return json(200, feature(app.sshEnabled, APP_SSH_DESCRIPTION));
    }),
  );

  router.on(
    'GET',
    /^\/v3\/apps\/([^/]+)\/ssh_enabled$/,
    authed((req, user) => {
      const app = visibleApp(user, req.params[0]);
      return app ? json(200, world.sshEnabled(app)) : notFound('App');
    }),
  );

  router.on(
    'GET',
    /^\/v3\/apps\/([^/]+)\/env$/,
    authed(async (req, user) => {
      const app = visibleApp(user, req.params[0]);
      if (!app) return notFound('App');
      if (!world.isSpaceDeveloper(user, world.spaceOf(app))) return notAuthorized();
      world.audit.record('audit.app.environment.show', app, world.spaceOf(app), user);
      return json(200, {
        staging_env_json: {},
        running_env_json: {},
        environment_variables: app.environment,
        system_env_json: { VCAP_SERVICES: await world.vcapServices(app) },
        application_env_json: { VCAP_APPLICATION: world.vcapApplication(app, baseUrl()) },
      });
    }),
  );

  // cf set-env: CC merges `var` into the app's variables (null removes one); the names CC keeps
  // for itself are refused. Instances started afterwards get them, as after a restart.
  router.on(
    'PATCH',
    /^\/v3\/apps\/([^/]+)\/environment_variables$/,
    authed((req, user) => {
      const app = visibleApp(user, req.params[0]);
      if (!app) return notFound('App');
      const space = world.spaceOf(app);
      if (!world.isSpaceDeveloper(user, space)) return notAuthorized();
      const { var: variables } = req.json<{ var?: unknown }>();
      if (!variables || typeof variables !== 'object' || Array.isArray(variables)) return unprocessable('Var must be an object');
      for (const [name, value] of Object.entries(variables)) {
        if (name === '' || /^(VCAP_|VMC_)/.test(name) || name === 'PORT')
          return unprocessable(`Var ${name === '' ? 'array keys must not be empty' : `cannot start with VCAP_ or VMC_ or be PORT: ${name}`}`);
        if (value !== null && typeof value !== 'string') return unprocessable(`Var ${name} must be a string or null`);
      }
      for (const [name, value] of Object.entries(variables as Record<string, string | null>)) {
        if (value === null) delete app.environment[name];
        else app.environment[name] = value;
      }
      world.audit.record('audit.app.update', app, space, user, { request: { environment_variables: '[PRIVATE DATA HIDDEN]' } });
      return json(200, { var: app.environment, links: { self: link(`/v3/apps/${app.guid}/environment_variables`), app: link(`/v3/apps/${app.guid}`) } });
    }),
  );
  return { app: renderApp, space: renderSpace };
}
