// UAA: the login grants, token refresh and the one-time SSH code. A token answer is read
// through its shape: one without a token is one line naming the field, not a login that
// stores "bearer undefined".
import { RefreshTokenError, UnexpectedAnswerError, UserError } from '../errors.js';
import { answerTo, type HttpClient, type HttpResponse } from '../net/http.js';
import { object, optional, readAnswer, type Shape, string } from '../net/shape.js';

export interface TokenGrant {
  /** With its type prefix: "bearer eyJ...". */
  accessToken: string;
  refreshToken: string;
}

interface TokenAnswer {
  access_token: string;
  token_type?: string;
  refresh_token?: string;
}

const tokenAnswer: Shape<TokenAnswer> = object<TokenAnswer>({ access_token: string, token_type: optional(string), refresh_token: optional(string) });

/** Who answers, in the HTTP client's messages. */
const SERVER = 'UAA';

/** A 401 from UAA's /oauth/authorize: the access token is no longer accepted. */
export class InvalidTokenError extends UserError {}

/** A 429 from UAA's /oauth/authorize that outlasted the HTTP client's own retries: the caller may back off and ask again. */
export class RateLimitedError extends UserError {}

/** Where a person gets a passcode for `login --sso`. */
export function passcodeUrl(authorizationEndpoint: string): string {
  return `${authorizationEndpoint}/passcode`;
}

export class UaaClient {
  constructor(
    private readonly http: HttpClient,
    private readonly authorizationEndpoint: string,
    private readonly uaaEndpoint: string,
  ) {}

  /** Opens the connection the one-time code's request will take, while the checks that must come first run. */
  preconnect(): void {
    this.http.preconnect(this.uaaEndpoint);
  }

  passwordGrant(username: string, password: string, origin?: string): Promise<TokenGrant> {
    const form: Record<string, string> = { grant_type: 'password', username, password };
    if (origin) form.login_hint = JSON.stringify({ origin });
    return this.grant(form, 'cf', '', () => new UserError('Credentials were rejected, please try again.'));
  }

  passcodeGrant(passcode: string): Promise<TokenGrant> {
    return this.grant(
      { grant_type: 'password', passcode },
      'cf',
      '',
      () => new UserError(`The passcode was rejected. Get a new one at ${passcodeUrl(this.authorizationEndpoint)} and try again.`),
    );
  }

  /** No basic auth for this grant: the client's id and secret travel in the body, as cf sends them. */
  clientCredentialsGrant(clientId: string, clientSecret: string): Promise<TokenGrant> {
    return this.grant(
      { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret },
      undefined,
      '',
      () => new UserError('Client credentials were rejected, please check the client ID and secret.'),
    );
  }

  refreshGrant(refreshToken: string, client: string, clientSecret: string): Promise<TokenGrant> {
    return this.grant({ grant_type: 'refresh_token', refresh_token: refreshToken }, client, clientSecret, () => new RefreshTokenError());
  }

  private async grant(form: Record<string, string>, basicClient: string | undefined, basicSecret: string, rejected: () => UserError): Promise<TokenGrant> {
    const headers: Record<string, string> = {};
    if (basicClient !== undefined) {
      headers.Authorization = `Basic ${Buffer.from(`${basicClient}:${basicSecret}`).toString('base64')}`;
    }
    const request = { method: 'POST', url: `${this.authorizationEndpoint}/oauth/token`, server: SERVER } as const;
    const res = await this.http.send({ ...request, headers, form });
    if (res.status === 400 || res.status === 401) throw rejected();
    if (res.status !== 200) throw unexpected(res, 'token');
    const body = readAnswer(res, tokenAnswer, answerTo(request));
    if (!body.access_token) throw new UnexpectedAnswerError(answerTo(request), 'access_token is empty');
    return {
      accessToken: `${(body.token_type ?? 'bearer').toLowerCase()} ${body.access_token}`,
      refreshToken: body.refresh_token ?? '',
    };
  }

  /** Revokes a token (an access token's jti, or a refresh token) as `cf logout` does. */
  async revoke(accessToken: string, tokenId: string): Promise<void> {
    await this.http.send({
      method: 'DELETE',
      url: `${this.authorizationEndpoint}/oauth/token/revoke/${encodeURIComponent(tokenId)}`,
      headers: { Authorization: accessToken },
      server: SERVER,
    });
  }

  /**
   * The one-time code for the SSH proxy: UAA answers with a redirect whose Location
   * carries ?code=...; the redirect is never followed.
   */
  async sshCode(accessToken: string, sshClient: string): Promise<string> {
    const query = new URLSearchParams({ client_id: sshClient || 'ssh-proxy', response_type: 'code' });
    const res = await this.http.send({
      method: 'GET',
      url: `${this.uaaEndpoint}/oauth/authorize?${query}`,
      headers: { Authorization: accessToken },
      server: SERVER,
    });
    if (res.status === 401) throw new InvalidTokenError('The access token was not accepted by UAA.');
    if (res.status === 429) throw new RateLimitedError('UAA is limiting requests for one-time codes (HTTP 429): try again later.');
    const location = res.status >= 300 && res.status < 400 ? res.headers.location : undefined;
    if (!location) throw new UserError('Authorization server did not redirect with one time code');
    const code = URL.canParse(location, this.uaaEndpoint) ? new URL(location, this.uaaEndpoint).searchParams.get('code') : undefined;
    if (!code) throw new UserError('Authorization server did not redirect with one time code');
    return code;
  }
}

function unexpected(res: HttpResponse, what: string): UserError {
  const description = (res.data as { error_description?: unknown } | undefined)?.error_description;
  const detail = typeof description === 'string' && description ? `: ${description}` : '';
  return new UserError(`UAA answered the ${what} request with HTTP ${res.status}${detail}.`);
}
