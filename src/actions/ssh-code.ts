// The one-time password the SSH proxy accepts (single use: fetch one per connection).
import { InvalidTokenError } from '../uaa/client.js';
import type { CfSession } from './session.js';

export async function oneTimeCode(session: CfSession): Promise<string> {
  const root = await session.cc.root();
  const client = root.links.app_ssh?.meta?.oauth_client || session.state.sshOAuthClient || 'ssh-proxy';
  try {
    return await session.uaa.sshCode(await session.auth.token(), client);
  } catch (err) {
    // UAA is not refreshed for in advance by cf either: a refused token gets one refresh and one retry.
    if (!(err instanceof InvalidTokenError)) throw err;
    return session.uaa.sshCode(await session.auth.refresh(), client);
  }
}
