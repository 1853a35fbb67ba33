// Choosing the org and space to work in, as `cf target` and `cf login` do.
import type { CloudController, Space } from '../cf/cloud-controller.js';
import type { StoredLogin } from '../config/login.js';
import { NoOrgTargetedError } from '../errors.js';
import { findOrg, findSpace } from './lookup.js';

/** Reads the space's SSH switch for config.json's SpaceFields.AllowSSH; false when unreadable. */
async function allowsSsh(cc: CloudController, space: Space): Promise<boolean> {
  try {
    return (await cc.spaceSshFeature(space.guid)).enabled;
  } catch {
    return false;
  }
}

export async function targetSpace(cc: CloudController, state: StoredLogin, space: Space): Promise<void> {
  state.space = { guid: space.guid, name: space.name, allowSSH: await allowsSsh(cc, space) };
}

/**
 * `target -o ORG [-s SPACE]` and `target -s SPACE`. With an org alone, its only space is
 * targeted when it has exactly one, as cf does.
 */
export async function setTarget(cc: CloudController, state: StoredLogin, choice: { org?: string; space?: string }, bin: string): Promise<void> {
  if (choice.org) {
    const org = await findOrg(cc, choice.org);
    const spaces = choice.space ? [await findSpace(cc, org.guid, choice.space)] : await cc.spaces(org.guid);
    state.org = { guid: org.guid, name: org.name };
    state.space = undefined;
    const [only] = spaces;
    if (only && spaces.length === 1) await targetSpace(cc, state, only);
    return;
  }
  if (choice.space) {
    if (!state.org?.guid) throw new NoOrgTargetedError(bin);
    await targetSpace(cc, state, await findSpace(cc, state.org.guid, choice.space));
  }
}
