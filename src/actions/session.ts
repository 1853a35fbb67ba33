// Finding the session to work with and the clients that go with it.
import { CloudController } from '../cf/cloud-controller.js';
import { isLoggedIn, type Named, type SessionState, type SessionStore } from '../config/session.js';
import type { Context } from '../context.js';
import { NoApiEndpointError, NoOrgTargetedError, NoSpaceTargetedError, NotLoggedInError } from '../errors.js';
import { Auth } from '../uaa/auth.js';
import { UaaClient } from '../uaa/client.js';

export interface CfSession {
  store: SessionStore;
  state: SessionState;
  auth: Auth;
  cc: CloudController;
  uaa: UaaClient;
}

/** The first store that holds a session, or undefined when none does. */
export async function findSession(ctx: Context): Promise<{ store: SessionStore; state: SessionState } | undefined> {
  for (const store of ctx.stores) {
    const state = await store.load();
    if (state) return { store, state };
  }
  return undefined;
}

export function connect(ctx: Context, store: SessionStore, state: SessionState): CfSession {
  const http = ctx.http(state.sslDisabled, state.trace);
  const uaa = new UaaClient(http, state.authorizationEndpoint, state.uaaEndpoint || state.authorizationEndpoint);
  const auth = new Auth(state, store, uaa, () => ctx.now());
  const cc = new CloudController(http, state.api, auth, (warning) => ctx.term.err(warning));
  return { store, state, auth, cc, uaa };
}

/** A logged-in session; `need` names the target the command cannot do without. */
export async function openSession(ctx: Context, need: 'login' | 'org' | 'space' = 'space'): Promise<CfSession> {
  const found = await findSession(ctx);
  if (!found?.state.api) throw new NoApiEndpointError(ctx.bin);
  if (!isLoggedIn(found.state)) throw new NotLoggedInError(ctx.bin);
  if (need !== 'login' && !found.state.org?.guid) throw new NoOrgTargetedError(ctx.bin);
  if (need === 'space' && !found.state.space?.guid) throw new NoSpaceTargetedError(ctx.bin);
  return connect(ctx, found.store, found.state);
}

export function targetedOrg(session: CfSession): Named {
  return session.state.org as Named;
}

export function targetedSpace(session: CfSession): Named {
  return session.state.space as Named;
}
