// Reading an access token's claims locally, as the cf CLI does (no signature check:
// the token is only read for its expiry and the user's name).

export interface TokenClaims {
  jti?: string;
  exp?: number;
  /** UAA can revoke this token at logout. */
  revocable?: boolean;
  user_name?: string;
  user_id?: string;
  client_id?: string;
  email?: string;
  scope?: string[];
}

export function decodeToken(token: string): TokenClaims | undefined {
  const jwt = token.replace(/^bearer\s+/i, '');
  const payload = jwt.split('.')[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown;
    return claims && typeof claims === 'object' ? (claims as TokenClaims) : undefined;
  } catch {
    return undefined;
  }
}

/** The name cf shows: the user's, or the client's for a client-credentials token. */
export function tokenUsername(token: string): string {
  const claims = decodeToken(token);
  return claims?.user_name ?? claims?.client_id ?? '';
}

/** True when the token cannot be read or expires within `marginSeconds`. */
export function expiresSoon(token: string, nowMs: number, marginSeconds = 60): boolean {
  const exp = decodeToken(token)?.exp;
  if (typeof exp !== 'number') return true;
  return exp * 1000 - nowMs < marginSeconds * 1000;
}
