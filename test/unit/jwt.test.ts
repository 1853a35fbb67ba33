import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeToken, expiresSoon, tokenUsername } from '../../src/uaa/jwt.js';

const token = (claims: object) => `bearer x.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;

describe('access token claims', () => {
  it('reads the user name, or the client id for client tokens', () => {
    assert.equal(tokenUsername(token({ user_name: 'developer', client_id: 'cf' })), 'developer');
    assert.equal(tokenUsername(token({ client_id: 'ci-client' })), 'ci-client');
    assert.equal(tokenUsername('not a jwt'), '');
  });

  it('treats a token as expiring within a minute of exp, and an unreadable one as expired', () => {
    const now = 1_700_000_000_000;
    assert.equal(expiresSoon(token({ exp: now / 1000 + 61 }), now), false);
    assert.equal(expiresSoon(token({ exp: now / 1000 + 59 }), now), true);
    assert.equal(expiresSoon('bearer garbage', now), true);
    assert.equal(decodeToken('a.!!!.c'), undefined);
  });
});
