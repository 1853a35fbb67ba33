// The test UAA's tokens: signed JWTs with the claims the cf CLI reads, opaque refresh
// tokens, one-time SSH codes and SSO passcodes. As on a real foundation, the Cloud
// Controller checks an access token's signature and expiry only; revocation is known to
// UAA alone, and a signing-key rotation makes every issued access token invalid everywhere.
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { User } from './state.js';

interface AccessRecord {
  userGuid: string;
  revoked: boolean;
  /** Refused as expired before its time (the control API's expire-access-tokens). */
  expired?: boolean;
}

interface RefreshRecord {
  userGuid: string;
  revoked: boolean;
  expiresAt: number;
}

interface CodeRecord {
  userGuid: string;
  clientId: string;
  used: boolean;
}

export interface IssuedTokens {
  access_token: string;
  token_type: 'bearer';
  refresh_token?: string;
  expires_in: number;
  scope: string;
  jti: string;
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

export class TokenService {
  private key = randomBytes(32);
  private readonly access = new Map<string, AccessRecord>();
  private readonly refresh = new Map<string, RefreshRecord>();
  private readonly codes = new Map<string, CodeRecord>();
  private readonly passcodes = new Map<string, string>();
  accessTtlSeconds = 600;
  refreshTtlSeconds = 30 * 24 * 3600;
  /**
   * Refresh token rotation as UAA can be set up for it: a refresh token works once, and each
   * refresh hands out a new one. Off by default: refresh tokens then work until they expire.
   */
  singleUseRefreshTokens = false;

  constructor(private readonly issuer: () => string) {}

  private sign(claims: Record<string, unknown>): string {
    const head = b64({ alg: 'HS256', typ: 'JWT', kid: 'foundation' });
    const body = b64(claims);
    const sig = createHmac('sha256', this.key).update(`${head}.${body}`).digest('base64url');
    return `${head}.${body}.${sig}`;
  }

  /** The claims of a token this UAA signed, or undefined for anything else. */
  private verify(token: string): Record<string, unknown> | undefined {
    const [head, body, sig] = token.split('.');
    if (!head || !body || !sig) return undefined;
    const expected = createHmac('sha256', this.key).update(`${head}.${body}`).digest();
    const given = Buffer.from(sig, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    try {
      return JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Record<string, unknown>;
    } catch {
      return undefined;
    }
  }

  issue(user: User, grantType: string, clientId: string, withRefresh: boolean): IssuedTokens {
    const now = Math.floor(Date.now() / 1000);
    const jti = randomUUID().replace(/-/g, '');
    const scope = ['openid', 'cloud_controller.read', 'cloud_controller.write', 'uaa.user'];
    if (user.admin) scope.push('cloud_controller.admin');
    const common = {
      jti,
      scope,
      revocable: true,
      client_id: clientId,
      cid: clientId,
      azp: clientId,
      grant_type: grantType,
      iat: now,
      exp: now + this.accessTtlSeconds,
      iss: `${this.issuer()}/oauth/token`,
      zid: 'uaa',
      aud: ['cloud_controller', 'openid', clientId],
    };
    const claims = user.isClient
      ? { ...common, sub: user.guid, authorities: scope }
      : { ...common, sub: user.guid, user_id: user.guid, user_name: user.name, origin: 'uaa', email: `${user.name}@example.com`, auth_time: now };
    this.access.set(jti, { userGuid: user.guid, revoked: false });
    const tokens: IssuedTokens = {
      access_token: this.sign(claims),
      token_type: 'bearer',
      expires_in: this.accessTtlSeconds,
      scope: scope.join(' '),
      jti,
    };
    if (withRefresh) {
      // UAA's opaque refresh tokens: an id ending in -r, looked up, not verified.
      const refreshToken = `${randomBytes(16).toString('hex')}-r`;
      this.refresh.set(refreshToken, { userGuid: user.guid, revoked: false, expiresAt: Date.now() + this.refreshTtlSeconds * 1000 });
      tokens.refresh_token = refreshToken;
    }
    return tokens;
  }

  /**
   * The user an "Authorization: bearer ..." header belongs to, when its signature and expiry
   * are good (what CC checks); `checkRevoked` adds UAA's own check of revocation.
   */
  userForAccessToken(header: string | undefined, checkRevoked = false): string | undefined {
    const token = header?.replace(/^bearer\s+/i, '');
    if (!token) return undefined;
    const claims = this.verify(token);
    const record = claims && this.access.get(String(claims.jti));
    if (!claims || !record || record.expired || (checkRevoked && record.revoked)) return undefined;
    if (typeof claims.exp !== 'number' || claims.exp * 1000 <= Date.now()) return undefined;
    return record.userGuid;
  }

  /** Redeems a refresh token; it stays valid until it expires or is revoked, or, single-use, until now. */
  userForRefreshToken(token: string): string | undefined {
    const record = this.refresh.get(token);
    if (!record || record.revoked || record.expiresAt <= Date.now()) return undefined;
    if (this.singleUseRefreshTokens) record.revoked = true;
    return record.userGuid;
  }

  newCode(userGuid: string, clientId: string): string {
    const code = randomBytes(8).toString('base64url').slice(0, 10);
    this.codes.set(code, { userGuid, clientId, used: false });
    return code;
  }

  /** One-time codes work once. */
  redeemCode(code: string, clientId: string): string | undefined {
    const record = this.codes.get(code);
    if (!record || record.used || record.clientId !== clientId) return undefined;
    record.used = true;
    return record.userGuid;
  }

  newPasscode(userGuid: string): string {
    const passcode = randomBytes(6).toString('hex');
    this.passcodes.set(passcode, userGuid);
    return passcode;
  }

  redeemPasscode(passcode: string): string | undefined {
    const userGuid = this.passcodes.get(passcode);
    this.passcodes.delete(passcode);
    return userGuid;
  }

  /** DELETE /oauth/token/revoke/:id: an access token's jti or a refresh token. */
  revoke(id: string): boolean {
    const record = this.access.get(id) ?? this.refresh.get(id);
    if (record) record.revoked = true;
    return Boolean(record);
  }

  /** A new signing key: every access token issued so far fails its signature check. */
  rotateKey(): void {
    this.key = randomBytes(32);
  }

  revokeAccessTokens(): void {
    for (const record of this.access.values()) record.revoked = true;
  }

  /** Every refresh token, or only those of `userGuid`. */
  revokeRefreshTokens(userGuid?: string): void {
    for (const record of this.refresh.values()) if (userGuid === undefined || record.userGuid === userGuid) record.revoked = true;
  }

  /** The access tokens issued so far, or only those of `userGuid`, count as expired from now on. */
  expireAccessTokens(userGuid?: string): void {
    for (const record of this.access.values()) if (userGuid === undefined || record.userGuid === userGuid) record.expired = true;
  }
}
