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
import type { App, SshEnabled } from '../cf/cloud-controller.js';
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
  /** What else must pass before anyone logs in (the caller's own checks); its refusal comes before ours. */
  loginAfter?: Promise<unknown>;
  /** The instance as the caller has already looked it up and checked (one look-up for many instances). */
  checked?: InstanceTarget;
}

export interface InstanceConnection {
  connection: Client;
  target: InstanceTarget;
  endpoint: SshEndpoint;
}

/** The remembered endpoint is not where this run's API root says the proxy is. */
class EndpointMoved extends Error {}

const sameAddress = (a: SshEndpoint, b: SshEndpoint) => a.host === b.host && a.port === b.port;
const sameEndpoint = (a: SshEndpoint, b: SshEndpoint) => sameAddress(a, b) && a.fingerprint === b.fingerprint && a.oauthClient === b.oauthClient;

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
  // The app's SSH switch is asked for alongside its process and instances (at once, when remembered).
  let enabled: Promise<SshEnabled> | undefined;
  const askEnabled = (app: App) => {
    enabled = enabledEarly && app.guid === hint?.appGuid ? enabledEarly : settledLater(cf.cc.sshEnabled(app.guid));
  };
  const target = await findInstance(cf, wanted.appName, wanted.processType, wanted.index, undefined, guess, askEnabled);
  await ensureSshEnabled(cf, target.app, ctx.bin, enabled);
  if (target.app.guid !== hint?.appGuid || target.process.guid !== hint.processGuid) {
    await cache.remember(undefined, { ...key, appGuid: target.app.guid, processGuid: target.process.guid, savedAt: ctx.now() });
  }
  return target;
}

export async function openInstanceConnection(ctx: Context, cf: CfClients, wanted: InstanceWanted, signal: AbortSignal): Promise<InstanceConnection> {
  const cache = new LookupCache(ownStateFolder(ctx.env).dir);
  // The code is asked for only once the checks pass; its connection (TCP and TLS) need not wait for them.
  cf.uaa.preconnect();
  const confirmed = settledLater(cf.cc.root().then((root) => endpointOf(root.links.app_ssh)));
  const remembered = await cache.endpoint(cf.login.api, ctx.now());
  const target = settledLater(wanted.checked ? Promise.resolve(wanted.checked) : checkedInstance(ctx, cf, wanted, cache));

  /** Once a login has been tried, no second one: each refused login is an audit event. */
  let loginSent = false;
  const attempt = async (dialled: SshEndpoint) => {
    // Abandoned as soon as this run's root names another address: a stale memory costs no dial timeout.
    const abandon = new AbortController();
    const stop = () => abandon.abort(signal.reason);
    signal.addEventListener('abort', stop, { once: true });
    confirmed.then(
      (endpoint) => {
        if (!sameAddress(endpoint, dialled)) abandon.abort(new EndpointMoved());
      },
      () => undefined,
    );
    // Asked for once the checks have passed, while the handshake goes on: a refused run asks UAA for nothing.
    const code = settledLater(Promise.all([target, wanted.loginAfter]).then(() => oneTimeCode(cf, dialled)));
    /** Where this run's root says the proxy is: else the dialled endpoint was a stale memory. */
    const current = async () => {
      const endpoint = await confirmed;
      if (!sameAddress(endpoint, dialled)) throw new EndpointMoved();
      return endpoint;
    };
    try {
      return await connectSsh({
        host: dialled.host,
        port: dialled.port,
        checkHostKey: wanted.skipHostValidation ? undefined : async (key) => verifyHostKey((await current()).fingerprint, key),
        login: async () => {
          const [instance, endpoint] = await Promise.all([target, current(), wanted.loginAfter]);
          const password = endpoint.oauthClient === dialled.oauthClient ? await code : await oneTimeCode(cf, endpoint);
          loginSent = true;
          return { username: sshUsername(instance), password };
        },
        env: ctx.env,
        timeoutMs: dialTimeoutMs(ctx.env),
        keepaliveMs: keepaliveMs(ctx.env),
        keepaliveCountMax: KEEPALIVE_COUNT_MAX,
        signal: abandon.signal,
      });
    } finally {
      signal.removeEventListener('abort', stop);
    }
  };

  let connection: Client;
  try {
    connection = await attempt(remembered ?? (await confirmed));
  } catch (err) {
    if (signal.aborted) throw err;
    // The caller's and the look-ups' refusals (no such app, SSH off) are the more useful messages,
    // and the ones a run that looked up first gave; then the root's, which the dial needed.
    await wanted.loginAfter;
    await target;
    const endpoint = await confirmed;
    // A remembered endpoint that is no longer the root's (moved, or its dial failed): once more, where the root says.
    const stale = err instanceof EndpointMoved || (remembered !== undefined && !sameEndpoint(remembered, endpoint));
    if (!stale || loginSent) throw err;
    connection = await attempt(endpoint);
  }
  const endpoint = await confirmed;
  if (!remembered || !sameEndpoint(remembered, endpoint)) await cache.remember({ api: cf.login.api, ...endpoint, savedAt: ctx.now() }, undefined);
  return { connection, target: await target, endpoint };
}
