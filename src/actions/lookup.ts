// Orgs, spaces, apps and service instances by name, as a user names them: the one named exactly
// that, byte for byte, whatever the server's filter let through.
import type { App, CloudController, CredentialBinding, Organization, Resource, ServiceInstance, Space } from '../cf/cloud-controller.js';
import { NotFoundError } from '../errors.js';
import { type CfClients, targetedOrg, targetedSpace } from './cf-clients.js';

/**
 * A name as CC's `names=` filters take it. CC splits a filter on commas (and the spaces after
 * them), then percent-decodes each part; names may hold both (`[[:print:]]+`). So a comma and a
 * percent sign are sent percent-encoded, and the name arrives whole (the cf CLI encodes commas only).
 */
export function nameFilter(name: string): string {
  return name.replace(/[%,]/g, (c) => encodeURIComponent(c));
}

/** The resource named exactly `name`: a server may match case-insensitively, split the filter, or ignore it. */
function named<T extends Resource>(resources: T[], name: string): T | undefined {
  return resources.find((r) => r.name === name);
}

export async function findOrg(cc: CloudController, name: string): Promise<Organization> {
  const org = named(await cc.organizationsNamed(nameFilter(name)), name);
  if (!org) throw new NotFoundError(`Organization '${name}' not found.`);
  return org;
}

export async function findSpace(cc: CloudController, orgGuid: string, name: string): Promise<Space> {
  const space = named(await cc.spaces(orgGuid, nameFilter(name)), name);
  if (!space) throw new NotFoundError(`Space '${name}' not found.`);
  return space;
}

/** A space of the targeted org. */
export function findTargetedOrgSpace(cf: CfClients, name: string): Promise<Space> {
  return findSpace(cf.cc, targetedOrg(cf).guid, name);
}

/** An app of the targeted space. */
export async function findApp(cf: CfClients, name: string): Promise<App> {
  const app = named(await cf.cc.appsNamed(nameFilter(name), targetedSpace(cf).guid), name);
  if (!app) throw new NotFoundError(`App '${name}' not found.`);
  return app;
}

/** A service instance of the targeted space (or shared with it), or undefined. */
export async function serviceInstanceNamed(cf: CfClients, name: string): Promise<ServiceInstance | undefined> {
  return named(await cf.cc.serviceInstancesNamed(nameFilter(name), targetedSpace(cf).guid), name);
}

/** A service instance of the targeted space (or shared with it). */
export async function findServiceInstance(cf: CfClients, name: string): Promise<ServiceInstance> {
  const instance = await serviceInstanceNamed(cf, name);
  if (!instance) throw new NotFoundError(`Service instance '${name}' not found.`);
  return instance;
}

/**
 * The app's binding to the service instance named exactly `serviceName`, or undefined when there
 * is no such instance or it is not bound to the app. A binding does not carry its instance's name,
 * so the instance is found by name first and the binding by both guids, each checked.
 */
export async function appBindingTo(cf: CfClients, app: App, serviceName: string): Promise<CredentialBinding | undefined> {
  const instance = await serviceInstanceNamed(cf, serviceName);
  if (!instance) return undefined;
  const bindings = await cf.cc.credentialBindings({ app_guids: app.guid, service_instance_guids: instance.guid, type: 'app' });
  return bindings.find((b) => b.type === 'app' && b.relationships?.service_instance?.data?.guid === instance.guid && b.relationships.app?.data?.guid === app.guid);
}
