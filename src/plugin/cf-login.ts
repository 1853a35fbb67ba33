// The session when cf runs us as a plugin: cf's own, asked for over its plugin RPC. cf owns
// its config.json, so nothing is ever written back; the UAA endpoints, which cf does not hand
// out, come from the API root as for any login.
import { emptyLogin, type StoredLogin, type LoginStore } from '../config/login.js';
import { RefreshTokenError } from '../errors.js';
import type { CfCli } from './cf-rpc.js';
import { RpcError } from './rpc.js';

/** Reads an API endpoint's root for its UAA and SSH settings (login's describeApi). */
export type ApiDescriber = (api: string, sslDisabled: boolean) => Promise<StoredLogin>;

export class CfPluginLoginStore implements LoginStore {
  readonly description = 'the cf CLI that runs this plugin';

  constructor(
    private readonly cf: CfCli,
    private readonly describeApi: ApiDescriber,
  ) {}

  /**
   * Always a session, even an empty one: inside cf, cf's session is the one that counts, and
   * "not logged in" should send users to `cf login`, not to some other store.
   */
  async load(): Promise<StoredLogin> {
    const api = await this.cf.apiEndpoint();
    if (!api) return emptyLogin('');
    const state = await this.describeApi(api, await this.cf.isSSLDisabled());
    if (!(await this.cf.isLoggedIn())) return state;
    state.accessToken = await this.accessToken();
    const org = await this.cf.currentOrg();
    const space = await this.cf.currentSpace();
    if (org.guid) state.org = org;
    if (space.guid) state.space = space;
    return state;
  }

  /** cf keeps its session itself. */
  async save(): Promise<void> {}

  /** cf refreshes its token before it hands it over: asking again is our refresh. */
  refreshAccessToken(): Promise<string> {
    return this.accessToken();
  }

  /** A refusal from cf means its login is over. */
  private async accessToken(): Promise<string> {
    try {
      return await this.cf.accessToken();
    } catch (err) {
      if (err instanceof RpcError && err.fromServer) throw new RefreshTokenError();
      throw err;
    }
  }
}
