// The SSH switches at their three levels: app (features/ssh of the app), space
// (features/ssh of the space) and global (the foundation's setting, seen only through
// the reason CC gives in /v3/apps/:guid/ssh_enabled).
import type { App, Space, SshFeature } from '../cf/cloud-controller.js';
import { CfApiError } from '../errors.js';
import { type CfClients, targetedSpace } from './cf-clients.js';
import { findApp, findTargetedOrgSpace } from './lookup.js';

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

export async function setAppSsh(cf: CfClients, appName: string, enabled: boolean): Promise<AppSwitchResult> {
  const { cc } = cf;
  const app = await findApp(cf, appName);
  const changed = await setSwitch(
    () => cc.appSshFeature(app.guid),
    (on) => cc.setAppSshFeature(app.guid, on),
    enabled,
  );
  return { app, changed };
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
