// The test UAA, under /uaa: /login, /oauth/token (password, passcode, refresh_token,
// client_credentials, authorization_code), /oauth/authorize for one-time SSH codes,
// and /passcode for SSO logins.
import { json, type Reply, type Request, type Router } from './router.js';
import type { World } from './state.js';
import type { TokenService } from './tokens.js';

/** The clients this UAA knows: cf (public), and ssh-proxy, which redeems SSH codes. */
const CLIENTS: Record<string, string> = { cf: '', 'ssh-proxy': 'ssh-proxy-secret' };

const oauthError = (status: number, error: string, description: string): Reply => json(status, { error, error_description: description });

function basicAuth(req: Request): { id: string; secret: string } | undefined {
  const header = req.headers.authorization ?? '';
  const match = /^basic\s+(.+)$/i.exec(header);
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { id: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

export function uaaRoutes(router: Router, world: World, tokens: TokenService, uaaUrl: () => string): void {
  router.on('GET', /^\/uaa\/login$/, () =>
    json(200, {
      app: { version: '4.30.0' },
      links: { uaa: uaaUrl(), passwd: '/forgot_password', login: uaaUrl(), register: '/create_account' },
      zone_name: 'uaa',
      entityID: 'cf-ssh-tools-foundation',
      commit_id: 'test',
      idpDefinitions: {},
      prompts: {
        username: ['text', 'Email'],
        password: ['password', 'Password'],
        passcode: ['password', `Temporary Authentication Code ( Get one at ${uaaUrl()}/passcode )`],
      },
      timestamp: new Date().toISOString(),
    }),
  );

  router.on('POST', /^\/uaa\/oauth\/token$/, (req) => {
    const form = req.form();
    const grantType = form.get('grant_type');
    const basic = basicAuth(req);

    if (grantType === 'client_credentials') {
      const client = world.users.get(form.get('client_id') ?? basic?.id ?? '');
      const secret = form.get('client_secret') ?? basic?.secret;
      if (!client?.isClient || client.password !== secret) return oauthError(401, 'unauthorized', 'Bad credentials');
      return json(200, tokens.issue(client, 'client_credentials', client.name, false));
    }

    const clientId = basic?.id ?? form.get('client_id') ?? '';
    if (!(clientId in CLIENTS) || CLIENTS[clientId] !== (basic?.secret ?? form.get('client_secret') ?? '')) {
      return oauthError(401, 'unauthorized', 'Bad credentials');
    }

    if (grantType === 'password') {
      const passcode = form.get('passcode');
      if (passcode !== null) {
        const userGuid = tokens.redeemPasscode(passcode);
        const user = userGuid ? world.users.get(userGuid) : undefined;
        if (!user) return oauthError(401, 'unauthorized', 'Bad credentials');
        return json(200, tokens.issue(user, 'password', clientId, true));
      }
      const user = world.userByName(form.get('username') ?? '');
      if (!user || user.isClient || user.password !== form.get('password')) {
        return oauthError(401, 'unauthorized', 'Bad credentials');
      }
      return json(200, tokens.issue(user, 'password', clientId, true));
    }

    if (grantType === 'refresh_token') {
      const userGuid = tokens.userForRefreshToken(form.get('refresh_token') ?? '');
      const user = userGuid ? world.users.get(userGuid) : undefined;
      if (!user) return oauthError(401, 'invalid_token', 'The token expired, was revoked, or the token ID is incorrect.');
      return json(200, tokens.issue(user, 'refresh_token', clientId, true));
    }

    if (grantType === 'authorization_code') {
      const userGuid = tokens.redeemCode(form.get('code') ?? '', clientId);
      const user = userGuid ? world.users.get(userGuid) : undefined;
      if (!user) return oauthError(400, 'invalid_grant', 'Invalid authorization code');
      return json(200, tokens.issue(user, 'authorization_code', clientId, false));
    }

    return oauthError(400, 'unsupported_grant_type', `Unsupported grant type: ${grantType}`);
  });

  // One-time SSH code: a redirect to the client's redirect URI with ?code=. Like the
  // real UAA, a request without a valid login is sent to the login page instead.
  router.on('GET', /^\/uaa\/oauth\/authorize$/, (req) => {
    const clientId = req.url.searchParams.get('client_id') ?? '';
    if (!(clientId in CLIENTS) || req.url.searchParams.get('response_type') !== 'code') {
      return oauthError(400, 'invalid_request', 'Unknown client or response type');
    }
    const header = req.headers.authorization;
    if (!header) return { status: 302, headers: { Location: `${uaaUrl()}/login` } };
    const userGuid = tokens.userForAccessToken(header, true);
    if (!userGuid) return oauthError(401, 'invalid_token', 'Invalid access token');
    return { status: 302, headers: { Location: `${uaaUrl()}/login?code=${tokens.newCode(userGuid, clientId)}` } };
  });

  router.on('DELETE', /^\/uaa\/oauth\/token\/revoke\/([^/]+)$/, (req) => {
    if (!tokens.userForAccessToken(req.headers.authorization, true)) return oauthError(401, 'invalid_token', 'Invalid access token');
    return tokens.revoke(decodeURIComponent(req.params[0] ?? '')) ? { status: 200 } : oauthError(404, 'not_found', 'Token not found');
  });

  // SSO: a person who signed in (here: basic auth with their password) gets a passcode.
  router.on('GET', /^\/uaa\/passcode$/, (req) => {
    const basic = basicAuth(req);
    const user = basic ? world.userByName(basic.id) : undefined;
    if (!user || user.password !== basic?.secret) {
      return { status: 401, headers: { 'WWW-Authenticate': 'Basic realm="uaa"' }, body: 'Sign in to get a passcode.' };
    }
    const passcode = tokens.newPasscode(user.guid);
    return { status: 200, body: `<html><body><h1>Temporary Authentication Code</h1><h2>${passcode}</h2></body></html>` };
  });
}
