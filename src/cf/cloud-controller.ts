// A Cloud Controller v3 client: the resources cf-ssh-tools reads and changes, pagination,
// X-Cf-Warnings, error bodies turned into typed errors, one retry on a refused token. Links
// it is given (pagination, jobs) are followed only into the foundation (foundation-origins.ts).
import { setTimeout as sleep } from 'node:timers/promises';
import { type CcErrorItem, CfApiError, LimitError, UserError } from '../errors.js';
import type { HttpClient, HttpRequest, HttpResponse } from '../net/http.js';
import type { TokenSource } from '../net/token-source.js';
import { FoundationOrigins } from './foundation-origins.js';

export interface RootInfo {
  links: {
    self?: { href: string };
    cloud_controller_v3?: { href: string; meta?: { version?: string } };
    login?: { href: string };
    uaa?: { href: string };
    app_ssh?: { href: string; meta?: { host_key_fingerprint?: string; oauth_client?: string } };
  };
}

export interface Resource {
  guid: string;
  name: string;
}

export interface Organization extends Resource {}

export interface Space extends Resource {
  relationships?: { organization?: { data?: { guid: string } } };
}

export interface App extends Resource {
  state: 'STARTED' | 'STOPPED';
  relationships?: { space?: { data?: { guid: string } } };
}

export interface Process {
  guid: string;
  type: string;
  instances: number;
}

export interface InstanceStats {
  type: string;
  index: number;
  /** RUNNING, STARTING, CRASHED, DOWN, or whatever a newer Diego reports. */
  state: string;
  uptime?: number;
  mem_quota?: number;
  disk_quota?: number;
  usage?: { cpu?: number; mem?: number; disk?: number };
  details?: string | null;
}

export interface SshFeature {
  name: 'ssh';
  description?: string;
  enabled: boolean;
}

export interface SshEnabled {
  enabled: boolean;
  reason: string;
}

export interface AppEnv {
  system_env_json?: { VCAP_SERVICES?: Record<string, unknown[]> };
  application_env_json?: Record<string, unknown>;
  environment_variables?: Record<string, string>;
}

export interface CredentialBinding extends Resource {
  type: 'app' | 'key';
  relationships?: { service_instance?: { data?: { guid: string } }; app?: { data?: { guid: string } | null } };
}

interface Job {
  state: 'PROCESSING' | 'POLLING' | 'COMPLETE' | 'FAILED';
  errors?: { detail: string }[];
}

const JOB_POLL_MS = 200;
/** The longest an asynchronous operation (creating or deleting a service key) is waited for. */
export const JOB_TIMEOUT_MS = 120_000;
/** The most pages of one list read; a list that goes on is refused. */
export const MAX_PAGES = 500;

export interface CcLimits {
  maxPages: number;
}

/** Who answers, in the HTTP client's messages. */
const SERVER = 'The Cloud Controller';

interface Page<T> {
  pagination?: { next?: { href: string } | null };
  resources: T[];
}

type Query = Record<string, string | undefined>;

export class CloudController {
  /** The last root read, for the foundation's servers. */
  private rootLinks?: RootInfo['links'];
  private foundation?: Promise<FoundationOrigins>;

  constructor(
    private readonly http: HttpClient,
    private readonly api: string,
    private readonly auth: TokenSource | undefined,
    private readonly onWarning: (warning: string) => void,
    private readonly limits: CcLimits = { maxPages: MAX_PAGES },
  ) {}

  /** `GET /`: needs no login. */
  async root(): Promise<RootInfo> {
    const res = await this.http.send<RootInfo>({ method: 'GET', url: `${this.api}/`, server: SERVER });
    if (res.status !== 200 || typeof res.data !== 'object' || !res.data?.links) {
      throw new UserError(`${this.api} does not look like a Cloud Foundry API (GET / answered HTTP ${res.status}).`);
    }
    this.rootLinks = res.data.links;
    return res.data;
  }

  async organizationsNamed(name: string): Promise<Organization[]> {
    return this.list<Organization>('/v3/organizations', { names: name });
  }

  async organizations(): Promise<Organization[]> {
    return this.list<Organization>('/v3/organizations', { order_by: 'name' });
  }

  async spaces(orgGuid: string, name?: string): Promise<Space[]> {
    return this.list<Space>('/v3/spaces', { names: name, organization_guids: orgGuid, order_by: 'name' });
  }

  async appsNamed(name: string, spaceGuid: string): Promise<App[]> {
    return this.list<App>('/v3/apps', { names: name, space_guids: spaceGuid });
  }

  async processes(appGuid: string): Promise<Process[]> {
    return this.list<Process>(`/v3/apps/${appGuid}/processes`);
  }

  async processStats(processGuid: string): Promise<InstanceStats[]> {
    return (await this.get<Page<InstanceStats>>(`/v3/processes/${processGuid}/stats`)).resources;
  }

  async sidecars(processGuid: string): Promise<Resource[]> {
    return this.list<Resource>(`/v3/processes/${processGuid}/sidecars`);
  }

  async appSshFeature(appGuid: string): Promise<SshFeature> {
    return this.get<SshFeature>(`/v3/apps/${appGuid}/features/ssh`);
  }

  async setAppSshFeature(appGuid: string, enabled: boolean): Promise<SshFeature> {
    return this.call<SshFeature>('PATCH', `/v3/apps/${appGuid}/features/ssh`, { enabled });
  }

  async spaceSshFeature(spaceGuid: string): Promise<SshFeature> {
    return this.get<SshFeature>(`/v3/spaces/${spaceGuid}/features/ssh`);
  }

  async setSpaceSshFeature(spaceGuid: string, enabled: boolean): Promise<SshFeature> {
    return this.call<SshFeature>('PATCH', `/v3/spaces/${spaceGuid}/features/ssh`, { enabled });
  }

  async sshEnabled(appGuid: string): Promise<SshEnabled> {
    return this.get<SshEnabled>(`/v3/apps/${appGuid}/ssh_enabled`);
  }

  async appEnv(appGuid: string): Promise<AppEnv> {
    return this.get<AppEnv>(`/v3/apps/${appGuid}/env`);
  }

  async serviceInstancesNamed(name: string, spaceGuid: string): Promise<Resource[]> {
    return this.list<Resource>('/v3/service_instances', { names: name, space_guids: spaceGuid });
  }

  async credentialBindings(query: {
    app_guids?: string;
    service_instance_guids?: string;
    service_instance_names?: string;
    names?: string;
    type?: 'app' | 'key';
  }): Promise<CredentialBinding[]> {
    return this.list<CredentialBinding>('/v3/service_credential_bindings', query);
  }

  async credentialBindingDetails(bindingGuid: string): Promise<Record<string, unknown>> {
    return (await this.get<{ credentials?: Record<string, unknown> }>(`/v3/service_credential_bindings/${bindingGuid}/details`)).credentials ?? {};
  }

  /** Creates a service key and waits until the broker has made it. */
  async createServiceKey(name: string, serviceInstanceGuid: string): Promise<CredentialBinding> {
    const res = await this.request('POST', '/v3/service_credential_bindings', {
      type: 'key',
      name,
      relationships: { service_instance: { data: { guid: serviceInstanceGuid } } },
    });
    await this.finishJob(res, `Creating service key ${name}`);
    const [key] = await this.list<CredentialBinding>('/v3/service_credential_bindings', { type: 'key', names: name, service_instance_guids: serviceInstanceGuid });
    if (!key) throw new UserError(`Service key ${name} was created but cannot be found.`);
    return key;
  }

  async deleteCredentialBinding(binding: CredentialBinding): Promise<void> {
    await this.finishJob(await this.request('DELETE', `/v3/service_credential_bindings/${binding.guid}`), `Deleting service key ${binding.name}`);
  }

  get<T>(path: string, query?: Query): Promise<T> {
    return this.call<T>('GET', withQuery(path, query));
  }

  /** Every resource of a list, following pagination.next: never to a page read before, nor past maxPages. */
  async list<T>(path: string, query?: Query): Promise<T[]> {
    const all: T[] = [];
    const read = new Set<string>();
    let next: string | undefined = withQuery(path, query);
    while (next) {
      const href = resolve(this.api, next).href;
      if (read.has(href)) throw new LimitError(`${SERVER}'s pagination of ${path} repeats page ${href}: stopped.`);
      if (read.size === this.limits.maxPages) throw new LimitError(`${SERVER}'s pagination of ${path} goes on past ${this.limits.maxPages} pages: stopped.`);
      read.add(href);
      const page: Page<T> = await this.call<Page<T>>('GET', href);
      all.push(...(page.resources ?? []));
      next = page.pagination?.next?.href || undefined;
    }
    return all;
  }

  private async call<T>(method: HttpRequest['method'], pathOrUrl: string, json?: unknown): Promise<T> {
    return (await this.request(method, pathOrUrl, json)).data as T;
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
      this.foundation ??= (this.rootLinks ? Promise.resolve(this.rootLinks) : this.root().then((root) => root.links)).then((links) => new FoundationOrigins(this.api, links));
      (await this.foundation).check(url);
    }
    return url;
  }

  /** Waits for an asynchronous operation (the job in a 202's Location) to finish. */
  private async finishJob(res: HttpResponse, what: string): Promise<void> {
    const location = res.headers.location;
    if (res.status !== 202 || !location) return;
    const deadline = Date.now() + JOB_TIMEOUT_MS;
    for (;;) {
      const job = await this.call<Job>('GET', location);
      if (job.state === 'COMPLETE') return;
      if (job.state === 'FAILED') throw new UserError(`${what} failed: ${job.errors?.map((e) => e.detail).join('; ') || 'no reason given'}`);
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
      const warning = decodeURIComponent(part.trim().replace(/\+/g, ' '));
      if (warning) this.onWarning(warning);
    }
  }
}

/** A path goes under the API URL (which may have a path of its own); a link is read as given. */
function resolve(api: string, pathOrUrl: string): URL {
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

function errorItems(res: HttpResponse): CcErrorItem[] {
  const body = res.data as { errors?: CcErrorItem[] } | undefined;
  return typeof body === 'object' && Array.isArray(body?.errors) ? body.errors : [];
}

function isInvalidToken(res: HttpResponse): boolean {
  const title = errorItems(res)[0]?.title;
  const uaaError = (res.data as { error?: string } | undefined)?.error;
  return title === 'CF-InvalidAuthToken' || uaaError === 'invalid_token';
}
