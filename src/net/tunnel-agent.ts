// An HTTP CONNECT proxy agent for the API and UAA (https_proxy / http_proxy).
import type http from 'node:http';
import { HttpsProxyAgent } from 'https-proxy-agent';

/**
 * https-proxy-agent takes the TLS options for the endpoint behind the proxy from each
 * request, and axios passes none: this agent adds the TLS setting to every tunnel.
 */
export class TunnelAgent extends HttpsProxyAgent<string> {
  constructor(
    proxy: string,
    private readonly rejectUnauthorized: boolean,
  ) {
    super(proxy, { keepAlive: true });
  }

  override connect(req: http.ClientRequest, opts: AgentConnectOpts) {
    return super.connect(req, { ...opts, rejectUnauthorized: this.rejectUnauthorized } as AgentConnectOpts);
  }
}

type AgentConnectOpts = Parameters<HttpsProxyAgent<string>['connect']>[1];
