// `login`: find the foundation's UAA from the API root, get tokens with the grant asked
// for, and keep them in our own session (OS keychain, or a 0600 file without one).
import { CloudController } from '../cf/cloud-controller.js';
import { emptyLogin, type StoredLogin } from '../config/login.js';
import type { Context } from '../context.js';
import { UserError } from '../errors.js';
import { notAHost, parseHost } from '../net/hosts.js';
import type { WarningSink } from './cf-clients.js';
import { UaaClient, type TokenGrant } from '../uaa/client.js';

/** cf's rule: no scheme means https; a trailing slash is dropped. */
export function normalizeApi(url: string): string {
  const trimmed = url.trim().replace(/\/+$/, '');
  if (!trimmed) throw new UserError('The API endpoint is empty: give it with -a, e.g. -a https://api.example.com');
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `https://${trimmed}`;
  let parsed: URL;
  try {
    parsed = new URL(withScheme);
  } catch {
    throw new UserError(`'${url}' is not a valid API URL: use e.g. -a https://api.example.com`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new UserError(`'${url}' is not an http(s) URL: use e.g. -a https://api.example.com`);
  }
  // The host as typed: URL turns a bare number into an IPv4 address (http://2222 is 0.0.8.174).
  const typedHost = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?(\[[^\]]*\]|[^:/?#]*)/i.exec(withScheme)?.[1] ?? '';
  if (parseHost(typedHost) === undefined) throw new UserError(`'${url}' names no host: ${notAHost(typedHost)}. Use e.g. -a https://api.example.com`);
  return withScheme;
}

/** Looks up an API endpoint's UAA and SSH settings: the login before anyone logs in. */
export async function describeApi(ctx: Context, api: string, sslDisabled: boolean, onWarning: WarningSink): Promise<StoredLogin> {
  const cc = new CloudController(ctx.http(sslDisabled), api, undefined, onWarning);
  const root = await cc.root();
  const login = root.links.login?.href;
  if (!login) throw new UserError(`${api} does not name a login server (links.login in GET /).`);
  const uaa = root.links.uaa?.href || login;
  for (const [link, href] of [
    ['login', login],
    ['uaa', uaa],
  ] as const) {
    // Passwords, refresh tokens and client secrets go to these: an https API does not get to send them in the clear.
    if (new URL(api).protocol === 'https:' && URL.canParse(href) && new URL(href).protocol === 'http:') {
      throw new UserError(
        `${api} names an http:// server for links.${link} (${href}): cf-ssh-tools does not send a password or token unencrypted. Ask the foundation's operators to publish https.`,
      );
    }
  }
  return {
    ...emptyLogin(api),
    apiVersion: root.links.cloud_controller_v3?.meta?.version ?? '',
    authorizationEndpoint: login,
    uaaEndpoint: uaa,
    sshOAuthClient: root.links.app_ssh?.meta?.oauth_client ?? '',
    sslDisabled,
  };
}

export type LoginCredentials =
  | { kind: 'password'; username: string; password: string; origin?: string }
  | { kind: 'passcode'; passcode: string }
  | { kind: 'client'; clientId: string; clientSecret: string };

export async function authenticate(ctx: Context, state: StoredLogin, credentials: LoginCredentials): Promise<void> {
  const uaa = new UaaClient(ctx.http(state.sslDisabled), state.authorizationEndpoint, state.uaaEndpoint);
  let grant: TokenGrant;
  switch (credentials.kind) {
    case 'password':
      grant = await uaa.passwordGrant(credentials.username, credentials.password, credentials.origin);
      break;
    case 'passcode':
      grant = await uaa.passcodeGrant(credentials.passcode);
      break;
    case 'client':
      grant = await uaa.clientCredentialsGrant(credentials.clientId, credentials.clientSecret);
      state.grantType = 'client_credentials';
      state.uaaClient = credentials.clientId;
      state.uaaClientSecret = credentials.clientSecret;
      break;
  }
  state.accessToken = grant.accessToken;
  state.refreshToken = grant.refreshToken;
}
