// Choosing the org and space to work in, as `cf target` and `cf login` do.
import type { CloudController, Organization, Space } from '../cf/cloud-controller.js';
import type { SessionState } from '../config/session.js';
import { NoOrgTargetedError, NotFoundError } from '../errors.js';

export async function findOrg(cc: CloudController, name: string): Promise<Organization> {
  const [org] = await cc.organizationsNamed(name);
  if (!org) throw new NotFoundError(`Organization '${name}' not found.`);
  return org;
}

export async function findSpaceIn(cc: CloudController, orgGuid: string, name: string): Promise<Space> {
  const [space] = await cc.spaces(orgGuid, name);
  if (!space) throw new NotFoundError(`Space '${name}' not found.`);
  return space;
}

/** Reads the space's SSH switch for config.json's SpaceFields.AllowSSH; false when unreadable. */
async function allowsSsh(cc: CloudController, space: Space): Promise<boolean> {
  try {
    return (await cc.spaceSshFeature(space.guid)).enabled;
  } catch {
    return false;
  }
}

export async function targetSpace(cc: CloudController, state: SessionState, space: Space): Promise<void> {
  state.space = { guid: space.guid, name: space.name, allowSSH: await allowsSsh(cc, space) };
}

/**
 * `target -o ORG [-s SPACE]` and `target -s SPACE`. With an org alone, its only space is
 * targeted when it has exactly one, as cf does.
 */
export async function setTarget(
  cc: CloudController,
  state: SessionState,
  choice: { org?: string; space?: string },
  bin: string,
): Promise<void> {
  if (choice.org) {
    const org = await findOrg(cc, choice.org);
    const spaces = choice.space ? [await findSpaceIn(cc, org.guid, choice.space)] : await cc.spaces(org.guid);
    state.org = { guid: org.guid, name: org.name };
    state.space = undefined;
    if (spaces.length === 1) await targetSpace(cc, state, spaces[0]);
    return;
  }
  if (choice.space) {
    if (!state.org?.guid) throw new NoOrgTargetedError(bin);
    await targetSpace(cc, state, await findSpaceIn(cc, state.org.guid, choice.space));
  }
}
