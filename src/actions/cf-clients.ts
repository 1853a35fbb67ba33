// The stored login to work with, and the Cloud Controller and UAA clients that go with it.
import { CloudController } from '../cf/cloud-controller.js';
import { isLoggedIn, type LoginStore, type Named, type StoredLogin } from '../config/login.js';
import type { Context } from '../context.js';
import { NoApiEndpointError, NoOrgTargetedError, NoSpaceTargetedError, NotLoggedInError, RefreshTokenError } from '../errors.js';
import type { TokenSource } from '../net/token-source.js';
import { Auth } from '../uaa/auth.js';
import { UaaClient } from '../uaa/client.js';
import { expiresSoon, tokenUsername } from '../uaa/jwt.js';

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

type LockableStore = LoginStore & Required<Pick<LoginStore, 'whileLocked'>>;

/** Stores in files we write take a lock; cf's plugin session is cf's to refresh. */
const isShared = (store: LoginStore): store is LockableStore => store.whileLocked !== undefined && store.refreshAccessToken === undefined;

/** What another run saved, against what this run holds: nothing newer, newer and usable, or newer but about to expire. */
type SavedTokens = 'ours' | 'fresh' | 'expiring';

/**
 * A session that several runs share (one home; with UAA's refresh token rotation, each refresh
 * token works once). Refreshes and saves take the store's lock, so runs refresh one after the
 * other, each seeing what the one before saved: a newer token is taken, not refreshed again
 * with a refresh token already spent. A refresh refused because cf itself (which takes no lock
 * of ours) spent the token meanwhile is answered the same way. Saves keep a newer saved token.
 */
class SharedSession implements LoginStore {
  readonly description: string;

  constructor(
    private readonly store: LockableStore,
    private readonly login: StoredLogin,
    /** This run's own refresh: a grant, then a save to `store`. */
    private readonly refresher: TokenSource,
    private readonly now: () => number,
  ) {
    this.description = store.description;
  }

  load(): Promise<StoredLogin | undefined> {
    return this.store.load();
  }

  save(state: StoredLogin): Promise<void> {
    return this.store.whileLocked(async () => {
      await this.takeSaved();
      await this.store.save(state);
    });
  }

  refreshAccessToken(): Promise<string> {
    return this.store.whileLocked(async () => {
      if ((await this.takeSaved()) === 'fresh') return this.login.accessToken;
      try {
        return await this.refresher.refresh();
      } catch (err) {
        if (!(err instanceof RefreshTokenError)) throw err;
        const saved = await this.takeSaved();
        if (saved === 'fresh') return this.login.accessToken;
        if (saved === 'expiring') return this.refresher.refresh();
        throw err;
      }
    });
  }

  /** Takes the saved tokens when another run saved newer ones for the same user of the same API. */
  private async takeSaved(): Promise<SavedTokens> {
    const saved = await this.store.load();
    const { login } = this;
    if (!saved || saved.api !== login.api || (saved.accessToken === login.accessToken && saved.refreshToken === login.refreshToken)) return 'ours';
    const user = tokenUsername(login.accessToken);
    if (user && tokenUsername(saved.accessToken) !== user) return 'ours';
    login.accessToken = saved.accessToken;
    login.refreshToken = saved.refreshToken;
    return saved.accessToken && !expiresSoon(saved.accessToken, this.now()) ? 'fresh' : 'expiring';
  }
}

export function clientsFor(ctx: Context, store: LoginStore, login: StoredLogin, onWarning: WarningSink): CfClients {
  const http = ctx.http(login.sslDisabled, login.trace);
  const uaa = new UaaClient(http, login.authorizationEndpoint, login.uaaEndpoint || login.authorizationEndpoint);
  const now = () => ctx.now();
  const ownRefresh = new Auth(login, store, uaa, now);
  const shared = isShared(store) ? new SharedSession(store, login, ownRefresh, now) : undefined;
  const auth = shared ? new Auth(login, shared, uaa, now) : ownRefresh;
  const cc = new CloudController(http, login.api, auth, onWarning);
  return { store: shared ?? store, login, auth, cc, uaa };
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
