// CF_TRACE: every request and response, as the cf CLI logs them, with secrets hidden: by where
// they sit (credential headers, secret-named fields and query parameters, user:password in
// URLs, the token in a revocation's path, anything shaped like a JWT), and wherever a secret
// met once in the trace turns up again (a refresh token that UAA echoes in an error, say).
import { appendFileSync, closeSync, fchmodSync, fstatSync, openSync } from 'node:fs';
import { getSystemErrorMap } from 'node:util';
import { UserError } from '../errors.js';

export const HIDDEN = '[PRIVATE DATA HIDDEN]';

/** Where trace lines go, decided once from CF_TRACE (or config.json's Trace). */
export type TraceSink = (text: string) => void;

export function traceSink(setting: string | undefined, stderr: (text: string) => void): TraceSink | undefined {
  const value = (setting ?? '').trim();
  if (value === '' || /^(false|0|no)$/i.test(value)) return undefined;
  if (/^(true|1|yes)$/i.test(value)) return stderr;
  // Opened once now, so that a file we cannot write is said as such, not as a failed request.
  try {
    const fd = openSync(value, 'a', 0o600);
    try {
      // A file that was there keeps its mode on open: one others may read is made private.
      // Not a device (CF_TRACE=/dev/stderr), which is not ours to change.
      const stat = fstatSync(fd);
      if (stat.isFile() && (stat.mode & 0o077) !== 0) fchmodSync(fd, 0o600);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    const { errno, message } = err as NodeJS.ErrnoException;
    throw new UserError(`Cannot write the CF_TRACE file ${value}: ${(errno !== undefined && getSystemErrorMap().get(errno)?.[1]) || message}.`);
  }
  return (text) => appendFileSync(value, text, { mode: 0o600 });
}

const SECRET_KEY = /(password|passwd|secret|token|passcode|credentials|private_key|assertion|^code$|^auth$)/i;
/** Named like a secret, but not one: shown. */
const PUBLIC_KEYS = new Set(['token_type']);
const SECRET_HEADER = /^(authorization|proxy-authorization|cookie|set-cookie)$/i;
const SECRET_PARAM = /([?&](?:code|password|passcode|access_token|refresh_token|id_token|token|client_secret|client_assertion)=)([^&\s"#]*)/gi;
/** The token (a refresh token, or an access token's id) in UAA's revocation path. */
const REVOKE_PATH = /(\/oauth\/token\/revoke\/)([^/?#\s"]+)/g;
/** Three base64url parts, the first a JSON header: a JWT wherever it is. */
const JWT = /eyJ[\w-]*\.[\w-]+\.[\w-]+/g;
/** Shorter values are hidden where they sit, but not searched for everywhere (they would match too much). */
const MIN_SEARCHED_LENGTH = 6;

const isSecretKey = (key: string) => SECRET_KEY.test(key) && !PUBLIC_KEYS.has(key.toLowerCase());

/**
 * The secrets a trace has met so far (one per HTTP client, so one per command): each is hidden
 * wherever it appears in later requests and responses, under any name, or none.
 */
export class TraceSecrets {
  private readonly values = new Set<string>();

  add(value: string | undefined): void {
    if (!value || value.length < MIN_SEARCHED_LENGTH) return;
    this.values.add(value);
    this.values.add(encodeURIComponent(value));
  }

  /** Remembers the secrets that `text` holds where secrets sit: query parameters, a revocation's path. */
  addFrom(text: string): void {
    for (const pattern of [SECRET_PARAM, REVOKE_PATH]) {
      for (const match of text.matchAll(pattern)) this.add(safeDecode(match[2] ?? ''));
    }
  }

  /** Remembers the string values of secret-named fields of a JSON value. */
  addFromJson(value: unknown, secret = false): void {
    if (typeof value === 'string') {
      if (secret) this.add(value);
    } else if (Array.isArray(value)) {
      for (const item of value) this.addFromJson(item, secret);
    } else if (value && typeof value === 'object') {
      for (const [key, v] of Object.entries(value)) this.addFromJson(v, secret || isSecretKey(key));
    }
  }

  hide(text: string): string {
    // Longest first: a secret that holds another is hidden whole.
    return [...this.values].sort((a, b) => b.length - a.length).reduce((out, secret) => out.split(secret).join(HIDDEN), text);
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

/** Hides user:password in any URL-like string, secrets in query strings and revocation paths, and JWTs. */
export function redactText(text: string): string {
  return text
    .replace(/(\/\/[^\s/:@"]*:)[^\s/@"]+@/g, `$1${HIDDEN}@`)
    .replace(SECRET_PARAM, `$1${HIDDEN}`)
    .replace(REVOKE_PATH, `$1${HIDDEN}`)
    .replace(JWT, HIDDEN);
}

/** A deep copy of a JSON value with every secret-looking field hidden. */
export function redactJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactJson);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, isSecretKey(key) ? HIDDEN : redactJson(v)]));
  }
  return typeof value === 'string' ? redactText(value) : value;
}

/** A body as traced, its secrets hidden (and remembered in `secrets`). */
function redactBody(body: unknown, contentType: string, secrets: TraceSecrets): string {
  if (body === undefined || body === null || body === '') return '';
  if (typeof body === 'string' && contentType.includes('application/x-www-form-urlencoded')) {
    const fields = [...new URLSearchParams(body)];
    for (const [key, value] of fields) if (isSecretKey(key)) secrets.add(value);
    return fields.map(([key, value]) => `${key}=${isSecretKey(key) ? HIDDEN : redactText(value)}`).join('&');
  }
  let json = body;
  if (typeof body === 'string') {
    try {
      json = JSON.parse(body);
    } catch {
      secrets.addFrom(body);
      return redactText(body);
    }
  }
  secrets.addFromJson(json);
  return JSON.stringify(redactJson(json), null, 2);
}

function headerLines(headers: Record<string, string>, secrets: TraceSecrets): string[] {
  return Object.entries(headers)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => {
      if (SECRET_HEADER.test(name)) {
        // "bearer eyJ...", "Basic Y2Y6": the credential after the scheme.
        secrets.add(value.replace(/^\S+\s+/, ''));
        return `${name}: ${HIDDEN}`;
      }
      secrets.addFrom(value);
      return `${name}: ${redactText(value)}`;
    });
}

function stamp(now: Date): string {
  return now.toISOString().replace(/\.\d+Z$/, 'Z');
}

export interface TracedRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: unknown;
}

/** A request as cf traces it. `secrets`: what the trace met before, to which this request's are added. */
export function formatRequest(req: TracedRequest, now = new Date(), secrets = new TraceSecrets()): string {
  const target = req.url.pathname + req.url.search;
  secrets.addFrom(target);
  const head = headerLines(req.headers, secrets);
  const body = redactBody(req.body, req.headers['Content-Type'] ?? req.headers['content-type'] ?? '', secrets);
  const lines = [`REQUEST: [${stamp(now)}]`, `${req.method.toUpperCase()} ${redactText(target)} HTTP/1.1`, `Host: ${req.url.host}`, ...head];
  return secrets.hide(`${lines.join('\n')}\n${body ? `\n${body}\n` : ''}\n`);
}

export interface TracedResponse {
  status: number;
  statusText: string;
  headers: Record<string, string>;
  body?: unknown;
}

/** A response as cf traces it; `secrets` as for formatRequest. */
export function formatResponse(res: TracedResponse, now = new Date(), secrets = new TraceSecrets()): string {
  const head = headerLines(res.headers, secrets);
  const body = redactBody(res.body, res.headers['content-type'] ?? '', secrets);
  const lines = [`RESPONSE: [${stamp(now)}]`, `HTTP/1.1 ${res.status} ${res.statusText}`, ...head];
  return secrets.hide(`${lines.join('\n')}\n${body ? `\n${body}\n` : ''}\n`);
}
