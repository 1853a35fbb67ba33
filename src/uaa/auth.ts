// Keeps a session's access token fresh: refreshed before it is within a minute of
// expiring, and once more when a server says it is no longer valid. Every new token is
// saved back to the store it came from.
import type { StoredLogin, LoginStore } from '../config/login.js';
import { RefreshTokenError } from '../errors.js';
import type { TokenSource } from '../net/token-source.js';
import type { UaaClient } from './client.js';
import { expiresSoon, tokenUsername } from './jwt.js';

export class Auth implements TokenSource {
  private refreshing?: Promise<string>;

  constructor(
    readonly state: StoredLogin,
    private readonly store: LoginStore,
    private readonly uaa: UaaClient,
    private readonly now: () => number,
  ) {}

  get username(): string {
    return tokenUsername(this.state.accessToken);
  }

  async token(): Promise<string> {
    if (this.state.accessToken && !expiresSoon(this.state.accessToken, this.now())) return this.state.accessToken;
    return this.refresh();
  }

  refresh(): Promise<string> {
    // Concurrent requests share one refresh: a refresh token may be single-use.
    this.refreshing ??= this.doRefresh().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async doRefresh(): Promise<string> {
    const { state } = this;
    if (this.store.refreshAccessToken) {
      state.accessToken = await this.store.refreshAccessToken();
      return state.accessToken;
    }
    let grant;
    if (state.grantType === 'client_credentials') {
      grant = await this.uaa.clientCredentialsGrant(state.uaaClient, state.uaaClientSecret);
    } else if (state.refreshToken) {
      grant = await this.uaa.refreshGrant(state.refreshToken, state.uaaClient, state.uaaClientSecret);
    } else {
      throw new RefreshTokenError();
    }
    state.accessToken = grant.accessToken;
    if (grant.refreshToken) state.refreshToken = grant.refreshToken;
    await this.store.save(state);
    return state.accessToken;
  }
}
