// Logging out of the login in use: our own, or else the cf CLI's config.json.
import type { LoginStore, StoredLogin } from '../config/login.js';
import type { Context } from '../context.js';
import { decodeToken } from '../uaa/jwt.js';
import { clientsFor, type WarningSink } from './cf-clients.js';

/** Revokes revocable tokens at UAA (as cf does, failures ignored), then forgets them. */
export async function logOut(ctx: Context, store: LoginStore, state: StoredLogin, onWarning: WarningSink): Promise<void> {
  const claims = decodeToken(state.accessToken);
  if (claims?.revocable && state.authorizationEndpoint) {
    const { uaa } = clientsFor(ctx, store, state, onWarning);
    // The access token authorizes the revocations, so it goes last.
    for (const id of [state.refreshToken, claims.jti]) {
      if (id) await uaa.revoke(state.accessToken, id).catch(() => undefined);
    }
  }
  if (store === ctx.ownLogin) {
    await ctx.ownLogin.clear();
    return;
  }
  Object.assign(state, { accessToken: '', refreshToken: '', uaaClient: 'cf', uaaClientSecret: '', grantType: '', org: undefined, space: undefined });
  await store.save(state);
}
