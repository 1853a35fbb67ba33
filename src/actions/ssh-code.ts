// The one-time password the SSH proxy accepts (single use: fetch one per connection).
import { InvalidTokenError } from '../uaa/client.js';
import type { CfClients } from './cf-clients.js';
import type { SshEndpoint } from './ssh.js';

/** `endpoint` when the caller knows the proxy (it names the proxy's OAuth client); else the API root says. */
export async function oneTimeCode(cf: CfClients, endpoint?: Pick<SshEndpoint, 'oauthClient'>): Promise<string> {
  const oauthClient = endpoint ? endpoint.oauthClient : (await cf.cc.root()).links.app_ssh?.meta?.oauth_client;
  const client = oauthClient || cf.login.sshOAuthClient || 'ssh-proxy';
  try {
    return await cf.uaa.sshCode(await cf.auth.token(), client);
  } catch (err) {
    // UAA is not refreshed for in advance by cf either: a refused token gets one refresh and one retry.
    if (!(err instanceof InvalidTokenError)) throw err;
    return cf.uaa.sshCode(await cf.auth.refresh(), client);
  }
}
