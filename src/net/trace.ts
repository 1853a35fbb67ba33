// CF_TRACE: every request and response, as the cf CLI logs them, with secrets hidden.
import { appendFileSync, closeSync, openSync } from 'node:fs';
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
    closeSync(openSync(value, 'a', 0o600));
  } catch (err) {
    const { errno, message } = err as NodeJS.ErrnoException;
    throw new UserError(`Cannot write the CF_TRACE file ${value}: ${(errno !== undefined && getSystemErrorMap().get(errno)?.[1]) || message}.`);
  }
  return (text) => appendFileSync(value, text, { mode: 0o600 });
}

const SECRET_KEY = /(password|passwd|secret|token|passcode|credentials|private_key|^code$|^auth$)/i;
const SECRET_HEADER = /^(authorization|proxy-authorization|cookie|set-cookie)$/i;

/** Hides user:password in any URL-like string and one-time codes in query strings. */
export function redactText(text: string): string {
  return text
    .replace(/(\/\/[^\s/:@"]*:)[^\s/@"]+@/g, `$1${HIDDEN}@`)
    .replace(/([?&](?:code|password|passcode|access_token|refresh_token|client_secret)=)[^&\s"]*/gi, `$1${HIDDEN}`);
}

/** A deep copy of a JSON value with every secret-looking field hidden. */
export function redactJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactJson);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, SECRET_KEY.test(key) ? HIDDEN : redactJson(v)]));
  }
  return typeof value === 'string' ? redactText(value) : value;
}

function redactBody(body: unknown, contentType: string): string {
  if (body === undefined || body === null || body === '') return '';
  if (typeof body === 'string' && contentType.includes('application/x-www-form-urlencoded')) {
    return [...new URLSearchParams(body)].map(([key, value]) => `${key}=${SECRET_KEY.test(key) ? HIDDEN : value}`).join('&');
  }
  if (typeof body === 'string') {
    try {
      return JSON.stringify(redactJson(JSON.parse(body)), null, 2);
    } catch {
      return redactText(body);
    }
  }
  return JSON.stringify(redactJson(body), null, 2);
}

function headerLines(headers: Record<string, string>): string[] {
  return Object.entries(headers)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => `${name}: ${SECRET_HEADER.test(name) ? HIDDEN : redactText(value)}`);
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

export function formatRequest(req: TracedRequest, now = new Date()): string {
  const lines = [
    `REQUEST: [${stamp(now)}]`,
    `${req.method.toUpperCase()} ${redactText(req.url.pathname + req.url.search)} HTTP/1.1`,
    `Host: ${req.url.host}`,
    ...headerLines(req.headers),
  ];
  const body = redactBody(req.body, req.headers['Content-Type'] ?? req.headers['content-type'] ?? '');
  return `${lines.join('\n')}\n${body ? `\n${body}\n` : ''}\n`;
}

export interface TracedResponse {
  status: number;
  statusText: string;
  headers: Record<string, string>;
  body?: unknown;
}

export function formatResponse(res: TracedResponse, now = new Date()): string {
  const lines = [`RESPONSE: [${stamp(now)}]`, `HTTP/1.1 ${res.status} ${res.statusText}`, ...headerLines(res.headers)];
  const body = redactBody(res.body, res.headers['content-type'] ?? '');
  return `${lines.join('\n')}\n${body ? `\n${body}\n` : ''}\n`;
}
