// The SSH switches at their three levels: app (features/ssh of the app), space
// (features/ssh of the space) and global (the foundation's setting, seen only through
// the reason CC gives in /v3/apps/:guid/ssh_enabled).
import { setTimeout as sleep } from 'node:timers/promises';
import type { App, CloudController, Deployment, Space, SshFeature } from '../cf/cloud-controller.js';
import { CfApiError, describeError } from '../errors.js';
import { type CfClients, targetedSpace } from './cf-clients.js';
import { findApp, findTargetedOrgSpace } from './lookup.js';
import { CLEARED_GRANT, grantAnnotations, type SshGrant, sshGrantOf } from './ssh-grant.js';

export type SshLevel = 'global' | 'space' | 'app';

export interface SshStatus {
  app: string;
  space: string;
  enabled: boolean;
  /** CC's own words, "" when enabled. */
  reason: string;
  /** Each level's switch; null where this user may not read it. */
  levels: Record<SshLevel, boolean | null>;
  /** The first level that is off, in the order CC checks them. */
  blockedBy?: SshLevel;
}

/**
 * The level CC names: "ssh is disabled globally", "ssh is disabled for space 'NAME'", "ssh is
 * disabled for app" since October 2019; "Disabled globally", "Disabled for space NAME",
 * "Disabled for app" before (older foundations still say so).
 */
function levelFromReason(reason: string): SshLevel | undefined {
  if (/globally/i.test(reason)) return 'global';
  if (/for space/i.test(reason)) return 'space';
  if (/for app/i.test(reason)) return 'app';
  return undefined;
}

async function readable<T>(read: () => Promise<T>): Promise<T | null> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof CfApiError && (err.status === 403 || err.status === 404)) return null;
    throw err;
  }
}

export async function sshStatus(cf: CfClients, app: App): Promise<SshStatus> {
  const { cc } = cf;
  const space = targetedSpace(cf);
  const [effective, appFeature, spaceFeature] = await Promise.all([
    cc.sshEnabled(app.guid),
    readable(() => cc.appSshFeature(app.guid)),
    readable(() => cc.spaceSshFeature(space.guid)),
  ]);
  const reasonLevel = levelFromReason(effective.reason);
  // CC checks global first: any other answer means the global switch is on.
  const global = effective.enabled || (reasonLevel !== undefined && reasonLevel !== 'global') ? true : reasonLevel === 'global' ? false : null;
  const levels: SshStatus['levels'] = {
    global,
    space: spaceFeature?.enabled ?? (reasonLevel === 'space' ? false : null),
    app: appFeature?.enabled ?? (reasonLevel === 'app' ? false : null),
  };
  const blockedBy = effective.enabled ? undefined : (reasonLevel ?? (['global', 'space', 'app'] as const).find((l) => levels[l] === false));
  return { app: app.name, space: space.name, enabled: effective.enabled, reason: effective.reason, levels, blockedBy };
}

export interface AppSwitchResult {
  app: App;
  /** False when the app's switch already had the state asked for. */
  changed: boolean;
  /** The time-boxed grant the app had before, now replaced or removed. */
  previousGrant?: SshGrant;
}

/** Until when, and why, SSH is enabled (enable-ssh --for). */
export interface TimeBox {
  expiresAt: Date;
  reason?: string;
}

/**
 * Sets a switch, and says whether it had another state before. The PATCH goes out even when
 * the switch already has the state asked for, as cf does for apps: only Cloud Controller knows
 * whether this user may change it (a 403 for a space auditor or manager), and a PATCH that
 * changes nothing leaves no trace (no audit event, no new updated_at).
 */
async function setSwitch(read: () => Promise<SshFeature>, write: (enabled: boolean) => Promise<SshFeature>, enabled: boolean): Promise<boolean> {
  const before = await read();
  await write(enabled);
  return before.enabled !== enabled;
}

/**
 * Sets the app's switch, and its grant with it: enabling with a time box records it, enabling
 * without one or disabling removes any grant the app had. A grant is written before SSH is
 * enabled, so that no failure leaves SSH on without its expiry; it is removed after SSH is
 * disabled, so that a failure leaves an expired grant for the next `disable-ssh --expired`.
 */
export async function setAppSsh(cf: CfClients, appName: string, enabled: boolean, now: number, timeBox?: TimeBox): Promise<AppSwitchResult> {
  const { cc } = cf;
  const app = await findApp(cf, appName);
  const previousGrant = sshGrantOf(app, now);
  if (timeBox && enabled) await cc.updateAppAnnotations(app.guid, grantAnnotations(timeBox.expiresAt, timeBox.reason));
  else if (previousGrant && enabled) await cc.updateAppAnnotations(app.guid, CLEARED_GRANT);
  const changed = await setSwitch(
    () => cc.appSshFeature(app.guid),
    (on) => cc.setAppSshFeature(app.guid, on),
    enabled,
  );
  if (previousGrant && !enabled) await cc.updateAppAnnotations(app.guid, CLEARED_GRANT);
  return { app, changed, previousGrant };
}

/** What `disable-ssh --expired` did, or would do, about one app's grant. */
export interface GrantEnding {
  app: App;
  grant: SshGrant;
  /** The app's switch before: on means SSH was still open. */
  wasEnabled: boolean;
  /** Why ending it failed; the other apps' grants are ended all the same. */
  failure?: string;
}

export interface ExpiredGrants {
  space: Space;
  ended: GrantEnding[];
  /** Grants that have not expired: left as they are. */
  running: { app: App; grant: SshGrant }[];
}

/**
 * Ends the expired grants of the targeted space's apps: SSH disabled, then the grant removed
 * (so a failure in between leaves it for the next run). `dryRun` only reads.
 */
export async function endExpiredGrants(cf: CfClients, now: number, dryRun: boolean): Promise<ExpiredGrants> {
  const { cc } = cf;
  const space = targetedSpace(cf);
  const granted = (await cc.spaceApps(space.guid)).flatMap((app) => {
    const grant = sshGrantOf(app, now);
    return grant ? [{ app, grant }] : [];
  });
  const ended: GrantEnding[] = [];
  // One app after another: a scheduled job has time, and CC's rate limit is shared with people.
  for (const { app, grant } of granted.filter(({ grant }) => grant.expired)) {
    const ending: GrantEnding = { app, grant, wasEnabled: false };
    try {
      ending.wasEnabled = (await cc.appSshFeature(app.guid)).enabled;
      if (!dryRun) {
        await cc.setAppSshFeature(app.guid, false);
        await cc.updateAppAnnotations(app.guid, CLEARED_GRANT);
      }
    } catch (err) {
      if (!(err instanceof CfApiError)) throw err;
      ending.failure = describeError(err).message;
    }
    ended.push(ending);
  }
  return { space, ended, running: granted.filter(({ grant }) => !grant.expired) };
}

const DEPLOYMENT_POLL_MS = 500;
/** The longest a rolling restart is waited for; it goes on after that, on Cloud Foundry. */
export const DEPLOYMENT_WAIT_MS = 10 * 60_000;

/** How a deployment ended: DEPLOYED is the only success; CANCELED, SUPERSEDED, ... are not. */
export interface DeploymentOutcome {
  deployment: Deployment;
  /** False when it had not finished within DEPLOYMENT_WAIT_MS. */
  finished: boolean;
  deployed: boolean;
  /** CC's word for where it stands: DEPLOYING, DEPLOYED, CANCELED, SUPERSEDED, ... */
  reason: string;
}

function deploymentStage(deployment: Deployment): Omit<DeploymentOutcome, 'deployment'> {
  const reason = deployment.status?.reason ?? deployment.state ?? 'UNKNOWN';
  // Older CCs send only `state`, whose last words are DEPLOYED and CANCELED.
  const finished = deployment.status?.value ? deployment.status.value === 'FINALIZED' : reason === 'DEPLOYED' || reason === 'CANCELED';
  return { finished, deployed: finished && reason === 'DEPLOYED', reason };
}

/** Starts a rolling deployment of the app, so that its instances restart one by one and the app keeps serving. */
export function startRollingRestart(cf: CfClients, app: App): Promise<Deployment> {
  return cf.cc.createRollingDeployment(app.guid);
}

/** Waits, until `signal` aborts it, for the deployment to finish, or DEPLOYMENT_WAIT_MS to pass. */
export async function deploymentOutcome(cc: CloudController, started: Deployment, signal: AbortSignal): Promise<DeploymentOutcome> {
  // The wall clock, not ctx.now: a test's fixed clock must not make the wait endless.
  const deadline = performance.now() + DEPLOYMENT_WAIT_MS;
  let deployment = started;
  for (;;) {
    const stage = deploymentStage(deployment);
    if (stage.finished || performance.now() >= deadline) return { deployment, ...stage };
    await sleep(DEPLOYMENT_POLL_MS, undefined, { signal });
    deployment = await cc.deployment(started.guid);
  }
}

export interface SpaceSwitchResult {
  space: Space;
  changed: boolean;
}

export async function setSpaceSsh(cf: CfClients, spaceName: string, enabled: boolean): Promise<SpaceSwitchResult> {
  const { cc } = cf;
  const space = await findTargetedOrgSpace(cf, spaceName);
  const changed = await setSwitch(
    () => cc.spaceSshFeature(space.guid),
    (on) => cc.setSpaceSshFeature(space.guid, on),
    enabled,
  );
  // The targeted space's switch is kept with the login, as cf keeps it in config.json.
  const targeted = cf.login.space;
  if (targeted?.guid === space.guid && targeted.allowSSH !== enabled) {
    targeted.allowSSH = enabled;
    await cf.store.save(cf.login);
  }
  return { space, changed };
}

export async function spaceSshAllowed(cf: CfClients, spaceName: string): Promise<{ space: Space; enabled: boolean }> {
  const space = await findTargetedOrgSpace(cf, spaceName);
  return { space, enabled: (await cf.cc.spaceSshFeature(space.guid)).enabled };
}

/** What to tell a user whose SSH is off somewhere: which level, and who can turn it on. */
export function blockedTip(status: SshStatus, bin: string): string {
  switch (status.blockedBy) {
    case 'global':
      return 'SSH is disabled globally on this Cloud Foundry: only its operators can enable it.';
    case 'space':
      return `SSH is not allowed in space '${status.space}': a space or org manager can run '${bin} allow-space-ssh ${status.space}'.`;
    case 'app':
      return `SSH is disabled for app '${status.app}': a space developer can run '${bin} enable-ssh ${status.app}'.`;
    default:
      return 'Ensure ssh is also enabled on the space and global level.';
  }
}
