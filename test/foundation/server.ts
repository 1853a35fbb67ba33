// The test Cloud Foundry: CC v3 and UAA on one HTTP(S) server on loopback, plus a
// /foundation control API the tests use to change the world (global SSH switch, token
// revocation, warnings, page size) and to read what was asked of it.
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { generate } from 'selfsigned';
import { type CcSettings, ccRoutes } from './cc-routes.js';
import { ccError, json, Router } from './router.js';
import { World } from './state.js';
import { TokenService } from './tokens.js';
import { uaaRoutes } from './uaa-routes.js';

export interface FoundationOptions {
  port?: number;
  host?: string;
  https?: boolean;
  /** Seconds an access token lives. */
  accessTokenTtl?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: string;
}

export interface Foundation {
  url: string;
  world: World;
  tokens: TokenService;
  settings: CcSettings;
  requests: RecordedRequest[];
  /** The certificate of an HTTPS foundation, for clients that trust it. */
  certificate?: string;
  stop(): Promise<void>;
}

export async function startFoundation(options: FoundationOptions = {}): Promise<Foundation> {
  const world = new World();
  let url = '';
  const tokens = new TokenService(() => `${url}/uaa`);
  if (options.accessTokenTtl) tokens.accessTtlSeconds = options.accessTokenTtl;
  const settings: CcSettings = { pageSize: 50, appSsh: { href: '', fingerprint: '' } };
  const requests: RecordedRequest[] = [];

  const router = new Router();
  uaaRoutes(router, world, tokens, () => `${url}/uaa`);
  ccRoutes(router, world, tokens, settings, () => url);
  controlRoutes(router, world, tokens, settings, requests);

  const handler: http.RequestListener = (req, res) => {
    const parsed = new URL(req.url ?? '/', 'http://foundation');
    if (!parsed.pathname.startsWith('/foundation/')) {
      requests.push({ method: req.method ?? 'GET', path: parsed.pathname, query: parsed.search });
    }
    void router.dispatch(req, res, url, () => ccError(404, 10000, 'CF-NotFound', 'Unknown request'));
  };

  let certificate: string | undefined;
  let server: http.Server | https.Server;
  if (options.https) {
    const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
      keySize: 2048,
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] }],
    });
    certificate = pems.cert;
    server = https.createServer({ key: pems.private, cert: pems.cert }, handler);
  } else {
    server = http.createServer(handler);
  }
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  url = `${options.https ? 'https' : 'http'}://${host}:${port}`;

  return {
    url,
    world,
    tokens,
    settings,
    requests,
    certificate,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function controlRoutes(router: Router, world: World, tokens: TokenService, settings: CcSettings, requests: RecordedRequest[]): void {
  router.on('GET', /^\/foundation\/state$/, () =>
    json(200, {
      global_ssh: world.globalSsh,
      spaces: world.spaces.map((s) => ({ name: s.name, guid: s.guid, allow_ssh: s.allowSsh })),
      apps: world.apps.map((a) => ({ name: a.name, guid: a.guid, state: a.state, ssh_enabled: a.sshEnabled })),
    }),
  );
  router.on('GET', /^\/foundation\/requests$/, () => json(200, requests));
  router.on('DELETE', /^\/foundation\/requests$/, () => {
    requests.length = 0;
    return json(204, undefined);
  });
  router.on('PUT', /^\/foundation\/global-ssh$/, (req) => {
    world.globalSsh = Boolean(req.json<{ enabled: boolean }>().enabled);
    return json(200, { enabled: world.globalSsh });
  });
  router.on('PUT', /^\/foundation\/settings$/, (req) => {
    const body = req.json<{ page_size?: number; warning?: string | null; access_token_ttl?: number }>();
    if (body.page_size) settings.pageSize = body.page_size;
    if (body.warning !== undefined) settings.warning = body.warning ?? undefined;
    if (body.access_token_ttl) tokens.accessTtlSeconds = body.access_token_ttl;
    return json(200, { page_size: settings.pageSize, warning: settings.warning ?? null, access_token_ttl: tokens.accessTtlSeconds });
  });
  router.on('POST', /^\/foundation\/revoke-access-tokens$/, () => {
    tokens.revokeAccessTokens();
    return json(200, { revoked: 'access' });
  });
  router.on('POST', /^\/foundation\/rotate-signing-key$/, () => {
    tokens.rotateKey();
    return json(200, { rotated: true });
  });
  router.on('POST', /^\/foundation\/revoke-refresh-tokens$/, () => {
    tokens.revokeRefreshTokens();
    return json(200, { revoked: 'refresh' });
  });
}
