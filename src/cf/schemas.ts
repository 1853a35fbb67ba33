// What cf-ssh-tools reads of the Cloud Controller's answers, each type with the shape that checks
// it as it arrives (net/shape.ts): only the fields used anywhere, so that fields CC adds pass.
import { anything, boolean, list, object, optional, record, type Shape, string, wholeNumber, number } from '../net/shape.js';

interface Link {
  href: string;
}

export interface RootInfo {
  links: {
    self?: Link;
    cloud_controller_v3?: Link & { meta?: { version?: string } };
    login?: Link;
    uaa?: Link;
    app_ssh?: Link & { meta?: { host_key_fingerprint?: string; oauth_client?: string } };
  };
}

export interface Resource {
  guid: string;
  name: string;
}

export interface Organization extends Resource {}

export interface Space extends Resource {}

export interface App extends Resource {
  /** STARTED or STOPPED. */
  state: string;
  /** Annotations are free text for people and tools; labels are not read. */
  metadata?: { annotations?: Record<string, unknown> };
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
  usage?: { cpu?: number; mem?: number };
  details?: string;
}

export interface SshFeature {
  enabled: boolean;
}

export interface SshEnabled {
  enabled: boolean;
  reason: string;
}

/** A deployment of an app (`POST /v3/deployments`), as far as its progress goes. */
export interface Deployment {
  guid: string;
  /** Since CC 3.76: value ACTIVE or FINALIZED, reason DEPLOYING, DEPLOYED, CANCELED, SUPERSEDED, ... */
  status?: { value?: string; reason?: string };
  /** The older single word, still sent: DEPLOYING, DEPLOYED, CANCELING, CANCELED. */
  state?: string;
}

export interface AppEnv {
  /** VCAP_SERVICES is taken in whatever shape it comes (services/credentials.ts). */
  system_env_json?: { VCAP_SERVICES?: unknown };
}

interface Related {
  data?: { guid: string };
}

export interface CredentialBinding {
  guid: string;
  /** An app's binding may have none. */
  name?: string;
  type: string;
  relationships?: { service_instance?: Related; app?: Related };
}

export interface Job {
  /** PROCESSING, POLLING, COMPLETE or FAILED. */
  state: string;
  /** Why a FAILED job failed, in whatever shape the broker gave. */
  errors?: unknown[];
}

export interface Page<T> {
  pagination?: { next?: Link };
  resources: T[];
}

const link: Shape<Link | undefined> = optional(object<Link>({ href: string }));

export const rootInfo: Shape<RootInfo> = object<RootInfo>({
  links: object<RootInfo['links']>({
    self: link,
    cloud_controller_v3: optional(object({ href: string, meta: optional(object({ version: optional(string) })) })),
    login: link,
    uaa: link,
    app_ssh: optional(object({ href: string, meta: optional(object({ host_key_fingerprint: optional(string), oauth_client: optional(string) })) })),
  }),
});

export const resource: Shape<Resource> = object<Resource>({ guid: string, name: string });

export const app: Shape<App> = object<App>({ guid: string, name: string, state: string, metadata: optional(object({ annotations: optional(record) })) });

export const process: Shape<Process> = object<Process>({ guid: string, type: string, instances: wholeNumber });

export const instanceStats: Shape<InstanceStats> = object<InstanceStats>({
  type: string,
  index: wholeNumber,
  state: string,
  uptime: optional(number),
  mem_quota: optional(number),
  usage: optional(object({ cpu: optional(number), mem: optional(number) })),
  details: optional(string),
});

export const sshFeature: Shape<SshFeature> = object<SshFeature>({ enabled: boolean });

export const sshEnabled: Shape<SshEnabled> = object<SshEnabled>({ enabled: boolean, reason: string });

export const deployment: Shape<Deployment> = object<Deployment>({
  guid: string,
  status: optional(object({ value: optional(string), reason: optional(string) })),
  state: optional(string),
});

export const appEnv: Shape<AppEnv> = object<AppEnv>({ system_env_json: optional(object({ VCAP_SERVICES: anything })) });

const related: Shape<Related | undefined> = optional(object<Related>({ data: optional(object({ guid: string })) }));

/** A service instance as listed with its plan and offering names (`fields[...]`), for VCAP_SERVICES' label, plan and tags. */
export interface ServiceInstanceRecord extends Resource {
  /** managed or user-provided */
  type?: string;
  tags?: string[];
  relationships?: { service_plan?: Related };
}

export interface ServiceInstancesPage extends Page<ServiceInstanceRecord> {
  included?: {
    service_plans?: { guid: string; name?: string; relationships?: { service_offering?: Related } }[];
    service_offerings?: { guid: string; name?: string }[];
  };
}

export const serviceInstancesPage: Shape<ServiceInstancesPage> = object<ServiceInstancesPage>({
  pagination: optional(object({ next: link })),
  resources: list(
    object<ServiceInstanceRecord>({ guid: string, name: string, type: optional(string), tags: optional(list(string)), relationships: optional(object({ service_plan: related })) }),
  ),
  included: optional(
    object({
      service_plans: optional(list(object({ guid: string, name: optional(string), relationships: optional(object({ service_offering: related })) }))),
      service_offerings: optional(list(object({ guid: string, name: optional(string) }))),
    }),
  ),
});

export const credentialBinding: Shape<CredentialBinding> = object<CredentialBinding>({
  guid: string,
  name: optional(string),
  type: string,
  relationships: optional(object({ service_instance: related, app: related })),
});

export const bindingDetails: Shape<{ credentials?: Record<string, unknown> }> = object({ credentials: optional(record) });

export const job: Shape<Job> = object<Job>({ state: string, errors: optional(list(anything)) });

export function page<T>(item: Shape<T>): Shape<Page<T>> {
  return object<Page<T>>({ pagination: optional(object({ next: link })), resources: list(item) });
}

// ssh-audit: the resources an SSH report reads across an org (apps with their annotations and
// space, roles with their users, audit events).

export interface AuditedApp extends App {
  /** The app's annotations; time-boxed SSH grants are kept there. */
  metadata?: { annotations?: Record<string, unknown> };
  relationships: { space: { data: { guid: string } } };
}

export interface RoleUser {
  guid: string;
  username?: string;
  presentation_name?: string;
}

export interface Role {
  guid: string;
  /** space_developer, space_manager, organization_manager and the others CC has. */
  type: string;
  relationships: { user?: Related; space?: Related; organization?: Related };
}

export interface RolesPage extends Page<Role> {
  included?: { users?: RoleUser[] };
}

interface Party {
  guid: string;
  type: string;
  name?: string;
}

export interface AuditEvent {
  guid: string;
  created_at: string;
  type: string;
  /** A client's token has no user name: CC sends null. */
  actor: Party;
  target: Party;
  /** For SSH events: `{index}`, the instance. */
  data?: Record<string, unknown>;
  space?: { guid: string };
}

const guidOnly = object<{ guid: string }>({ guid: string });
const relatedData: Shape<{ data: { guid: string } }> = object({ data: guidOnly });

export const auditedApp: Shape<AuditedApp> = object<AuditedApp>({
  guid: string,
  name: string,
  state: string,
  metadata: optional(object({ annotations: optional(record) })),
  relationships: object({ space: relatedData }),
});

const roleUser: Shape<RoleUser> = object<RoleUser>({ guid: string, username: optional(string), presentation_name: optional(string) });

export const role: Shape<Role> = object<Role>({
  guid: string,
  type: string,
  relationships: object({ user: related, space: related, organization: related }),
});

export const rolesPage: Shape<RolesPage> = object<RolesPage>({
  pagination: optional(object({ next: link })),
  resources: list(role),
  included: optional(object({ users: optional(list(roleUser)) })),
});

const party = object<Party>({ guid: string, type: string, name: optional(string) });

export const auditEvent: Shape<AuditEvent> = object<AuditEvent>({
  guid: string,
  created_at: string,
  type: string,
  actor: party,
  target: party,
  data: optional(record),
  space: optional(guidOnly),
});

export interface OrgSpace extends Space {
  relationships: { organization: { data: { guid: string } } };
}

export const orgSpace: Shape<OrgSpace> = object<OrgSpace>({ guid: string, name: string, relationships: object({ organization: relatedData }) });
