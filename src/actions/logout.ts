// Logging out of the session in use: our own login's, or else the cf CLI's config.json.
import type { SessionState, SessionStore } from '../config/session.js';
import type { Context } from '../context.js';
import { decodeToken } from '../uaa/jwt.js';
import { connect } from './session.js';

/** Revokes revocable tokens at UAA (as cf does, failures ignored), then forgets them. */
export async function logOut(ctx: Context, store: SessionStore, state: SessionState): Promise<void> {
  const claims = decodeToken(state.accessToken);
  if (claims?.revocable && state.authorizationEndpoint) {
    const { uaa } = connect(ctx, store, state);
    // The access token authorizes the revocations, so it goes last.
    for (const id of [state.refreshToken, claims.jti]) {
      if (id) await uaa.revoke(state.accessToken, id).catch(() => undefined);
    }
  }
  if (store === ctx.ownStore) {
    await ctx.ownStore.clear();
    return;
  }
  Object.assign(state, { accessToken: '', refreshToken: '', uaaClient: 'cf', uaaClientSecret: '', grantType: '', org: undefined, space: undefined });
  await store.save(state);
}
