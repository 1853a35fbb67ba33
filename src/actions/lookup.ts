// Orgs, spaces and apps by name, as a user names them.
import type { App, CloudController, Organization, Space } from '../cf/cloud-controller.js';
import { NotFoundError } from '../errors.js';
import { type CfClients, targetedOrg, targetedSpace } from './cf-clients.js';

export async function findOrg(cc: CloudController, name: string): Promise<Organization> {
  const [org] = await cc.organizationsNamed(name);
  if (!org) throw new NotFoundError(`Organization '${name}' not found.`);
  return org;
}

export async function findSpace(cc: CloudController, orgGuid: string, name: string): Promise<Space> {
  const [space] = await cc.spaces(orgGuid, name);
  if (!space) throw new NotFoundError(`Space '${name}' not found.`);
  return space;
}

/** A space of the targeted org. */
export function findTargetedOrgSpace(cf: CfClients, name: string): Promise<Space> {
  return findSpace(cf.cc, targetedOrg(cf).guid, name);
}

/** An app of the targeted space. */
export async function findApp(cf: CfClients, name: string): Promise<App> {
  const [app] = await cf.cc.appsNamed(name, targetedSpace(cf).guid);
  if (!app) throw new NotFoundError(`App '${name}' not found.`);
  return app;
}
