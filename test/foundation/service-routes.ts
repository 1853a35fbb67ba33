// The test Cloud Controller's service endpoints: service instances (user-provided ones created,
// bound and deleted as `cf create-user-provided-service`, `cf bind-service` and
// `cf delete-service` do), credential bindings (app bindings and service keys) with their
// credentials, and the jobs that create and delete keys, with CC's shapes, roles and error
// wording (cloud_controller_ng's ServiceInstancesV3Controller and
// ServiceCredentialBindingsController): who may not read credentials gets a 404, as on CC.
import { randomUUID } from 'node:crypto';
import { authenticated, type CcSettings, CREATED, filtered, linker, metadata, notAuthorized, notFound, paginate, unprocessable } from './cc-routes.js';
import { ccError, json, type Reply, type Request, type Router } from './router.js';
import type { Credentials, Job, ManagedServiceInstance, ServiceCredentialBinding, ServiceInstance, User, World } from './state.js';
import type { TokenService } from './tokens.js';

const bindingNotFound = () => notFound('Service credential binding');

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** What CC's ServiceInstanceCreateUserProvidedMessage finds wrong in a body, joined as CC joins it; undefined when nothing is. */
function createInstanceErrors(body: Record<string, unknown>): string | undefined {
  const errors: string[] = [];
  if (!isRecord(body.relationships)) errors.push("Relationships 'relationships' is not an object");
  if (body.type !== 'managed' && body.type !== 'user-provided') errors.push("Type must be one of 'managed', 'user-provided'");
  if (typeof body.name !== 'string') errors.push('Name must be a string');
  if (!body.name) errors.push("Name can't be blank");
  if (body.tags != null && !Array.isArray(body.tags)) errors.push('Tags must be an array');
  else if (Array.isArray(body.tags) && body.tags.some((tag) => typeof tag !== 'string')) errors.push('Tags must be a list of strings');
  if (body.credentials != null && !isRecord(body.credentials)) errors.push('Credentials must be an object');
  return errors.length > 0 ? errors.join(', ') : undefined;
}

export function serviceRoutes(router: Router, world: World, tokens: TokenService, settings: CcSettings, baseUrl: () => string): void {
  const link = linker(baseUrl);
  const authed = authenticated(world, tokens, settings);
  const accepted = (job: Job): Reply => ({ status: 202, headers: { Location: `${baseUrl()}/v3/jobs/${job.guid}` } });

  const visibleInstances = (user: User) => world.serviceInstances.filter((i) => world.canSeeSpace(user, world.spaceOf(i)));
  const visibleBindings = (user: User) => world.bindings.filter((b) => world.canSeeSpace(user, world.spaceOf(world.instanceOf(b))));
  const canReadCredentials = (user: User, binding: ServiceCredentialBinding) => world.isSpaceDeveloper(user, world.spaceOf(world.instanceOf(binding)));

  /** CC's ServiceInstancePresenter: the fields common to both types, then each type's own. */
  const renderInstance = (instance: ServiceInstance) => {
    const created = instance.type === 'managed' ? CREATED : instance.createdAt;
    const common = {
      guid: instance.guid,
      created_at: created,
      updated_at: created,
      name: instance.name,
      tags: instance.tags,
      last_operation: { type: 'create', state: 'succeeded', description: instance.type === 'managed' ? '' : 'Operation succeeded', created_at: created, updated_at: created },
    };
    const space = { data: { guid: instance.spaceGuid } };
    const links = {
      self: link(`/v3/service_instances/${instance.guid}`),
      space: link(`/v3/spaces/${instance.spaceGuid}`),
      service_credential_bindings: link(`/v3/service_credential_bindings?service_instance_guids=${instance.guid}`),
      service_route_bindings: link(`/v3/service_route_bindings?service_instance_guids=${instance.guid}`),
    };
    if (instance.type === 'user-provided') {
      return {
        ...common,
        type: 'user-provided',
        syslog_drain_url: instance.syslogDrainUrl,
        route_service_url: instance.routeServiceUrl,
        relationships: { space },
        metadata,
        links: { ...links, credentials: link(`/v3/service_instances/${instance.guid}/credentials`) },
      };
    }
    return {
      ...common,
      type: 'managed',
      maintenance_info: {},
      upgrade_available: false,
      dashboard_url: null,
      relationships: { space, service_plan: { data: { guid: instance.plan.guid } } },
      metadata,
      links: { ...links, service_plan: link(`/v3/service_plans/${instance.plan.guid}`), parameters: link(`/v3/service_instances/${instance.guid}/parameters`) },
    };
  };

  const renderBinding = (binding: ServiceCredentialBinding) => {
    const { lastOperation: operation } = binding;
    // A user-provided instance's bindings take no parameters: CC shows no link to them.
    const parameters = world.instanceOf(binding).type === 'managed' && { parameters: link(`/v3/service_credential_bindings/${binding.guid}/parameters`) };
    return {
      guid: binding.guid,
      type: binding.type,
      name: binding.name,
      created_at: binding.createdAt,
      updated_at: operation.updatedAt,
      last_operation: { type: operation.type, state: operation.state, description: operation.description, created_at: operation.createdAt, updated_at: operation.updatedAt },
      metadata,
      relationships: {
        service_instance: { data: { guid: binding.serviceInstanceGuid } },
        ...(binding.appGuid && { app: { data: { guid: binding.appGuid } } }),
      },
      links: {
        self: link(`/v3/service_credential_bindings/${binding.guid}`),
        details: link(`/v3/service_credential_bindings/${binding.guid}/details`),
        ...parameters,
        service_instance: link(`/v3/service_instances/${binding.serviceInstanceGuid}`),
        ...(binding.appGuid && { app: link(`/v3/apps/${binding.appGuid}`) }),
      },
    };
  };

  const renderJob = (job: Job) => ({
    guid: job.guid,
    created_at: job.createdAt,
    updated_at: job.updatedAt,
    operation: job.operation,
    state: job.state,
    errors: job.errors,
    warnings: job.warnings,
    links: { self: link(`/v3/jobs/${job.guid}`) },
  });

  /**
   * A broker's asynchronous work: the job is PROCESSING for `brokerDelayMs`, then COMPLETE, or
   * FAILED with CC's UnableToPerform error while the foundation's `brokerError` is set (or, for
   * a bind, while `brokerCreateFailures` counts down).
   */
  const brokerJob = (operation: 'bind' | 'unbind', finish: (brokerError?: string) => void): Job => {
    const now = new Date().toISOString();
    const job: Job = {
      guid: randomUUID(),
      operation: `service_bindings.${operation === 'bind' ? 'create' : 'delete'}`,
      state: 'PROCESSING',
      errors: [],
      warnings: [],
      createdAt: now,
      updatedAt: now,
    };
    world.jobs.set(job.guid, job);
    let { brokerError } = settings;
    if (!brokerError && operation === 'bind' && settings.brokerCreateFailures > 0) {
      settings.brokerCreateFailures -= 1;
      brokerError = 'Service broker error: the broker failed to create the key (broker_create_failures)';
    }
    setTimeout(() => {
      finish(brokerError);
      job.state = brokerError ? 'FAILED' : 'COMPLETE';
      if (brokerError) job.errors = [{ code: 10009, title: 'CF-UnableToPerform', detail: `${operation} could not be completed: ${brokerError}` }];
      job.updatedAt = new Date().toISOString();
    }, settings.brokerDelayMs).unref();
    return job;
  };

  const settle = (binding: ServiceCredentialBinding, state: 'succeeded' | 'failed', description = '') => {
    Object.assign(binding.lastOperation, { state, description, updatedAt: new Date().toISOString() });
  };

  /** CC's `fields[service_plan]` and `fields[service_plan.service_offering]`: the plans and offerings in `included`. */
  const included = (req: Request, listed: ServiceInstance[]) => {
    // User-provided instances have no plan or offering to include.
    const instances = listed.filter((i): i is ManagedServiceInstance => i.type === 'managed');
    const requested = (key: string) => req.url.searchParams.get(`fields[${key}]`)?.split(',');
    const planFields = requested('service_plan');
    const offeringFields = requested('service_plan.service_offering');
    if (!planFields && !offeringFields) return {};
    const pick = (values: Record<string, unknown>, fields: string[] = []) => Object.fromEntries(fields.filter((f) => f in values).map((f) => [f, values[f]]));
    const unique = <T extends { guid: string }>(items: T[]) => [...new Map(items.map((i) => [i.guid, i])).values()];
    return {
      included: {
        service_plans: unique(instances.map((i) => ({ ...i.plan, offeringGuid: i.offering.guid }))).map((plan) => ({
          ...pick(plan, planFields),
          ...(offeringFields && { relationships: { service_offering: { data: { guid: plan.offeringGuid } } } }),
        })),
        ...(offeringFields && {
          service_offerings: unique(instances.map((i) => i.offering)).map((offering) =>
            pick({ guid: offering.guid, name: offering.label, description: offering.description }, offeringFields),
          ),
        }),
      },
    };
  };

  router.on(
    'GET',
    /^\/v3\/service_instances$/,
    authed((req, user) => {
      const instances = filtered(req, visibleInstances(user), {
        space_guids: (i) => i.spaceGuid,
        organization_guids: (i) => world.spaceOf(i).orgGuid,
      });
      return paginate(req, instances, renderInstance, settings, included(req, instances));
    }),
  );

  router.on(
    'GET',
    /^\/v3\/service_instances\/([^/]+)$/,
    authed((req, user) => {
      const instance = visibleInstances(user).find((i) => i.guid === req.params[0]);
      return instance ? json(200, { ...renderInstance(instance), ...included(req, [instance]) }) : notFound('Service instance');
    }),
  );

  router.on(
    'POST',
    /^\/v3\/service_instances$/,
    authed((req, user) => {
      const body = req.json<Record<string, unknown>>();
      const invalid = createInstanceErrors(body);
      if (invalid) return unprocessable(invalid);
      if (body.type === 'managed') return unprocessable('The test foundation creates user-provided service instances; its managed ones come from its seed.');
      const spaceGuid = (body.relationships as { space?: { data?: { guid?: unknown } } }).space?.data?.guid;
      const space = world.spaces.find((s) => s.guid === spaceGuid);
      if (!space || !world.canSeeSpace(user, space)) return unprocessable('Invalid space. Ensure that the space exists and you have access to it.');
      if (!world.isSpaceDeveloper(user, space)) return notAuthorized();
      const name = body.name as string;
      if (world.serviceInstances.some((i) => i.spaceGuid === space.guid && i.name === name)) return unprocessable(`The service instance name is taken: ${name}.`);
      const url = (value: unknown) => (typeof value === 'string' ? value : null);
      const instance = world.addUserProvidedInstance(space, {
        name,
        tags: (body.tags as string[] | null | undefined) ?? [],
        credentials: (body.credentials as Credentials | null | undefined) ?? {},
        syslogDrainUrl: url(body.syslog_drain_url),
        routeServiceUrl: url(body.route_service_url),
      });
      return json(201, renderInstance(instance));
    }),
  );

  router.on(
    'DELETE',
    /^\/v3\/service_instances\/([^/]+)$/,
    authed((req, user) => {
      const instance = visibleInstances(user).find((i) => i.guid === req.params[0]);
      if (!instance) return notFound('Service instance');
      if (!world.isSpaceDeveloper(user, world.spaceOf(instance))) return notAuthorized();
      if (instance.type === 'managed') return unprocessable('The test foundation deletes user-provided service instances; its managed ones are its seed.');
      // As CC's V3::ServiceInstanceDelete: a user-provided instance goes at once, and its bindings with it, with or without ?purge=true.
      world.removeServiceInstance(instance);
      return json(204, undefined);
    }),
  );

  router.on(
    'GET',
    /^\/v3\/service_instances\/([^/]+)\/credentials$/,
    authed(async (req, user) => {
      const instance = visibleInstances(user).find((i) => i.guid === req.params[0] && i.type === 'user-provided');
      if (!instance) return notFound('Service instance');
      if (!world.isSpaceDeveloper(user, world.spaceOf(instance))) return notAuthorized();
      return json(200, await instance.credentials());
    }),
  );

  router.on(
    'GET',
    /^\/v3\/service_credential_bindings$/,
    authed((req, user) => {
      const type = req.url.searchParams.get('type');
      if (type !== null && type !== 'app' && type !== 'key') return ccError(400, 10005, 'CF-BadQueryParameter', "Type must be one of 'app', 'key'");
      const appName = (b: ServiceCredentialBinding) => world.apps.find((a) => a.guid === b.appGuid)?.name ?? '';
      const bindings = filtered(req, visibleBindings(user), {
        type: (b) => b.type,
        app_guids: (b) => b.appGuid ?? '',
        app_names: appName,
        service_instance_guids: (b) => b.serviceInstanceGuid,
        service_instance_names: (b) => world.instanceOf(b).name,
      });
      return paginate(req, bindings, renderBinding, settings);
    }),
  );

  router.on(
    'GET',
    /^\/v3\/service_credential_bindings\/([^/]+)$/,
    authed((req, user) => {
      const binding = visibleBindings(user).find((b) => b.guid === req.params[0]);
      return binding ? json(200, renderBinding(binding)) : bindingNotFound();
    }),
  );

  router.on(
    'GET',
    /^\/v3\/service_credential_bindings\/([^/]+)\/details$/,
    authed(async (req, user) => {
      const binding = visibleBindings(user).find((b) => b.guid === req.params[0]);
      if (!binding || !canReadCredentials(user, binding)) return bindingNotFound();
      const { type, state } = binding.lastOperation;
      if (type !== 'create' || state !== 'succeeded') {
        return ccError(404, 10010, 'CF-ResourceNotFound', `${type === 'create' ? 'Creation' : 'Deletion'} of service ${binding.type === 'key' ? 'key' : 'binding'} ${state}`);
      }
      const instance = world.instanceOf(binding);
      try {
        // CC resolves a CredHub reference for service keys only: an app binding's stays a reference.
        const credentials = binding.type === 'key' && instance.type === 'managed' && instance.credhub ? await instance.credentials() : await world.storedCredentials(binding);
        return json(200, { credentials });
      } catch (err) {
        return ccError(503, 10015, 'CF-ServiceUnavailable', `The test foundation's database for ${instance.name} did not start: ${(err as Error).message}`);
      }
    }),
  );

  router.on(
    'POST',
    /^\/v3\/service_credential_bindings$/,
    authed((req, user) => {
      type Related = { data?: { guid?: string } };
      const body = req.json<{ type?: unknown; name?: unknown; relationships?: { service_instance?: Related; app?: Related } }>();
      if (body.type !== 'key' && body.type !== 'app') return unprocessable("Type must be one of 'key', 'app'");
      // A key must have a name; an app binding may.
      if (body.type === 'key' ? typeof body.name !== 'string' : body.name != null && typeof body.name !== 'string') return unprocessable('Name must be a string');
      if (body.type === 'key' && !body.name) return unprocessable("Name can't be blank");
      const guid = body.relationships?.service_instance?.data?.guid;
      const instance = visibleInstances(user).find((i) => i.guid === guid);
      if (!instance) return unprocessable(`The service instance could not be found: '${guid}'`);
      if (body.type === 'app') {
        const appGuid = body.relationships?.app?.data?.guid;
        const app = world.apps.find((a) => a.guid === appGuid && world.canSeeSpace(user, world.spaceOf(a)));
        if (!app) return unprocessable(`The app could not be found: '${appGuid}'`);
        if (!world.isSpaceDeveloper(user, world.spaceOf(app))) return notAuthorized();
        if (instance.type === 'managed') return unprocessable('The test foundation binds apps to managed service instances in its seed only; it binds user-provided ones.');
        if (instance.spaceGuid !== app.spaceGuid) return unprocessable('The service instance and the app are in different spaces');
        if (world.bindings.some((b) => b.appGuid === app.guid && b.serviceInstanceGuid === instance.guid)) return unprocessable('The app is already bound to the service instance');
        // No broker to ask: CC binds a user-provided instance at once, without a job.
        const bound = world.addBinding(instance, { type: 'app', app, name: (body.name as string | null | undefined) ?? null }, user.name);
        return json(201, renderBinding(bound));
      }
      if (!world.isSpaceDeveloper(user, world.spaceOf(instance))) return notAuthorized();
      if (instance.type === 'user-provided') return unprocessable("Service credential bindings of type 'key' are not supported for user-provided service instances.");
      const name = body.name as string;
      if (world.bindings.some((b) => b.type === 'key' && b.serviceInstanceGuid === instance.guid && b.name === name)) {
        return unprocessable(`The binding name is invalid. Key binding names must be unique. The service instance already has a key binding with name '${name}'.`);
      }
      const key = world.addBinding(instance, { type: 'key', name }, user.name);
      return accepted(brokerJob('bind', (brokerError) => settle(key, brokerError ? 'failed' : 'succeeded', brokerError)));
    }),
  );

  router.on(
    'DELETE',
    /^\/v3\/service_credential_bindings\/([^/]+)$/,
    authed((req, user) => {
      const binding = visibleBindings(user).find((b) => b.guid === req.params[0]);
      if (!binding) return bindingNotFound();
      if (!world.isSpaceDeveloper(user, world.spaceOf(world.instanceOf(binding)))) return notAuthorized();
      if (binding.lastOperation.state === 'in progress') return unprocessable('There is an operation in progress for the service binding.');
      if (world.instanceOf(binding).type === 'user-provided') {
        world.bindings.splice(world.bindings.indexOf(binding), 1);
        return json(204, undefined);
      }
      // A broker that answers the unbind with an error: CC relays it at once, and the key stays as it was.
      if (settings.brokerDeleteFailures > 0) {
        settings.brokerDeleteFailures -= 1;
        return ccError(502, 10001, 'CF-ServiceBrokerBadResponse', 'Service broker error: the broker failed to delete the key (broker_delete_failures)');
      }
      const now = new Date().toISOString();
      binding.lastOperation = { type: 'delete', state: 'in progress', description: '', createdAt: now, updatedAt: now };
      return accepted(
        brokerJob('unbind', (brokerError) => {
          if (brokerError) settle(binding, 'failed', brokerError);
          else world.bindings.splice(world.bindings.indexOf(binding), 1);
        }),
      );
    }),
  );

  router.on(
    'GET',
    /^\/v3\/jobs\/([^/]+)$/,
    authed((req) => {
      const job = world.jobs.get(req.params[0] ?? '');
      return job ? json(200, renderJob(job)) : notFound('Job');
    }),
  );
}
