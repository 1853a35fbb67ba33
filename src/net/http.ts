// The one HTTP client of cf-ssh-tools, on axios: TLS settings, https_proxy/no_proxy,
// CF_TRACE, retries, network failures turned into one-line errors, and bounds on what a
// server can make a request cost: its time, the size of its answer, and the waits it asks for.
import http from 'node:http';
import https from 'node:https';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import { addAbortSignal, type Duplex, type Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AxiosInstance, AxiosStatic } from 'axios';
import { LimitError, NetworkError, UserError } from '../errors.js';
import { notAHost, parseHost } from './hosts.js';
import { httpProxyFor } from './proxy-env.js';
import { socketFailureWords } from './socket-errors.js';
import { formatRequest, formatResponse, redactText, TraceSecrets, type TraceSink } from './trace.js';

/** The longest one request may take, from sending it to the last byte of its answer. */
export const REQUEST_DEADLINE_MS = 60_000;
/** The largest answer read (after decompression). */
export const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;
/** How many times a request is tried again (see HttpClient.send). */
export const MAX_RETRIES = 2;
/** The longest Retry-After waited for; a server that asks for more gets no retry. */
export const MAX_RETRY_AFTER_MS = 10_000;

export interface HttpLimits {
  deadlineMs: number;
  maxResponseBytes: number;
  maxRetries: number;
  maxRetryAfterMs: number;
}

export const HTTP_LIMITS: Readonly<HttpLimits> = {
  deadlineMs: REQUEST_DEADLINE_MS,
  maxResponseBytes: MAX_RESPONSE_BYTES,
  maxRetries: MAX_RETRIES,
  maxRetryAfterMs: MAX_RETRY_AFTER_MS,
};

export interface HttpOptions {
  sslDisabled: boolean;
  userAgent: string;
  trace?: TraceSink;
  /** HTTP_LIMITS unless given (tests use small ones). */
  limits?: Partial<HttpLimits>;
  /** Where http_proxy, https_proxy and no_proxy are read (the command's environment). */
  env: Readonly<Record<string, string | undefined>>;
}

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  json?: unknown;
  form?: Record<string, string>;
  /** Who answers, for messages: "The Cloud Controller", "UAA"; the URL's host unless given. */
  server?: string;
}

export interface HttpResponse<T = unknown> {
  status: number;
  headers: Record<string, string>;
  data: T;
}

const require = createRequire(import.meta.url);
let axiosInstance: Promise<AxiosInstance> | undefined;

/**
 * Web globals whose first use loads Node's fetch implementation, undici: 35-40 ms on Node 26,
 * ~20 ms on Node 20 (measured: loading axios with and without them). axios only looks at them
 * as it loads, to find FormData and a fetch adapter; cf-ssh-tools uses neither (its requests go
 * through axios's http adapter). They are hidden while axios loads, synchronously (its CommonJS
 * build, which also loads in a third less time than its ES modules), so that nothing else can
 * see them missing, then put back as they were, still unloaded.
 */
const FETCH_GLOBALS = ['FormData', 'fetch', 'Request', 'Response', 'Headers'] as const;

function requireAxiosWithoutFetch(): AxiosStatic {
  const saved = FETCH_GLOBALS.map((name) => [name, Object.getOwnPropertyDescriptor(globalThis, name)] as const);
  for (const [name] of saved) Object.defineProperty(globalThis, name, { value: undefined, configurable: true, writable: true });
  try {
    return require('axios') as AxiosStatic;
  } finally {
    for (const [name, descriptor] of saved) {
      if (descriptor) Object.defineProperty(globalThis, name, descriptor);
      else Reflect.deleteProperty(globalThis, name);
    }
  }
}

/**
 * axios, loaded once per process and only for a run that makes a request: help, usage errors
 * and --version never pay for it. A command that will make requests calls this as soon as it
 * is known (axios loads at its next await, before its config files are read); the first
 * request awaits it.
 */
export function loadAxios(): Promise<AxiosInstance> {
  if (!axiosInstance) {
    axiosInstance = Promise.resolve().then(() =>
      requireAxiosWithoutFetch().create({
        proxy: false, // proxies are chosen per URL below, with CONNECT for https
        maxRedirects: 0, // the one-time SSH code arrives in a redirect's Location
        validateStatus: () => true,
        // A stream, read here: axios's timeout restarts at every byte and its buffer has no bound.
        responseType: 'stream',
      }),
    );
    // A failed load is the first request's error, not an unhandled rejection of the preload.
    axiosInstance.catch(() => undefined);
  }
  return axiosInstance;
}

const RETRIED_STATUSES = new Set([500, 502, 503, 504]);
const RETRIED_ERRORS = new Set(['ECONNRESET', 'EPIPE']);

/** The host:port a connection of an agent's is for. */
const connectionKey = (host: string | null | undefined, port: number | string | null | undefined) => `${host ?? ''}:${port ?? ''}`;

/**
 * An HTTPS agent that can open a connection (TCP and TLS, two round trips) before the request
 * that needs it is ready to go, while other work goes on; the request then takes it.
 */
class WarmableAgent extends https.Agent {
  private readonly warm = new Map<string, Duplex>();

  warmUp(host: string, port: number): void {
    const key = connectionKey(host, port);
    if (this.warm.has(key)) return;
    const socket = super.createConnection({ host, port, servername: isIP(host) ? undefined : host, rejectUnauthorized: this.options.rejectUnauthorized }) as Duplex & {
      unref(): void;
    };
    // Unused, it must neither keep the process alive nor surface its error: the request would open its own.
    socket.unref();
    socket.on('error', () => undefined);
    socket.once('close', () => this.warm.delete(key));
    this.warm.set(key, socket);
  }

  override createConnection(options: http.ClientRequestArgs, callback?: (err: Error | null, socket: Duplex) => void): Duplex | null | undefined {
    const key = connectionKey(options.host, options.port);
    const socket = this.warm.get(key) as (Duplex & { ref(): void }) | undefined;
    if (socket && !socket.destroyed) {
      this.warm.delete(key);
      socket.ref();
      return socket;
    }
    return super.createConnection(options, callback);
  }
}

export class HttpClient {
  private readonly directAgents: { http: http.Agent; https: WarmableAgent };
  private readonly proxyAgents = new Map<string, http.Agent>();
  private readonly limits: HttpLimits;
  /** The secrets this client's trace has met: hidden in all it traces after. */
  private readonly traceSecrets = new TraceSecrets();

  constructor(private readonly options: HttpOptions) {
    this.directAgents = {
      http: new http.Agent({ keepAlive: true }),
      https: new WarmableAgent({ keepAlive: true, rejectUnauthorized: !options.sslDisabled }),
    };
    this.limits = { ...HTTP_LIMITS, ...options.limits };
  }

  /**
   * Opens the connection a request to `origin` will need, ahead of it (HTTPS and no proxy only;
   * otherwise nothing). Nothing is sent: the server sees a request only when one is made.
   */
  preconnect(origin: string): void {
    const url = URL.canParse(origin) ? new URL(origin) : undefined;
    if (url?.protocol !== 'https:' || httpProxyFor(url, this.options.env)) return;
    this.directAgents.https.warmUp(parseHost(url.hostname) ?? url.hostname, Number(url.port) || 443);
  }

  /**
   * Tries a request again, MAX_RETRIES times at most: a GET, as cf does, on 500/502/503/504 and
   * when a kept-alive connection was closed just as the request went out; any request on 429,
   * which was not carried out. A Retry-After on 429 (and 503 to a GET) is waited for, up to
   * MAX_RETRY_AFTER_MS; a longer one is a LimitError.
   */
  async send<T = unknown>(req: HttpRequest): Promise<HttpResponse<T>> {
    const url = checkedUrl(req.url);
    // Checked before anything is sent: a proxy setting that cannot work is named as such.
    const proxy = httpProxyFor(url, this.options.env);
    for (let attempt = 0; ; attempt += 1) {
      const canRetry = attempt < this.limits.maxRetries;
      let res: HttpResponse<T>;
      try {
        res = await this.sendOnce<T>(req, url, proxy);
      } catch (err) {
        if (err instanceof UserError) throw err;
        if (canRetry && req.method === 'GET' && RETRIED_ERRORS.has((err as { code?: string }).code ?? '')) continue;
        throw networkError(url, err, proxy);
      }
      const wait = canRetry ? this.retryWait(req, res) : undefined;
      if (wait === undefined) return res;
      if (wait > 0) await sleep(wait);
    }
  }

  /** Milliseconds to wait before trying `req` again, or undefined not to. */
  private retryWait(req: HttpRequest, res: HttpResponse): number | undefined {
    const asked = res.status === 429 || (res.status === 503 && req.method === 'GET') ? retryAfterMs(res.headers['retry-after']) : undefined;
    if (asked !== undefined) {
      if (asked <= this.limits.maxRetryAfterMs) return asked;
      throw new LimitError(
        `${serverOf(req)} asked to wait ${seconds(asked)} before ${requestLine(req)} is tried again (HTTP ${res.status}), longer than the ${seconds(this.limits.maxRetryAfterMs)} cf-ssh-tools waits: try again later.`,
      );
    }
    if (res.status === 429) return undefined;
    return req.method === 'GET' && RETRIED_STATUSES.has(res.status) ? 0 : undefined;
  }

  private async sendOnce<T>(req: HttpRequest, url: URL, proxy: string): Promise<HttpResponse<T>> {
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
    this.options.trace?.(formatRequest({ method: req.method, url, headers, body }, new Date(), this.traceSecrets));

    // Loaded first: the deadline is the server's, not our modules' loading time.
    const axios = await loadAxios();
    const agents = await this.agentsFor(proxy);
    // One deadline for the whole exchange: connecting, sending, and reading the answer to its end.
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), this.limits.deadlineMs);
    try {
      const res = await axios.request<Readable>({ method: req.method, url: url.toString(), headers, data: body, signal: deadline.signal, ...agents });
      const resHeaders = Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v.join(', ') : String(v)]));
      const text = await this.readBody(addAbortSignal(deadline.signal, res.data), resHeaders['content-length'], req);
      this.options.trace?.(formatResponse({ status: res.status, statusText: res.statusText, headers: resHeaders, body: text }, new Date(), this.traceSecrets));
      return { status: res.status, headers: resHeaders, data: parseBody(text, resHeaders['content-type']) as T };
    } catch (err) {
      // A NetworkError, as a connection that failed: what retries those (connect's cleanup) retries this.
      if (deadline.signal.aborted) throw new NetworkError(`${answerTo(req)} did not finish within ${seconds(this.limits.deadlineMs)}.`);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The answer's body as text, refused (and its connection closed) beyond maxResponseBytes. */
  private async readBody(stream: Readable, contentLength: string | undefined, req: HttpRequest): Promise<string> {
    const limit = this.limits.maxResponseBytes;
    const tooLarge = () => {
      stream.destroy();
      return new LimitError(`${answerTo(req)} was larger than ${bytes(limit)}: not read.`);
    };
    if (Number(contentLength) > limit) throw tooLarge();
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) throw tooLarge();
      chunks.push(chunk);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  /** The agents for a request through `proxy` (http_proxy or https_proxy, '' for none). */
  private async agentsFor(proxy: string): Promise<{ httpAgent: http.Agent; httpsAgent: https.Agent }> {
    // all_proxy is left out on purpose: as in cf, it is a SOCKS5 proxy for SSH only.
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

/** The URL of a request, refused before anything is looked up when it is no http(s) URL or its host is malformed. */
function checkedUrl(text: string): URL {
  const refuse = (what: string, why: string) => new NetworkError(`Cannot reach ${what}: ${why}. Check the API URL.`);
  // A stored login of another's making (cf's config.json) may hold anything; a path may hold a token.
  if (!URL.canParse(text)) throw refuse(`'${redactText(text)}'`, 'it is not a URL');
  const url = new URL(text);
  if (!/^https?:$/.test(url.protocol)) throw refuse(url.origin === 'null' ? `'${redactText(text)}'` : url.origin, `${url.protocol}// is not http:// or https://`);
  if (parseHost(url.hostname) === undefined) throw refuse(url.origin, notAHost(url.hostname));
  return url;
}

function serverOf(req: Pick<HttpRequest, 'url' | 'server'>): string {
  return req.server ?? new URL(req.url).host;
}

/** "GET /v3/apps", for messages: without the query, which may hold a code, and without a token in the path. */
function requestLine(req: Pick<HttpRequest, 'method' | 'url'>): string {
  return `${req.method} ${redactText(new URL(req.url).pathname)}`;
}

/** "The Cloud Controller's answer to GET /v3/apps" */
export function answerTo(req: Pick<HttpRequest, 'method' | 'url' | 'server'>): string {
  return `${serverOf(req)}'s answer to ${requestLine(req)}`;
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

function bytes(count: number): string {
  const MiB = 1024 * 1024;
  if (count % MiB === 0) return `${count / MiB} MiB`;
  if (count % 1024 === 0) return `${count / 1024} KiB`;
  return `${count} bytes`;
}

/** Retry-After in milliseconds: seconds, or an HTTP date; undefined when absent or unreadable. */
function retryAfterMs(value: string | undefined): number | undefined {
  if (!value?.trim()) return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  // An HTTP date has whole seconds: so has the wait.
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000) * 1000);
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

/**
 * One line that names the endpoint, what went wrong and what to try. Through a proxy, the
 * connection that failed is the one to the proxy: the proxy is named, not the endpoint.
 */
function networkError(url: URL, err: unknown, proxy = ''): NetworkError {
  const code = (err as { code?: string }).code ?? '';
  const causeCode = (err as { cause?: { code?: string } }).cause?.code ?? '';
  const endpoint = url.origin;
  if (TLS_CODES.has(code) || TLS_CODES.has(causeCode)) {
    return new NetworkError(`Invalid SSL certificate for ${endpoint} (${code || causeCode}). Use '--skip-ssl-validation' with login to continue with an insecure API endpoint.`);
  }
  const failure = socketFailureWords(code) ?? (err instanceof Error ? err.message : String(err));
  if (proxy) {
    const variable = `${url.protocol.replace(/:$/, '')}_proxy`;
    return new NetworkError(
      `Cannot reach the proxy ${new URL(proxy).host} (${variable}) on the way to ${endpoint}: ${failure}. Check ${variable}, or add ${url.hostname} to no_proxy to go direct.`,
    );
  }
  const tip = ['ECONNABORTED', 'ETIMEDOUT', 'ECONNRESET', 'EPIPE'].includes(code) ? 'Check your network' : 'Check the API URL';
  return new NetworkError(`Cannot reach ${endpoint}: ${failure}. ${tip}, or set https_proxy if you are behind a proxy.`);
}
