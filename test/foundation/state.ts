// The test Cloud Foundry's in-memory world: users and roles, orgs, spaces, apps with their
// processes and instances, the SSH switches at their three levels, issued tokens, service
// instances with their credential bindings (app bindings and service keys), and CC's jobs.
import { randomUUID } from 'node:crypto';
import { AuditLog } from './audit-log.js';

export type SpaceRole = 'developer' | 'auditor' | 'manager';

/** CC's metadata of an app or a space: labels and annotations, each a key to a string. */
export interface Metadata {
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

const noMetadata = (): Metadata => ({ labels: {}, annotations: {} });

export interface User {
  guid: string;
  name: string;
  password: string;
  admin: boolean;
  /** A client (client-credentials grant) rather than a person. */
  isClient?: boolean;
}

export interface Org {
  guid: string;
  name: string;
  managers: Set<string>;
  auditors: Set<string>;
}

export interface Space {
  guid: string;
  name: string;
  orgGuid: string;
  allowSsh: boolean;
  roles: Map<string, SpaceRole>;
  metadata: Metadata;
}

export const INSTANCE_STATES = ['RUNNING', 'STARTING', 'CRASHED', 'DOWN'] as const;

export interface Instance {
  state: (typeof INSTANCE_STATES)[number];
  uptime: number;
}

const newInstance = (state: Instance['state']): Instance => ({ state, uptime: state === 'RUNNING' ? 3600 : 0 });

export interface Process {
  guid: string;
  type: string;
  instances: Instance[];
}

export interface App {
  guid: string;
  name: string;
  spaceGuid: string;
  state: 'STARTED' | 'STOPPED';
  sshEnabled: boolean;
  processes: Process[];
  environment: Record<string, string>;
  metadata: Metadata;
}

export type Credentials = Record<string, unknown>;

/** A managed service instance: what its broker (see services.ts) offers and hands out. */
export interface ManagedServiceInstance {
  type: 'managed';
  guid: string;
  name: string;
  spaceGuid: string;
  offering: { guid: string; label: string; description: string };
  plan: { guid: string; name: string };
  tags: string[];
  /** The broker's credentials for a binding (asynchronous: the database behind them starts at the first need). */
  credentials(): Promise<Credentials>;
  /** A CredHub-backed broker: CC holds only a `credhub-ref` for each binding, and resolves it for service keys only. */
  credhub?: boolean;
}

/** A user-provided service instance (`cf create-user-provided-service`): CC holds its credentials as they were given. */
export interface UserProvidedServiceInstance {
  type: 'user-provided';
  guid: string;
  name: string;
  spaceGuid: string;
  tags: string[];
  credentials(): Promise<Credentials>;
  syslogDrainUrl: string | null;
  routeServiceUrl: string | null;
  createdAt: string;
}

export type ServiceInstance = ManagedServiceInstance | UserProvidedServiceInstance;

export interface LastOperation {
  type: 'create' | 'delete';
  state: 'in progress' | 'succeeded' | 'failed';
  description: string;
  createdAt: string;
  updatedAt: string;
}

/** An app binding or a service key (`type: 'key'`), as CC's /v3/service_credential_bindings has them. */
export interface ServiceCredentialBinding {
  guid: string;
  type: 'app' | 'key';
  /** Keys always have one; app bindings mostly do not. */
  name: string | null;
  serviceInstanceGuid: string;
  appGuid?: string;
  /** Who created it, for GET /foundation/service-keys. */
  createdBy: string;
  createdAt: string;
  lastOperation: LastOperation;
}

export interface CcErrorDetail {
  code: number;
  title: string;
  detail: string;
}

/** A CC job (GET /v3/jobs/:guid): asynchronous work such as creating or deleting a service key. */
export interface Job {
  guid: string;
  operation: string;
  state: 'PROCESSING' | 'COMPLETE' | 'FAILED';
  errors: CcErrorDetail[];
  warnings: { detail: string }[];
  createdAt: string;
  updatedAt: string;
}

export const SSH_REASON_WORDINGS = ['current', 'pre-2019'] as const;
export type SshReasonWording = (typeof SSH_REASON_WORDINGS)[number];

/** CC's app_ssh_status_presenter.rb since October 2019, and the wording it had before. */
const SSH_REASONS: Record<SshReasonWording, { global: string; space: (name: string) => string; app: string }> = {
  current: { global: 'ssh is disabled globally', space: (name) => `ssh is disabled for space '${name}'`, app: 'ssh is disabled for app' },
  'pre-2019': { global: 'Disabled globally', space: (name) => `Disabled for space ${name}`, app: 'Disabled for app' },
};

export const SEED_USERS = {
  admin: 'admin-pass',
  developer: 'developer-pass',
  auditor: 'auditor-pass',
  manager: 'manager-pass',
  'space-manager': 'space-manager-pass',
  'org-auditor': 'org-auditor-pass',
} as const;

export const SEED_CLIENT = { id: 'ci-client', secret: 'ci-secret' };

export class World {
  readonly users = new Map<string, User>();
  readonly orgs: Org[] = [];
  readonly spaces: Space[] = [];
  readonly apps: App[] = [];
  readonly serviceInstances: ServiceInstance[] = [];
  readonly bindings: ServiceCredentialBinding[] = [];
  readonly jobs = new Map<string, Job>();
  readonly audit = new AuditLog();
  globalSsh = true;
  /** How /v3/apps/:guid/ssh_enabled words its reasons: as CC has since October 2019, or as before. */
  sshReasonWording: SshReasonWording = 'current';

  constructor() {
    this.seed();
  }

  userByName(name: string): User | undefined {
    return [...this.users.values()].find((u) => u.name === name);
  }

  addUser(name: string, password: string, admin = false, isClient = false): User {
    const user = { guid: isClient ? name : randomUUID(), name, password, admin, isClient };
    this.users.set(user.guid, user);
    return user;
  }

  addOrg(name: string, managers: User[] = [], auditors: User[] = []): Org {
    const guids = (users: User[]) => new Set(users.map((u) => u.guid));
    const org = { guid: randomUUID(), name, managers: guids(managers), auditors: guids(auditors) };
    this.orgs.push(org);
    return org;
  }

  addSpace(org: Org, name: string, allowSsh: boolean, roles: [User, SpaceRole][]): Space {
    const space = {
      guid: randomUUID(),
      name,
      orgGuid: org.guid,
      allowSsh,
      roles: new Map(roles.map(([u, r]) => [u.guid, r])),
      metadata: noMetadata(),
    };
    this.spaces.push(space);
    return space;
  }

  addApp(
    space: Space,
    name: string,
    options: { state?: App['state']; sshEnabled?: boolean; instances?: Instance['state'][]; extraProcesses?: Record<string, Instance['state'][]> } = {},
  ): App {
    const guid = randomUUID();
    const instancesOf = (states: Instance['state'][]) => states.map(newInstance);
    const app: App = {
      guid,
      name,
      spaceGuid: space.guid,
      state: options.state ?? 'STARTED',
      sshEnabled: options.sshEnabled ?? true,
      // For the web process, CC uses the app's guid as the process guid.
      processes: [
        { guid, type: 'web', instances: instancesOf(options.instances ?? ['RUNNING']) },
        ...Object.entries(options.extraProcesses ?? {}).map(([type, states]) => ({
          guid: randomUUID(),
          type,
          instances: instancesOf(states),
        })),
      ],
      environment: { GREETING: 'hello from cf-ssh-tools' },
      metadata: noMetadata(),
    };
    this.apps.push(app);
    return app;
  }

  private seed(): void {
    this.addUser('admin', SEED_USERS.admin, true);
    const developer = this.addUser('developer', SEED_USERS.developer);
    const auditor = this.addUser('auditor', SEED_USERS.auditor);
    const manager = this.addUser('manager', SEED_USERS.manager);
    const spaceManager = this.addUser('space-manager', SEED_USERS['space-manager']);
    const orgAuditor = this.addUser('org-auditor', SEED_USERS['org-auditor']);
    const client = this.addUser(SEED_CLIENT.id, SEED_CLIENT.secret, false, true);

    const org = this.addOrg('demo-org', [manager], [orgAuditor]);
    this.addOrg('sandbox-org');
    const members: [User, SpaceRole][] = [
      [developer, 'developer'],
      [auditor, 'auditor'],
      [spaceManager, 'manager'],
    ];
    const demo = this.addSpace(org, 'demo-space', true, [...members, [client, 'developer']]);
    const locked = this.addSpace(org, 'locked-space', false, members);

    this.addApp(demo, 'demo-app', { instances: ['RUNNING', 'RUNNING'], extraProcesses: { worker: ['RUNNING'] } });
    this.addApp(demo, 'stopped-app', { state: 'STOPPED', instances: ['DOWN'] });
    this.addApp(demo, 'no-ssh-app', { sshEnabled: false });
    this.addApp(locked, 'locked-app');
  }

  addServiceInstance(space: Space, instance: Omit<ManagedServiceInstance, 'type' | 'guid' | 'spaceGuid'>): ManagedServiceInstance {
    const added: ManagedServiceInstance = { ...instance, type: 'managed', guid: randomUUID(), spaceGuid: space.guid };
    this.serviceInstances.push(added);
    return added;
  }

  addUserProvidedInstance(
    space: Space,
    instance: { name: string; tags: string[]; credentials: Credentials; syslogDrainUrl: string | null; routeServiceUrl: string | null },
  ): UserProvidedServiceInstance {
    const { credentials, ...rest } = instance;
    const added: UserProvidedServiceInstance = {
      ...rest,
      type: 'user-provided',
      guid: randomUUID(),
      spaceGuid: space.guid,
      credentials: async () => credentials,
      createdAt: new Date().toISOString(),
    };
    this.serviceInstances.push(added);
    return added;
  }

  /** A service instance gone, and its bindings and keys with it. */
  removeServiceInstance(instance: ServiceInstance): void {
    const remaining = this.bindings.filter((b) => b.serviceInstanceGuid !== instance.guid);
    this.bindings.splice(0, this.bindings.length, ...remaining);
    this.serviceInstances.splice(this.serviceInstances.indexOf(instance), 1);
  }

  /** A new binding; a service key's starts 'in progress', as its broker has yet to create it. */
  addBinding(instance: ServiceInstance, binding: { type: 'app'; app: App; name?: string | null } | { type: 'key'; name: string }, createdBy: string): ServiceCredentialBinding {
    const now = new Date().toISOString();
    const added: ServiceCredentialBinding = {
      guid: randomUUID(),
      type: binding.type,
      name: binding.name ?? null,
      serviceInstanceGuid: instance.guid,
      appGuid: binding.type === 'app' ? binding.app.guid : undefined,
      createdBy,
      createdAt: now,
      lastOperation: { type: 'create', state: binding.type === 'key' ? 'in progress' : 'succeeded', description: '', createdAt: now, updatedAt: now },
    };
    this.bindings.push(added);
    return added;
  }

  instanceOf(binding: ServiceCredentialBinding): ServiceInstance {
    return this.serviceInstances.find((i) => i.guid === binding.serviceInstanceGuid) as ServiceInstance;
  }

  /** What CC holds for a binding: the broker's credentials, or a CredHub reference for a CredHub-backed broker. */
  async storedCredentials(binding: ServiceCredentialBinding): Promise<Credentials> {
    const instance = this.instanceOf(binding);
    if (instance.type === 'managed' && instance.credhub) return { 'credhub-ref': `/c/${instance.offering.guid}/${instance.guid}/${binding.guid}/credentials` };
    return instance.credentials();
  }

  /**
   * VCAP_SERVICES as CC builds it for an app (in /v3/apps/:guid/env and the instances'
   * environment): its bindings grouped by the offering's label. A binding whose database could
   * not start is left out (the foundation said why on stderr when it failed).
   */
  async vcapServices(app: App): Promise<Record<string, unknown[]>> {
    const bindings = this.bindings.filter((b) => b.appGuid === app.guid);
    const entries = await Promise.all(
      bindings.map(async (binding) => {
        const instance = this.instanceOf(binding);
        const credentials = await this.storedCredentials(binding).catch(() => undefined);
        // CC's ServiceInstancePresenter: a user-provided instance has no offering, provider or plan.
        const offered = instance.type === 'managed' ? { label: instance.offering.label, provider: null, plan: instance.plan.name } : { label: 'user-provided' };
        return (
          credentials && {
            ...offered,
            name: binding.name ?? instance.name,
            tags: instance.tags,
            instance_guid: instance.guid,
            instance_name: instance.name,
            binding_guid: binding.guid,
            binding_name: binding.name,
            credentials,
            syslog_drain_url: instance.type === 'user-provided' ? instance.syslogDrainUrl : null,
            volume_mounts: [],
          }
        );
      }),
    );
    const services: Record<string, unknown[]> = {};
    for (const entry of entries) if (entry) (services[entry.label] ??= []).push(entry);
    return services;
  }

  // --- who may see and do what -------------------------------------------------

  // CC's permissions.rb: an org auditor sees the org but none of its spaces; every space role
  // and the org manager see the space; only developers write to it; managers of the space or
  // the org update the space itself (its SSH switch among it).

  canSeeOrg(user: User, org: Org): boolean {
    return user.admin || org.managers.has(user.guid) || org.auditors.has(user.guid) || this.spaces.some((s) => s.orgGuid === org.guid && s.roles.has(user.guid));
  }

  canSeeSpace(user: User, space: Space): boolean {
    return user.admin || space.roles.has(user.guid) || this.orgOf(space).managers.has(user.guid);
  }

  isSpaceDeveloper(user: User, space: Space): boolean {
    return user.admin || space.roles.get(user.guid) === 'developer';
  }

  canUpdateSpace(user: User, space: Space): boolean {
    return user.admin || space.roles.get(user.guid) === 'manager' || this.orgOf(space).managers.has(user.guid);
  }

  orgOf(space: Space): Org {
    return this.orgs.find((o) => o.guid === space.orgGuid) as Org;
  }

  spaceOf(resource: App | ServiceInstance): Space {
    return this.spaces.find((s) => s.guid === resource.spaceGuid) as Space;
  }

  processByGuid(guid: string): { app: App; process: Process } | undefined {
    for (const app of this.apps) {
      const process = app.processes.find((p) => p.guid === guid);
      if (process) return { app, process };
    }
    return undefined;
  }

  /** What Diego reports after an instance crashes, restarts...: also seen in /v3/processes/:guid/stats. */
  setInstanceState(process: Process, index: number, state: Instance['state']): void {
    process.instances[index] = newInstance(state);
  }

  /** The VCAP_APPLICATION CC gives an app's processes (its /v3/apps/:guid/env shows the same). */
  vcapApplication(app: App, apiUrl: string): Record<string, unknown> {
    const space = this.spaceOf(app);
    const uris = [`${app.name}.apps.internal`];
    return {
      application_id: app.guid,
      application_name: app.name,
      application_uris: uris,
      cf_api: apiUrl,
      limits: { fds: 16384 },
      name: app.name,
      organization_id: space.orgGuid,
      organization_name: this.orgOf(space).name,
      space_id: space.guid,
      space_name: space.name,
      uris,
      users: null,
    };
  }

  /** CC's answer to /v3/apps/:guid/ssh_enabled (its AppSshStatusPresenter): global first, then space, then app. */
  sshEnabled(app: App): { enabled: boolean; reason: string } {
    const space = this.spaceOf(app);
    const reasons = SSH_REASONS[this.sshReasonWording];
    if (!this.globalSsh) return { enabled: false, reason: reasons.global };
    if (!space.allowSsh) return { enabled: false, reason: reasons.space(space.name) };
    if (!app.sshEnabled) return { enabled: false, reason: reasons.app };
    return { enabled: true, reason: '' };
  }
}
