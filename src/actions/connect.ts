// What `connect-to-service` means on Cloud Foundry: the service's credentials (the app's
// binding, or a service key made for this run alone and deleted at its end), and the check
// that the service is reachable from the app instance.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client, ClientChannel } from 'ssh2';
import type { App, ServiceInstance } from '../cf/cloud-controller.js';
import { CfApiError, describeError, NetworkError, UserError } from '../errors.js';
import { isCredhubReference, type ServiceBinding, vcapBindings } from '../services/credentials.js';
import type { CfClients } from './cf-clients.js';
import { appBindingTo } from './lookup.js';
import type { Lifecycle } from './lifecycle.js';
import { KeyLedger, type LedgerRun } from '../config/key-ledger.js';
import { ownStateFolder } from '../config/own-login.js';
import type { Context } from '../context.js';

const instanceName = (binding: ServiceBinding) => (binding as { instance_name?: string }).instance_name;

function describeBinding(binding: ServiceBinding): string {
  const instance = instanceName(binding);
  return instance && instance !== binding.name ? `service instance '${instance}', bound as '${binding.name}'` : `service instance '${binding.name}'`;
}

/** The app's binding: VCAP_SERVICES first, its details endpoint for CredHub-backed ones or when env is closed to us. */
export async function bindingCredentials(cf: CfClients, app: App, serviceName: string, onNotice: (message: string) => void): Promise<ServiceBinding> {
  const { cc } = cf;
  let fromEnv: ServiceBinding | undefined;
  let bound: string[] = [];
  try {
    const bindings = vcapBindings((await cc.appEnv(app.guid)).system_env_json?.VCAP_SERVICES, onNotice);
    bound = bindings.map((b) => b.name);
    const matches = bindings.filter((b) => b.name === serviceName || instanceName(b) === serviceName);
    // A binding's name may be another service instance's name: say so rather than pick one.
    if (matches.length > 1) {
      throw new UserError(`'${serviceName}' names more than one service bound to app '${app.name}': ${matches.map(describeBinding).join('; ')}. Give a name only one of them has.`);
    }
    fromEnv = matches[0];
  } catch (err) {
    if (!(err instanceof CfApiError && err.status === 403)) throw err;
  }
  if (fromEnv && !isCredhubReference(fromEnv.credentials)) return fromEnv;
  const binding = await appBindingTo(cf, app, serviceName);
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
  return { ...fromEnv, name: serviceName, credentials };
}

/** Our service keys are named for the user and a random suffix: never shared, never clashing. */
export function serviceKeyName(username: string): string {
  const user = username
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
  return `cf-ssh-tools-${user}-${randomBytes(4).toString('hex')}`;
}

/** Pauses between DELETE attempts of a service key: a broker or CC that fails for a moment gets ~7 s. */
const DELETE_RETRY_MS = [500, 1500, 5000];

// The HTTP client already retries a 429 (any method) and a failed GET; a DELETE that a broker failed is ours to retry.
const retryable = (err: unknown) => err instanceof NetworkError || (err instanceof CfApiError && err.status >= 500);

/** Deletes the key named `name` (whatever state its create left it in), retrying what may pass; gone already is done. */
async function deleteServiceKey(cf: CfClients, instanceGuid: string, name: string): Promise<void> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      const keys = await cf.cc.credentialBindings({ service_instance_guids: instanceGuid, type: 'key', names: name });
      for (const key of keys.filter((k) => k.name === name)) await cf.cc.deleteCredentialBinding(key);
      return;
    } catch (err) {
      if (err instanceof CfApiError && err.status === 404) return;
      const pause = DELETE_RETRY_MS[attempt];
      if (pause === undefined || !retryable(err)) throw err;
      await sleep(pause);
    }
  }
}

/**
 * Deletes the keys recorded by runs of ours that died before deleting them (killed, crashed,
 * lost power). Only recorded keys of dead runs on this API: never a live run's key, never a
 * key we did not make. What cannot be deleted stays recorded for the next run.
 */
async function deleteKeysOfDeadRuns(cf: CfClients, ledger: KeyLedger, run: LedgerRun, onNotice: (message: string) => void): Promise<void> {
  for (const orphan of await ledger.orphans()) {
    if (orphan.keys.length > 0 && !orphan.keys.some((key) => key.api === cf.login.api)) continue;
    for (const key of (await run.claim(orphan)) ?? []) {
      if (key.api !== cf.login.api) continue;
      try {
        await deleteServiceKey(cf, key.serviceInstanceGuid, key.keyName);
        await run.forget(key.keyName);
        onNotice(`Deleted service key ${key.keyName} of ${key.serviceName}, left behind by an earlier run that could not delete it.`);
      } catch (err) {
        onNotice(`Could not delete service key ${key.keyName} of ${key.serviceName}, left behind by an earlier run: ${describeError(err).message} The next run tries again.`);
      }
    }
  }
}

/**
 * A service key for this run only, deleted at the run's teardown. It is recorded, and its
 * deletion is on the cleanup stack, before the create is sent: a create that fails or is cut
 * off halfway (a broker error, a stop, a crash) still has its key deleted, now or by a later run.
 */
export async function serviceKeyCredentials(ctx: Context, cf: CfClients, instance: ServiceInstance, life: Lifecycle, onNotice: (message: string) => void): Promise<ServiceBinding> {
  // Recorded in our state folder, so that a later run can tell a dead run's keys from a live one's.
  const ledger = new KeyLedger(ownStateFolder(ctx.env).dir);
  const run = await ledger.openRun();
  life.defer('the record of service keys', () => run.close());
  await life.until(deleteKeysOfDeadRuns(cf, ledger, run, onNotice));
  const name = serviceKeyName(cf.auth.username);
  await run.record({ api: cf.login.api, serviceInstanceGuid: instance.guid, serviceName: instance.name, keyName: name });
  life.defer(`the service key ${name}`, async () => {
    try {
      await deleteServiceKey(cf, instance.guid, name);
    } catch (err) {
      throw new UserError(
        `${describeError(err).message.replace(/\.?$/, '.')} Delete it with 'cf delete-service-key ${instance.name} ${name} -f'; the next connect-to-service --credentials key tries again.`,
      );
    }
    await run.forget(name);
  });
  const key = await life.until(cf.cc.createServiceKey(name, instance.guid));
  await run.created(name, key.guid);
  const { name: instanceName, label, plan, tags } = instance;
  return { name: instanceName, label, plan, tags, credentials: await life.until(cf.cc.credentialBindingDetails(key.guid)) };
}

/** A direct-tcpip channel to the service: the tunnel reaches it, or we say why not. */
export function openServiceChannel(connection: Client, host: string, port: number, via: string): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    connection.forwardOut('127.0.0.1', 0, host, port, (err, channel) => {
      if (err) return reject(new UserError(`The service at ${host}:${port} cannot be reached from ${via}: ${err.message}.`));
      resolve(channel);
    });
  });
}
