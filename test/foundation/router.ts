// A small router for the test foundation's HTTP server.
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface Request {
  method: string;
  url: URL;
  params: string[];
  headers: IncomingMessage['headers'];
  body: string;
  /** The body parsed as JSON, or as a form when that is its content type. */
  json<T = Record<string, unknown>>(): T;
  form(): URLSearchParams;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export type Handler = (req: Request) => Reply | Promise<Reply>;

interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
}

export class Router {
  private readonly routes: Route[] = [];

  on(method: string, pattern: RegExp, handler: Handler): this {
    this.routes.push({ method, pattern, handler });
    return this;
  }

  async dispatch(raw: IncomingMessage, res: ServerResponse, base: string, notFound: Handler): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of raw) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const url = new URL(raw.url ?? '/', base);
    const method = raw.method ?? 'GET';
    let params: string[] = [];
    const route = this.routes.find((r) => {
      if (r.method !== method) return false;
      const match = r.pattern.exec(url.pathname);
      if (match) params = match.slice(1);
      return Boolean(match);
    });
    const req: Request = {
      method,
      url,
      params,
      headers: raw.headers,
      body,
      json<T>() {
        return (body ? JSON.parse(body) : {}) as T;
      },
      form() {
        return new URLSearchParams(body);
      },
    };
    let reply: Reply;
    try {
      reply = await (route ? route.handler(req) : notFound(req));
    } catch (err) {
      reply = { status: 500, body: { errors: [{ code: 10001, title: 'CF-ServerError', detail: String(err) }] } };
    }
    const headers: Record<string, string> = { ...reply.headers };
    let payload = '';
    if (reply.body !== undefined) {
      if (typeof reply.body === 'string') {
        payload = reply.body;
        headers['Content-Type'] ??= 'text/html;charset=utf-8';
      } else {
        payload = JSON.stringify(reply.body);
        headers['Content-Type'] ??= 'application/json;charset=utf-8';
      }
    }
    res.writeHead(reply.status, headers);
    res.end(payload);
  }
}

export const json = (status: number, body: unknown, headers?: Record<string, string>): Reply => ({ status, body, headers });

export function ccError(status: number, code: number, title: string, detail: string): Reply {
  return json(status, { errors: [{ detail, title, code }] });
}
