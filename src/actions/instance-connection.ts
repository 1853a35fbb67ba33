// An SSH connection to an app instance in as few sequential round trips as the protocols allow.
// The dial, version exchange and key exchange need only the proxy's address (as the last runs
// read it from the API root); the look-ups (app, process,
// instances, SSH switches) only the Cloud Controller. All start at once; the code is asked for
// as soon as the checks have passed, while the handshake goes on. The host key is
// verified against the API root this run reads, and authentication waits for the look-ups: a
// login the proxy refuses is recorded as an audit event (audit.app.ssh-unauthorized), so SSH
// switched off or an instance not running is named before any login is tried, and the code
// goes only to a host whose key this run's root vouches for.
import type { Client } from 'ssh2';
import type { Context } from '../context.js';
import { LookupCache } from '../config/lookup-cache.js';
import { ownStateFolder } from '../config/own-login.js';
import { connectSsh } from '../ssh/client.js';
import { verifyHostKey } from '../ssh/fingerprint.js';
import { dialTimeoutMs, KEEPALIVE_COUNT_MAX, keepaliveMs } from '../ssh/settings.js';
import { type CfClients, targetedSpace } from './cf-clients.js';
import { oneTimeCode } from './ssh-code.js';
import { endpointOf, ensureSshEnabled, findInstance, type InstanceTarget, type SshEndpoint, sshUsername } from './ssh.js';

export interface InstanceWanted {
  appName: string;
  processType: string;
  index: number;
  /** -k: the host key is not checked. */
  skipHostValidation: boolean;
}

export interface InstanceConnection {
  connection: Client;
  target: InstanceTarget;
  endpoint: SshEndpoint;
}

/** The remembered endpoint is not where this run's API root says the proxy is. */
class EndpointMoved extends Error {}

const sameEndpoint = (a: SshEndpoint, b: SshEndpoint) => a.host === b.host && a.port === b.port && a.fingerprint === b.fingerprint && a.oauthClient === b.oauthClient;

/** Keeps a promise that may be left unawaited (the run failed elsewhere first) from being an unhandled rejection. */
function settledLater<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

/** The instance, checked (started, running, SSH allowed at every level); where the GUIDs are remembered, its look-ups all at once. */
async function checkedInstance(ctx: Context, cf: CfClients, wanted: InstanceWanted, cache: LookupCache): Promise<InstanceTarget> {
  const key = { api: cf.login.api, spaceGuid: targetedSpace(cf).guid, appName: wanted.appName, processType: wanted.processType };
  const hint = await cache.process(key);
  const guess = hint && { appGuid: hint.appGuid, processGuid: hint.processGuid, stats: settledLater(cf.cc.processStats(hint.processGuid)) };
  const enabledEarly = hint && settledLater(cf.cc.sshEnabled(hint.appGuid));
  const target = await findInstance(cf, wanted.appName, wanted.processType, wanted.index, undefined, guess);
  await ensureSshEnabled(cf, target.app, ctx.bin, target.app.guid === hint?.appGuid ? enabledEarly : undefined);
  if (target.app.guid !== hint?.appGuid || target.process.guid !== hint.processGuid) {
    await cache.remember(undefined, { ...key, appGuid: target.app.guid, processGuid: target.process.guid, savedAt: ctx.now() });
  }
  return target;
}

export async function openInstanceConnection(ctx: Context, cf: CfClients, wanted: InstanceWanted, signal: AbortSignal): Promise<InstanceConnection> {
  const cache = new LookupCache(ownStateFolder(ctx.env).dir);
  const confirmed = settledLater(cf.cc.root().then((root) => endpointOf(root.links.app_ssh)));
  const remembered = await cache.endpoint(cf.login.api, ctx.now());
  const target = settledLater(checkedInstance(ctx, cf, wanted, cache));

  const attempt = (dialled: SshEndpoint) => {
    // Asked for once the checks have passed, while the handshake goes on: a refused run asks UAA for nothing.
    const code = settledLater(target.then(() => oneTimeCode(cf, dialled)));
    /** Where this run's root says the proxy is: else the dialled endpoint was a stale memory. */
    const current = async () => {
      const endpoint = await confirmed;
      if (endpoint.host !== dialled.host || endpoint.port !== dialled.port) throw new EndpointMoved();
      return endpoint;
    };
    return connectSsh({
      host: dialled.host,
      port: dialled.port,
      checkHostKey: wanted.skipHostValidation ? undefined : async (key) => verifyHostKey((await current()).fingerprint, key),
      login: async () => {
        const [instance, endpoint] = await Promise.all([target, current()]);
        const password = endpoint.oauthClient === dialled.oauthClient ? await code : await oneTimeCode(cf, endpoint);
        return { username: sshUsername(instance), password };
      },
      env: ctx.env,
      timeoutMs: dialTimeoutMs(ctx.env),
      keepaliveMs: keepaliveMs(ctx.env),
      keepaliveCountMax: KEEPALIVE_COUNT_MAX,
      signal,
    });
  };

  let connection: Client;
  try {
    connection = await attempt(remembered ?? (await confirmed));
  } catch (err) {
    // The look-ups' refusal (no such app, SSH off) is the more useful message, and the one a run
    // that looked up first gave; then the root's, which the dial could not be confirmed without.
    await target;
    const endpoint = await confirmed;
    // A remembered endpoint that is no longer the root's (moved, or its dial failed): once more, where the root says.
    const stale = err instanceof EndpointMoved || (remembered !== undefined && !sameEndpoint(remembered, endpoint));
    if (!stale) throw err;
    connection = await attempt(endpoint);
  }
  const endpoint = await confirmed;
  if (!remembered || !sameEndpoint(remembered, endpoint)) await cache.remember({ api: cf.login.api, ...endpoint, savedAt: ctx.now() }, undefined);
  return { connection, target: await target, endpoint };
}
