// What `connect-to-service` means on Cloud Foundry: the service's credentials (the app's
// binding, or a service key made for this run alone), and a tunnel to the service through
// an app instance, checked end to end before anyone uses it.
import { randomBytes } from 'node:crypto';
import type { Client } from 'ssh2';
import type { App, CredentialBinding } from '../cf/cloud-controller.js';
import type { Context } from '../context.js';
import { CfApiError, UserError } from '../errors.js';
import { isCredhubReference, type ServiceBinding, vcapBindings } from '../services/credentials.js';
import { type Forwarding, openForwards } from '../ssh/forward.js';
import type { CfClients } from './cf-clients.js';
import { connectToInstance, ensureSshEnabled, findInstance, type InstanceTarget, sshEndpoint } from './ssh.js';
import { targetedSpace } from './cf-clients.js';

export interface ServiceCredentials {
  binding: ServiceBinding;
  /** Undoes what getting them made (deletes the service key); safe to call more than once. */
  release(): Promise<void>;
}

const noRelease = async () => undefined;

/** The app's binding: VCAP_SERVICES first, its details endpoint for CredHub-backed ones or when env is closed to us. */
export async function bindingCredentials(cf: CfClients, app: App, serviceName: string): Promise<ServiceCredentials> {
  const { cc } = cf;
  let fromEnv: ServiceBinding | undefined;
  let bound: string[] = [];
  try {
    const bindings = vcapBindings((await cc.appEnv(app.guid)).system_env_json?.VCAP_SERVICES);
    bound = bindings.map((b) => b.name);
    fromEnv = bindings.find((b) => b.name === serviceName || (b as { instance_name?: string }).instance_name === serviceName);
  } catch (err) {
    if (!(err instanceof CfApiError && err.status === 403)) throw err;
  }
  if (fromEnv && !isCredhubReference(fromEnv.credentials)) return { binding: fromEnv, release: noRelease };
  const [binding] = await cc.credentialBindings({ app_guids: app.guid, service_instance_names: serviceName, type: 'app' });
  if (!binding) {
    const hint = bound.length > 0 ? ` It is bound to: ${bound.join(', ')}.` : '';
    throw new UserError(`Service instance '${serviceName}' is not bound to app '${app.name}'.${hint}`);
  }
  const credentials = await cc.credentialBindingDetails(binding.guid);
  if (isCredhubReference(credentials)) {
    throw new UserError(
      `Service instance '${serviceName}' keeps the app's credentials in CredHub, out of reach of its users: give --credentials key to use a service key made for this run.`,
    );
  }
  return { binding: { ...fromEnv, name: serviceName, credentials }, release: noRelease };
}

/** Our service keys are named for the user and a random suffix: never shared, never clashing. */
export function serviceKeyPrefix(username: string): string {
  return `cf-ssh-tools-${username
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')}-`;
}

/**
 * A service key for this run only. Keys of this user that a killed run left behind are
 * deleted first (`onNotice` says so); the new key is deleted by `release`.
 */
export async function serviceKeyCredentials(cf: CfClients, serviceName: string, onNotice: (message: string) => void): Promise<ServiceCredentials> {
  const { cc } = cf;
  const [instance] = await cc.serviceInstancesNamed(serviceName, targetedSpace(cf).guid);
  if (!instance) throw new UserError(`Service instance '${serviceName}' not found.`);
  const prefix = serviceKeyPrefix(cf.auth.username);
  for (const stale of (await cc.credentialBindings({ service_instance_guids: instance.guid, type: 'key' })).filter((k) => k.name.startsWith(prefix))) {
    await cc.deleteCredentialBinding(stale);
    onNotice(`Deleted service key ${stale.name}, left behind by an earlier run that was stopped.`);
  }
  const key: CredentialBinding = await cc.createServiceKey(`${prefix}${randomBytes(4).toString('hex')}`, instance.guid);
  let released = false;
  const release = async () => {
    if (released) return;
    released = true;
    await cc.deleteCredentialBinding(key);
  };
  try {
    return { binding: { name: serviceName, credentials: await cc.credentialBindingDetails(key.guid) }, release };
  } catch (err) {
    await release();
    throw err;
  }
}

export interface Tunnel {
  target: InstanceTarget;
  connection: Client;
  forwarding: Forwarding;
  local: { host: string; port: number };
  close(): void;
}

/** Opens a direct-tcpip channel to the service once and closes it: the tunnel reaches it, or we say why not. */
function checkReachable(connection: Client, host: string, port: number, via: string): Promise<void> {
  return new Promise((resolve, reject) => {
    connection.forwardOut('127.0.0.1', 0, host, port, (err, channel) => {
      if (err) return reject(new UserError(`The service at ${host}:${port} cannot be reached from ${via}: ${err.message}.`));
      channel.close();
      resolve();
    });
  });
}

export async function openTunnel(
  ctx: Context,
  cf: CfClients,
  appName: string,
  index: number | undefined,
  remote: { host: string; port: number },
  local: { bind: string; port: number },
  onError: (message: string) => void,
): Promise<Tunnel> {
  const endpoint = await sshEndpoint(cf);
  const target = await findInstance(cf, appName, 'web', index ?? 0);
  await ensureSshEnabled(cf, target.app, ctx.bin);
  const connection = await connectToInstance(ctx, cf, endpoint, target, false);
  try {
    await checkReachable(connection, remote.host, remote.port, `${appName}/${target.index}`);
    const forwarding = await openForwards(connection, [{ bindAddress: local.bind, localPort: local.port, remoteHost: remote.host, remotePort: remote.port }], onError);
    const [listening] = forwarding.listening;
    if (!listening) throw new UserError(`The tunnel's local listener on ${local.bind}:${local.port} did not open.`);
    const { port } = listening;
    return {
      target,
      connection,
      forwarding,
      local: { host: local.bind, port },
      close: () => {
        forwarding.close();
        connection.end();
      },
    };
  } catch (err) {
    connection.end();
    throw err;
  }
}
