// A Cloud Controller v3 client: the resources cf-ssh-tools reads and changes, pagination,
// X-Cf-Warnings, error bodies turned into typed errors, one retry on a refused token. Links
// it is given (pagination, jobs) are followed only into the foundation (foundation-origins.ts).
// Every answer is read through its shape (schemas.ts): one that is not what we understand is
// one line naming the request and the field.
import { setTimeout as sleep } from 'node:timers/promises';
import { type CcErrorItem, CfApiError, LimitError, UserError } from '../errors.js';
import { answerTo, type HttpClient, type HttpRequest, type HttpResponse } from '../net/http.js';
import { readAnswer, type Shape } from '../net/shape.js';
import type { TokenSource } from '../net/token-source.js';
import { FoundationOrigins } from './foundation-origins.js';
import * as schemas from './schemas.js';
import type { App, AppEnv, CredentialBinding, Deployment, InstanceStats, Organization, Process, Resource, RootInfo, Space, SshEnabled, SshFeature } from './schemas.js';
import type { AuditedApp, AuditEvent, OrgSpace, Role, RoleUser } from './schemas.js';

export type { App, AppEnv, CredentialBinding, Deployment, InstanceStats, Organization, Process, Resource, RootInfo, Space, SshEnabled, SshFeature } from './schemas.js';
export type { AuditedApp, AuditEvent, OrgSpace, Role, RoleUser } from './schemas.js';

/** A service instance and what an app's VCAP_SERVICES would say of it. */
export interface ServiceInstance extends Resource {
  label?: string;
  plan?: string;
  tags?: string[];
}

/** The largest page CC serves (its per_page maximum): big lists in few requests. */
export const MAX_PER_PAGE = '5000';

/** What CC's X-RateLimit-* headers said: requests left, and when the count starts again. */
export interface RateLimit {
  remaining: number;
  resetAtMs?: number;
}

const JOB_POLL_MS = 200;
/** The longest an asynchronous operation (creating or deleting a service key) is waited for. */
export const JOB_TIMEOUT_MS = 120_000;
/** The most pages of one list read; a list that goes on is refused. */
export const MAX_PAGES = 500;

interface CcLimits {
  maxPages: number;
}

/** Who answers, in the HTTP client's messages. */
const SERVER = 'The Cloud Controller';

type Query = Record<string, string | undefined>;

export class CloudController {
  /** The root, read once per command: its links are also the foundation's servers. */
  private rootRead?: Promise<RootInfo>;

  constructor(
    private readonly http: HttpClient,
    private readonly api: string,
    private readonly auth: TokenSource | undefined,
    private readonly onWarning: (warning: string) => void,
    private readonly limits: CcLimits = { maxPages: MAX_PAGES },
  ) {}

  /** `GET /`: needs no login; read once. */
  root(): Promise<RootInfo> {
    this.rootRead ??= this.readRoot();
    return this.rootRead;
  }

  private async readRoot(): Promise<RootInfo> {
    const url = `${this.api}/`;
    const res = await this.http.send({ method: 'GET', url, server: SERVER });
    const body = res.data as { links?: unknown } | undefined;
    if (res.status !== 200 || typeof body !== 'object' || !body?.links) {
      throw new UserError(`${this.api} does not look like a Cloud Foundry API (GET / answered HTTP ${res.status}).`);
    }
    return readAnswer(res, schemas.rootInfo, answerTo({ method: 'GET', url, server: SERVER }));
  }

  async organizationsNamed(name: string): Promise<Organization[]> {
    return this.list('/v3/organizations', schemas.resource, { names: name });
  }

  async organizations(): Promise<Organization[]> {
    return this.list('/v3/organizations', schemas.resource, { order_by: 'name' });
  }

  async spaces(orgGuid: string, name?: string): Promise<Space[]> {
    return this.list('/v3/spaces', schemas.resource, { names: name, organization_guids: orgGuid, order_by: 'name' });
  }

  async appsNamed(name: string, spaceGuid: string): Promise<App[]> {
    return this.list('/v3/apps', schemas.app, { names: name, space_guids: spaceGuid });
  }

  async processes(appGuid: string): Promise<Process[]> {
    return this.list(`/v3/apps/${appGuid}/processes`, schemas.process);
  }

  async processStats(processGuid: string): Promise<InstanceStats[]> {
    return (await this.get(`/v3/processes/${processGuid}/stats`, schemas.page(schemas.instanceStats))).resources;
  }

  async sidecars(processGuid: string): Promise<Resource[]> {
    return this.list(`/v3/processes/${processGuid}/sidecars`, schemas.resource);
  }

  async appSshFeature(appGuid: string): Promise<SshFeature> {
    return this.get(`/v3/apps/${appGuid}/features/ssh`, schemas.sshFeature);
  }

  async setAppSshFeature(appGuid: string, enabled: boolean): Promise<SshFeature> {
    return this.call('PATCH', `/v3/apps/${appGuid}/features/ssh`, schemas.sshFeature, { enabled });
  }

  async spaceSshFeature(spaceGuid: string): Promise<SshFeature> {
    return this.get(`/v3/spaces/${spaceGuid}/features/ssh`, schemas.sshFeature);
  }

  async setSpaceSshFeature(spaceGuid: string, enabled: boolean): Promise<SshFeature> {
    return this.call('PATCH', `/v3/spaces/${spaceGuid}/features/ssh`, schemas.sshFeature, { enabled });
  }

  async sshEnabled(appGuid: string): Promise<SshEnabled> {
    return this.get(`/v3/apps/${appGuid}/ssh_enabled`, schemas.sshEnabled);
  }

  // Time-boxed SSH: the grant lives in the app's annotations, and enabling takes a restart.

  /** Every app of a space, with its annotations. */
  async spaceApps(spaceGuid: string): Promise<App[]> {
    return this.list('/v3/apps', schemas.app, { space_guids: spaceGuid, per_page: '5000' });
  }

  /** Sets annotations (a null value removes one); CC records the change as audit.app.update. */
  async updateAppAnnotations(appGuid: string, annotations: Record<string, string | null>): Promise<App> {
    return this.call('PATCH', `/v3/apps/${appGuid}`, schemas.app, { metadata: { annotations } });
  }

  /** Starts a rolling deployment of the app's current droplet: new instances replace old ones one by one. */
  async createRollingDeployment(appGuid: string): Promise<Deployment> {
    return this.call('POST', '/v3/deployments', schemas.deployment, { strategy: 'rolling', relationships: { app: { data: { guid: appGuid } } } });
  }

  async deployment(deploymentGuid: string): Promise<Deployment> {
    return this.get(`/v3/deployments/${deploymentGuid}`, schemas.deployment);
  }

  async appEnv(appGuid: string): Promise<AppEnv> {
    return this.get(`/v3/apps/${appGuid}/env`, schemas.appEnv);
  }

  /** Service instances by name, each with what VCAP_SERVICES says of it: its offering's name (label), plan and tags. */
  async serviceInstancesNamed(name: string, spaceGuid: string): Promise<ServiceInstance[]> {
    const query = { names: name, space_guids: spaceGuid, 'fields[service_plan]': 'guid,name', 'fields[service_plan.service_offering]': 'guid,name' };
    let all: ServiceInstance[] = [];
    for await (const page of this.pages('/v3/service_instances', schemas.serviceInstancesPage, query)) {
      const plans = new Map((page.included?.service_plans ?? []).map((plan) => [plan.guid, plan]));
      const offerings = new Map((page.included?.service_offerings ?? []).map((offering) => [offering.guid, offering]));
      all = all.concat(
        page.resources.map(({ guid, name, type, tags, relationships }) => {
          const plan = plans.get(relationships?.service_plan?.data?.guid ?? '');
          const offering = offerings.get(plan?.relationships?.service_offering?.data?.guid ?? '');
          // As in an app's VCAP_SERVICES: a user-provided instance is listed under 'user-provided'.
          const label = type === 'user-provided' ? 'user-provided' : offering?.name;
          return { guid, name, ...(label && { label }), ...(plan?.name && { plan: plan.name }), ...(tags && { tags }) };
        }),
      );
    }
    return all;
  }

  async credentialBindings(query: {
    app_guids?: string;
    service_instance_guids?: string;
    service_instance_names?: string;
    names?: string;
    type?: 'app' | 'key';
  }): Promise<CredentialBinding[]> {
    return this.list('/v3/service_credential_bindings', schemas.credentialBinding, query);
  }

  async credentialBindingDetails(bindingGuid: string): Promise<Record<string, unknown>> {
    return (await this.get(`/v3/service_credential_bindings/${bindingGuid}/details`, schemas.bindingDetails)).credentials ?? {};
  }

  /** Creates a service key and waits until the broker has made it. */
  async createServiceKey(name: string, serviceInstanceGuid: string): Promise<CredentialBinding> {
    const res = await this.request('POST', '/v3/service_credential_bindings', {
      type: 'key',
      name,
      relationships: { service_instance: { data: { guid: serviceInstanceGuid } } },
    });
    await this.finishJob(res, `Creating service key ${name}`);
    const [key] = await this.credentialBindings({ type: 'key', names: name, service_instance_guids: serviceInstanceGuid });
    if (!key) throw new UserError(`Service key ${name} was created but cannot be found.`);
    return key;
  }

  async deleteCredentialBinding(binding: CredentialBinding): Promise<void> {
    await this.finishJob(await this.request('DELETE', `/v3/service_credential_bindings/${binding.guid}`), `Deleting service key ${binding.name ?? binding.guid}`);
  }

  /** `GET path`, its answer read as `shape`. */
  get<T>(path: string, shape: Shape<T>, query?: Query): Promise<T> {
    return this.call('GET', withQuery(path, query), shape);
  }

  /** Every resource of a list, each read as `item`, following pagination.next: never to a page read before, nor past maxPages. */
  async list<T>(path: string, item: Shape<T>, query?: Query): Promise<T[]> {
    let all: T[] = [];
    for await (const page of this.pages(path, schemas.page(item), query)) {
      // Not push(...): a page of a hundred thousand resources would overflow the call stack.
      all = all.concat(page.resources);
    }
    return all;
  }

  /** Each page of a list, following pagination.next: never to a page read before, nor past maxPages. */
  private async *pages<P extends schemas.Page<unknown>>(path: string, pageShape: Shape<P>, query?: Query): AsyncGenerator<P> {
    const read = new Set<string>();
    let next: string | undefined = withQuery(path, query);
    while (next) {
      const href: string = resolve(this.api, next).href;
      if (read.has(href)) throw new LimitError(`${SERVER}'s pagination of ${path} repeats page ${href}: stopped.`);
      if (read.size === this.limits.maxPages) throw new LimitError(`${SERVER}'s pagination of ${path} goes on past ${this.limits.maxPages} pages: stopped.`);
      read.add(href);
      const page: P = await this.call('GET', href, pageShape);
      yield page;
      next = page.pagination?.next?.href || undefined;
    }
  }

  private async call<T>(method: HttpRequest['method'], pathOrUrl: string, shape: Shape<T>, json?: unknown): Promise<T> {
    const res = await this.request(method, pathOrUrl, json);
    return readAnswer(res, shape, answerTo({ method, url: resolve(this.api, pathOrUrl).href, server: SERVER }));
  }

  /** The whole answer (its headers too) of a request that succeeded; CfApiError otherwise. */
  private async request(method: HttpRequest['method'], pathOrUrl: string, json?: unknown): Promise<HttpResponse> {
    const url = await this.inFoundation(pathOrUrl);
    let res = await this.send(method, url.href, json, false);
    if (res.status === 401 && this.auth && isInvalidToken(res)) res = await this.send(method, url.href, json, true);
    this.warn(res);
    if (res.status >= 200 && res.status < 300) return res;
    throw new CfApiError(res.status, errorItems(res), url.pathname);
  }

  /**
   * The URL of a path under the API, or of a link the Cloud Controller gave once it is known to
   * lead into the foundation: the root is read (once) only when a link leaves the API's server.
   */
  private async inFoundation(pathOrUrl: string): Promise<URL> {
    const url = resolve(this.api, pathOrUrl);
    if (url.origin !== new URL(this.api).origin) {
      new FoundationOrigins(this.api, (await this.root()).links).check(url);
    }
    return url;
  }

  /** Waits for an asynchronous operation (the job in a 202's Location) to finish. */
  private async finishJob(res: HttpResponse, what: string): Promise<void> {
    const location = res.headers.location;
    if (res.status !== 202 || !location) return;
    const deadline = Date.now() + JOB_TIMEOUT_MS;
    for (;;) {
      const job = await this.call('GET', location, schemas.job);
      if (job.state === 'COMPLETE') return;
      if (job.state === 'FAILED')
        throw new UserError(
          `${what} failed: ${
            ccErrors(job.errors)
              .map((e) => e.detail || e.title)
              .join('; ') || 'no reason given'
          }`,
        );
      if (Date.now() > deadline) throw new UserError(`${what} did not finish within ${JOB_TIMEOUT_MS / 1000} s (job ${location}).`);
      await sleep(JOB_POLL_MS);
    }
  }

  private async send(method: HttpRequest['method'], url: string, json: unknown, refresh: boolean): Promise<HttpResponse> {
    const headers: Record<string, string> = {};
    if (this.auth) headers.Authorization = refresh ? await this.auth.refresh() : await this.auth.token();
    return this.http.send({ method, url, headers, json, server: SERVER });
  }

  private warn(res: HttpResponse): void {
    const header = res.headers['x-cf-warnings'];
    if (!header) return;
    for (const part of header.split(',')) {
      const warning = decodeWarning(part.trim());
      if (warning) this.onWarning(warning);
    }
  }

  // ssh-audit: every space and app of a scope at CC's largest page, roles with their users,
  // audit events, and an app's SSH switch read with the rate limit CC says is left.

  async organizationsAtMaxPage(): Promise<Organization[]> {
    return this.list('/v3/organizations', schemas.resource, { order_by: 'name', per_page: MAX_PER_PAGE });
  }

  async spacesOfOrgs(orgGuids: string[]): Promise<OrgSpace[]> {
    return this.list('/v3/spaces', schemas.orgSpace, { organization_guids: orgGuids.join(','), order_by: 'name', per_page: MAX_PER_PAGE });
  }

  async appsInSpaces(spaceGuids: string[]): Promise<AuditedApp[]> {
    return this.list('/v3/apps', schemas.auditedApp, { space_guids: spaceGuids.join(','), order_by: 'name', per_page: MAX_PER_PAGE });
  }

  /** Roles of these types in these spaces or orgs, with the users CC includes (include=user). */
  async rolesWithUsers(query: { types: string; space_guids?: string; organization_guids?: string }): Promise<{ roles: Role[]; users: RoleUser[] }> {
    let roles: Role[] = [];
    let users: RoleUser[] = [];
    for await (const page of this.pages('/v3/roles', schemas.rolesPage, { ...query, include: 'user', per_page: MAX_PER_PAGE })) {
      roles = roles.concat(page.resources);
      users = users.concat(page.included?.users ?? []);
    }
    return { roles, users };
  }

  /** Audit events, oldest first; `created_ats[gt]` and the other filters as CC takes them. */
  async auditEvents(query: Query): Promise<AuditEvent[]> {
    return this.list('/v3/audit_events', schemas.auditEvent, { ...query, order_by: 'created_at', per_page: MAX_PER_PAGE });
  }

  /** The oldest audit event CC still keeps for these filters: how far back its history reaches. */
  async oldestAuditEvent(query: Query): Promise<AuditEvent | undefined> {
    const page = await this.get('/v3/audit_events', schemas.page(schemas.auditEvent), { ...query, order_by: 'created_at', per_page: '1' });
    return page.resources[0];
  }

  /** An app's SSH switch, and what X-RateLimit-Remaining and X-RateLimit-Reset said (when CC limits). */
  async appSshFeatureMetered(appGuid: string): Promise<{ feature: SshFeature; rateLimit?: RateLimit }> {
    const path = `/v3/apps/${appGuid}/features/ssh`;
    const res = await this.request('GET', path);
    const feature = readAnswer(res, schemas.sshFeature, answerTo({ method: 'GET', url: resolve(this.api, path).href, server: SERVER }));
    const remaining = Number(res.headers['x-ratelimit-remaining']);
    const reset = Number(res.headers['x-ratelimit-reset']);
    if (!res.headers['x-ratelimit-remaining'] || !Number.isFinite(remaining)) return { feature };
    return { feature, rateLimit: { remaining, resetAtMs: Number.isFinite(reset) ? reset * 1000 : undefined } };
  }
}

/** A path goes under the API URL (which may have a path of its own); a link is read as given. */
function resolve(api: string, pathOrUrl: string): URL {
  // A stored login of another's making (cf's config.json) may hold anything.
  if (!URL.canParse(api)) throw new UserError(`The API endpoint '${api}' is not a URL: log in again with -a API_URL.`);
  if (pathOrUrl.startsWith('/') && !pathOrUrl.startsWith('//')) return new URL(`${api}${pathOrUrl}`);
  if (!URL.canParse(pathOrUrl, api)) throw new UserError(`The Cloud Controller pointed to '${pathOrUrl}', which is not a URL: not followed.`);
  return new URL(pathOrUrl, api);
}

function withQuery(path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined) params.set(key, value);
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/**
 * One warning of X-Cf-Warnings, URL-encoded as CC sends them. A sequence that does not decode
 * (a cut-off %E0%A4%A) is shown as it came, its neighbours decoded: a warning never fails a request.
 */
function decodeWarning(part: string): string {
  const text = part.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(text);
  } catch {
    return text.replace(/(?:%[0-9a-f]{2})+/gi, (run) => {
      try {
        return decodeURIComponent(run);
      } catch {
        return run;
      }
    });
  }
}

/** The error objects of a `{"errors":[...]}` body (see ccErrors). */
function errorItems(res: HttpResponse): CcErrorItem[] {
  return ccErrors((res.data as { errors?: unknown } | undefined)?.errors);
}

/** The error objects of CC's `errors` (of a body or a job) that say something; null entries and odd fields are passed over. */
function ccErrors(errors: unknown): CcErrorItem[] {
  if (!Array.isArray(errors)) return [];
  return errors.flatMap((item: unknown) => {
    const { code, title, detail } = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
    const text = (value: unknown) => (typeof value === 'string' ? value : '');
    return text(title) || text(detail) ? [{ code: typeof code === 'number' ? code : 0, title: text(title), detail: text(detail) }] : [];
  });
}

function isInvalidToken(res: HttpResponse): boolean {
  const title = errorItems(res)[0]?.title;
  const uaaError = (res.data as { error?: string } | undefined)?.error;
  return title === 'CF-InvalidAuthToken' || uaaError === 'invalid_token';
}
