// What a command needs to know about who is logged in where, whichever store holds it.

export interface Named {
  guid: string;
  name: string;
}

export interface StoredLogin {
  /** The API URL (cf's Target). */
  api: string;
  apiVersion: string;
  /** UAA for tokens (root links.login.href). */
  authorizationEndpoint: string;
  /** UAA for the one-time SSH code (root links.uaa.href). */
  uaaEndpoint: string;
  /** OAuth client the SSH proxy redeems codes for; empty means ssh-proxy. */
  sshOAuthClient: string;
  uaaClient: string;
  uaaClientSecret: string;
  /** '' for users (password grant), 'client_credentials' for clients. */
  grantType: '' | 'client_credentials';
  /** With its type prefix, as cf stores it: "bearer eyJ...". */
  accessToken: string;
  refreshToken: string;
  sslDisabled: boolean;
  org?: Named;
  space?: Named & { allowSSH?: boolean };
  /** config.json's Trace, used when CF_TRACE is not set. */
  trace?: string;
}

/** A place a session is kept: cf over RPC, our own login, or cf's config.json. */
export interface LoginStore {
  /** For messages: where the session came from. */
  readonly description: string;
  load(): Promise<StoredLogin | undefined>;
  save(state: StoredLogin): Promise<void>;
  /** A new access token from whoever owns the session (cf, when it runs us), instead of our own refresh. */
  refreshAccessToken?(): Promise<string>;
  /** Runs `work` while no other run of ours refreshes or saves this session (stores in files we write). */
  whileLocked?<T>(work: () => Promise<T>): Promise<T>;
}

export function isLoggedIn(state: StoredLogin | undefined): boolean {
  return Boolean(state && (state.accessToken || state.refreshToken));
}

/** A session with no login yet, for an API endpoint just looked up. */
export function emptyLogin(api: string): StoredLogin {
  return {
    api,
    apiVersion: '',
    authorizationEndpoint: '',
    uaaEndpoint: '',
    sshOAuthClient: '',
    uaaClient: 'cf',
    uaaClientSecret: '',
    grantType: '',
    accessToken: '',
    refreshToken: '',
    sslDisabled: false,
  };
}
