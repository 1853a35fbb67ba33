// The one-time password the SSH proxy accepts (single use: fetch one per connection).
import type { RootInfo } from '../cf/cloud-controller.js';
import { InvalidTokenError } from '../uaa/client.js';
import type { CfClients } from './cf-clients.js';

/** `root` when the caller has already read the API root (it names the proxy's OAuth client). */
export async function oneTimeCode(cf: CfClients, root?: RootInfo): Promise<string> {
  const links = (root ?? (await cf.cc.root())).links;
  const client = links.app_ssh?.meta?.oauth_client || cf.login.sshOAuthClient || 'ssh-proxy';
  try {
    return await cf.uaa.sshCode(await cf.auth.token(), client);
  } catch (err) {
    // UAA is not refreshed for in advance by cf either: a refused token gets one refresh and one retry.
    if (!(err instanceof InvalidTokenError)) throw err;
    return cf.uaa.sshCode(await cf.auth.refresh(), client);
  }
}
