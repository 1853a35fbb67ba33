// The one HTTP client of cf-ssh-tools, on axios: TLS settings, https_proxy/no_proxy,
// CF_TRACE, retries of idempotent requests, and network failures turned into one-line errors.
import http from 'node:http';
import https from 'node:https';
import type { AxiosInstance } from 'axios';
import { NetworkError } from '../errors.js';
import { httpProxyFor } from './proxy-env.js';
import { formatRequest, formatResponse, type TraceSink } from './trace.js';

export interface HttpOptions {
  sslDisabled: boolean;
  userAgent: string;
  trace?: TraceSink;
  /** Milliseconds before a request without an answer is given up. */
  timeoutMs?: number;
  /** Where http_proxy, https_proxy and no_proxy are read (the command's environment). */
  env: Readonly<Record<string, string | undefined>>;
}

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  json?: unknown;
  form?: Record<string, string>;
}

export interface HttpResponse<T = unknown> {
  status: number;
  headers: Record<string, string>;
  data: T;
}

const RETRIED_STATUSES = new Set([500, 502, 503, 504]);
const RETRIED_ERRORS = new Set(['ECONNRESET', 'EPIPE']);
const GET_RETRIES = 2;

export class HttpClient {
  private axios?: Promise<AxiosInstance>;
  private readonly directAgents: { http: http.Agent; https: https.Agent };
  private readonly proxyAgents = new Map<string, http.Agent>();

  constructor(private readonly options: HttpOptions) {
    this.directAgents = {
      http: new http.Agent({ keepAlive: true }),
      https: new https.Agent({ keepAlive: true, rejectUnauthorized: !options.sslDisabled }),
    };
  }

  /** axios is loaded at the first request: help, usage errors and --version never pay for it. */
  private client(): Promise<AxiosInstance> {
    this.axios ??= import('axios').then(({ default: axios }) =>
      axios.create({
        proxy: false, // proxies are chosen per URL below, with CONNECT for https
        maxRedirects: 0, // the one-time SSH code arrives in a redirect's Location
        validateStatus: () => true,
        timeout: this.options.timeoutMs ?? 60_000,
        responseType: 'text',
        transformResponse: (body) => body,
      }),
    );
    return this.axios;
  }

  /**
   * GETs are tried again, twice at most, as cf does: on 500/502/503/504, and when a kept-alive
   * connection was closed by the server just as the request went out.
   */
  async send<T = unknown>(req: HttpRequest): Promise<HttpResponse<T>> {
    for (let attempt = 0; ; attempt += 1) {
      const retry = req.method === 'GET' && attempt < GET_RETRIES;
      let res: HttpResponse<T>;
      try {
        res = await this.sendOnce<T>(req);
      } catch (err) {
        if (retry && RETRIED_ERRORS.has((err as { code?: string }).code ?? '')) continue;
        throw networkError(new URL(req.url), err);
      }
      if (!retry || !RETRIED_STATUSES.has(res.status)) return res;
    }
  }

  private async sendOnce<T>(req: HttpRequest): Promise<HttpResponse<T>> {
    const url = new URL(req.url);
    const headers: Record<string, string> = {
      Accept: 'application/json',
      'User-Agent': this.options.userAgent,
      ...req.headers,
    };
    let body: string | undefined;
    if (req.form) {
      body = new URLSearchParams(req.form).toString();
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
    } else if (req.json !== undefined) {
      body = JSON.stringify(req.json);
      headers['Content-Type'] = 'application/json';
    }
    this.options.trace?.(formatRequest({ method: req.method, url, headers, body }));

    const res = await (
      await this.client()
    ).request<string>({
      method: req.method,
      url: url.toString(),
      headers,
      data: body,
      ...(await this.agentsFor(url)),
    });
    const resHeaders = Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v.join(', ') : String(v)]));
    this.options.trace?.(formatResponse({ status: res.status, statusText: res.statusText, headers: resHeaders, body: res.data }));
    return { status: res.status, headers: resHeaders, data: parseBody(res.data, resHeaders['content-type']) as T };
  }

  private async agentsFor(url: URL): Promise<{ httpAgent: http.Agent; httpsAgent: https.Agent }> {
    // all_proxy is left out on purpose: as in cf, it is a SOCKS5 proxy for SSH only.
    const proxy = httpProxyFor(url, this.options.env);
    if (!proxy) return { httpAgent: this.directAgents.http, httpsAgent: this.directAgents.https };
    let agent = this.proxyAgents.get(proxy);
    if (!agent) {
      // Loaded only when a proxy is configured: most runs never need it.
      const { TunnelAgent } = await import('./tunnel-agent.js');
      agent = new TunnelAgent(proxy, !this.options.sslDisabled);
      this.proxyAgents.set(proxy, agent);
    }
    return { httpAgent: agent, httpsAgent: agent as https.Agent };
  }
}

function parseBody(text: string, contentType = ''): unknown {
  if (text === '' || !/json/i.test(contentType)) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** One line that names the endpoint, what went wrong and what to try. */
export function networkError(url: URL, err: unknown): NetworkError {
  const code = (err as { code?: string }).code ?? '';
  const causeCode = (err as { cause?: { code?: string } }).cause?.code ?? '';
  const endpoint = url.origin;
  const proxyTip = 'or set https_proxy if you are behind a proxy';
  if (TLS_CODES.has(code) || TLS_CODES.has(causeCode)) {
    return new NetworkError(`Invalid SSL certificate for ${endpoint} (${code || causeCode}). Use '--skip-ssl-validation' with login to continue with an insecure API endpoint.`);
  }
  switch (code) {
    case 'ECONNREFUSED':
      return new NetworkError(`Cannot reach ${endpoint}: connection refused. Check the API URL, ${proxyTip}.`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new NetworkError(`Cannot reach ${endpoint}: the host name does not resolve. Check the API URL, ${proxyTip}.`);
    case 'ECONNABORTED':
    case 'ETIMEDOUT':
      return new NetworkError(`Cannot reach ${endpoint}: the request timed out. Check your network, ${proxyTip}.`);
    case 'ECONNRESET':
    case 'EPIPE':
      return new NetworkError(`Cannot reach ${endpoint}: the connection was closed. Check your network, ${proxyTip}.`);
    default: {
      const detail = err instanceof Error ? err.message : String(err);
      return new NetworkError(`Cannot reach ${endpoint}: ${detail}. Check the API URL, ${proxyTip}.`);
    }
  }
}
