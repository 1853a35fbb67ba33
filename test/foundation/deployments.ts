// Rolling deployments as CC runs them (DeploymentCreate, DeploymentUpdater): a new web process
// with a new GUID starts next to the old one (status ACTIVE, DEPLOYING); after the rollout
// (`rolloutMs`) its instances run, the old process is gone with its instances' SSH servers, and
// the deployment is FINALIZED, DEPLOYED. The SSH user name cf:PROCESS-GUID/INDEX changes with it.
// /v3/deployments lists, shows and creates them with CC's shapes (DeploymentPresenter).
import { randomUUID } from 'node:crypto';
import { ccTimestamp } from './audit-routes.js';
import { authenticated, type CcSettings, linker, metadata, notFound, paginate, unprocessable } from './cc-routes.js';
import { ccError, json, type Request, type Router } from './router.js';
import type { App, Process, User, World } from './state.js';
import type { TokenService } from './tokens.js';

export interface Deployment {
  guid: string;
  app: App;
  value: 'ACTIVE' | 'FINALIZED';
  reason: 'DEPLOYING' | 'DEPLOYED' | 'SUPERSEDED';
  createdAt: number;
  statusChangedAt: number;
  /** The web process that replaces the app's. */
  process: Process;
  revision: number;
}

const STRATEGIES = ['rolling'];
const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

export class Deployments {
  /** How long a rollout takes, from the new process's start to the old one's end. */
  rolloutMs = 1000;
  readonly all: Deployment[] = [];
  private readonly rollouts = new Map<Deployment, NodeJS.Timeout>();

  /** `retire` ends the old process's instances (their SSH servers) once it is replaced. */
  constructor(
    private readonly world: World,
    private readonly retire: (process: Process) => Promise<void>,
  ) {}

  start(app: App): Deployment {
    const now = Date.now();
    // A new deployment supersedes one under way: its process never takes over.
    for (const running of this.all.filter((d) => d.app === app && d.value === 'ACTIVE')) {
      clearTimeout(this.rollouts.get(running));
      this.rollouts.delete(running);
      app.processes.splice(app.processes.indexOf(running.process), 1);
      Object.assign(running, { value: 'FINALIZED', reason: 'SUPERSEDED', statusChangedAt: now });
    }
    const old = app.processes.find((p) => p.type === 'web') as Process;
    const process: Process = { guid: randomUUID(), type: 'web', instances: old.instances.map(() => ({ state: 'STARTING', uptime: 0 })) };
    app.processes.push(process);
    const deployment: Deployment = {
      guid: randomUUID(),
      app,
      value: 'ACTIVE',
      reason: 'DEPLOYING',
      createdAt: now,
      statusChangedAt: now,
      process,
      revision: this.all.filter((d) => d.app === app).length + 1,
    };
    this.all.push(deployment);
    this.rollouts.set(
      deployment,
      setTimeout(() => void this.finish(deployment, old), this.rolloutMs),
    );
    return deployment;
  }

  private async finish(deployment: Deployment, old: Process): Promise<void> {
    this.rollouts.delete(deployment);
    const { app, process } = deployment;
    process.instances.forEach((_, index) => this.world.setInstanceState(process, index, 'RUNNING'));
    app.processes.splice(app.processes.indexOf(process), 1);
    app.processes.splice(app.processes.indexOf(old), 1, process);
    app.state = 'STARTED';
    Object.assign(deployment, { value: 'FINALIZED', reason: 'DEPLOYED', statusChangedAt: Date.now() });
    await this.retire(old);
  }

  /** The foundation stops: rollouts under way stay where they are. */
  stop(): void {
    for (const timer of this.rollouts.values()) clearTimeout(timer);
    this.rollouts.clear();
  }
}

export function deploymentRoutes(router: Router, world: World, deployments: Deployments, tokens: TokenService, settings: CcSettings, baseUrl: () => string): void {
  const link = linker(baseUrl);
  const authed = authenticated(world, tokens, settings);
  const visible = (user: User, deployment: Deployment) => world.canSeeSpace(user, world.spaceOf(deployment.app));

  const render = (d: Deployment) => ({
    guid: d.guid,
    created_at: ccTimestamp(d.createdAt),
    updated_at: ccTimestamp(d.statusChangedAt),
    status: { value: d.value, reason: d.reason, details: { last_successful_healthcheck: ccTimestamp(d.statusChangedAt), last_status_change: ccTimestamp(d.statusChangedAt) } },
    strategy: 'rolling',
    options: { max_in_flight: 1 },
    droplet: { guid: `${d.app.guid}-droplet` },
    previous_droplet: { guid: `${d.app.guid}-droplet` },
    new_processes: [{ guid: d.process.guid, type: d.process.type }],
    revision: { guid: `${d.guid}-revision`, version: d.revision },
    relationships: { app: { data: { guid: d.app.guid } } },
    metadata,
    links: { self: link(`/v3/deployments/${d.guid}`), app: link(`/v3/apps/${d.app.guid}`) },
  });

  router.on(
    'POST',
    /^\/v3\/deployments$/,
    authed((req: Request, user) => {
      let body: unknown;
      try {
        body = req.json<unknown>();
      } catch {
        return ccError(400, 1001, 'CF-MessageParseError', 'Request invalid due to parse error: invalid request body');
      }
      if (!isRecord(body)) return unprocessable('Relationships must be an object');
      const strategy = body.strategy ?? 'rolling';
      // The foundation deploys the rolling way only (CC also knows canary).
      if (typeof strategy !== 'string' || !STRATEGIES.includes(strategy))
        return unprocessable(`Strategy '${typeof strategy === 'string' ? strategy : JSON.stringify(strategy)}' is not a supported deployment strategy`);
      const relationships = isRecord(body.relationships) ? body.relationships : {};
      const appData = isRecord(relationships.app) && isRecord(relationships.app.data) ? relationships.app.data : {};
      const app = world.apps.find((a) => a.guid === appData.guid);
      if (!app || !world.isSpaceDeveloper(user, world.spaceOf(app))) return unprocessable('Unable to use app. Ensure that the app exists and you have access to it.');
      return json(201, render(deployments.start(app)));
    }),
  );

  router.on(
    'GET',
    /^\/v3\/deployments\/([^/]+)$/,
    authed((req, user) => {
      const deployment = deployments.all.find((d) => d.guid === req.params[0]);
      return deployment && visible(user, deployment) ? json(200, render(deployment)) : notFound('Deployment');
    }),
  );

  router.on(
    'GET',
    /^\/v3\/deployments$/,
    authed((req, user) => {
      const query = req.url.searchParams;
      const wanted = (key: string) => (query.has(key) ? new Set((query.get(key) ?? '').split(',')) : undefined);
      const apps = wanted('app_guids');
      const values = wanted('status_values');
      const reasons = wanted('status_reasons');
      const listed = deployments.all.filter((d) => visible(user, d) && (!apps || apps.has(d.app.guid)) && (!values || values.has(d.value)) && (!reasons || reasons.has(d.reason)));
      return paginate(req, listed, render, settings);
    }),
  );
}
