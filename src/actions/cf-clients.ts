// The stored login to work with, and the Cloud Controller and UAA clients that go with it.
import { CloudController } from '../cf/cloud-controller.js';
import { isLoggedIn, type LoginStore, type Named, type StoredLogin } from '../config/login.js';
import type { Context } from '../context.js';
import { NoApiEndpointError, NoOrgTargetedError, NoSpaceTargetedError, NotLoggedInError } from '../errors.js';
import { Auth } from '../uaa/auth.js';
import { UaaClient } from '../uaa/client.js';

/** The clients for the foundation a stored login points at; `login` is kept up to date by `auth`. */
export interface CfClients {
  store: LoginStore;
  login: StoredLogin;
  auth: Auth;
  cc: CloudController;
  uaa: UaaClient;
}

/** Where a line the servers want shown goes (X-Cf-Warnings): the command decides how to print it. */
export type WarningSink = (warning: string) => void;

/** The first store that holds a login, or undefined when none does. */
export async function findLogin(ctx: Context): Promise<{ store: LoginStore; login: StoredLogin } | undefined> {
  for (const store of ctx.loginStores) {
    const login = await store.load();
    if (login) return { store, login };
  }
  return undefined;
}

export function clientsFor(ctx: Context, store: LoginStore, login: StoredLogin, onWarning: WarningSink): CfClients {
  const http = ctx.http(login.sslDisabled, login.trace);
  const uaa = new UaaClient(http, login.authorizationEndpoint, login.uaaEndpoint || login.authorizationEndpoint);
  const auth = new Auth(login, store, uaa, () => ctx.now());
  const cc = new CloudController(http, login.api, auth, onWarning);
  return { store, login, auth, cc, uaa };
}

/** The clients of a logged-in user; `need` names the target the command cannot do without. */
export async function loggedInClients(ctx: Context, need: 'login' | 'org' | 'space', onWarning: WarningSink): Promise<CfClients> {
  const found = await findLogin(ctx);
  if (!found?.login.api) throw new NoApiEndpointError(ctx.bin);
  if (!isLoggedIn(found.login)) throw new NotLoggedInError(ctx.bin);
  if (need !== 'login' && !found.login.org?.guid) throw new NoOrgTargetedError(ctx.bin);
  if (need === 'space' && !found.login.space?.guid) throw new NoSpaceTargetedError(ctx.bin);
  return clientsFor(ctx, found.store, found.login, onWarning);
}

/** The targeted org, for clients from loggedInClients(ctx, 'org' | 'space'), which checked it with the user's words. */
export function targetedOrg(cf: CfClients): Named {
  if (!cf.login.org) throw new Error('targetedOrg needs clients from loggedInClients(ctx, "org" | "space")');
  return cf.login.org;
}

/** The targeted space, for clients from loggedInClients(ctx, 'space'), which checked it with the user's words. */
export function targetedSpace(cf: CfClients): Named {
  if (!cf.login.space) throw new Error('targetedSpace needs clients from loggedInClients(ctx, "space")');
  return cf.login.space;
}
