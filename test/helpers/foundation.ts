// Starts the test foundation the way users do (`npm run foundation` runs this same file)
// and gives tests its URL and its control API.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const FOUNDATION_MAIN = path.join(ROOT, 'build/test/foundation/main.js');

export interface RunningFoundation {
  url: string;
  process: ChildProcess;
  control<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  /** A fresh token for a seeded user, straight from the foundation's UAA. */
  tokens(user: string, password: string): Promise<{ access_token: string; refresh_token: string }>;
  stop(): Promise<void>;
}

/** A fresh token for a seeded user, straight from the UAA of the foundation at `url`. */
export async function passwordGrant(url: string, user: string, password: string): Promise<{ access_token: string; refresh_token: string }> {
  const res = await fetch(`${url}/uaa/oauth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: `Basic ${Buffer.from('cf:').toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'password', username: user, password }).toString(),
  });
  return (await res.json()) as { access_token: string; refresh_token: string };
}

export async function startFoundationProcess(args: string[] = []): Promise<RunningFoundation> {
  const child = spawn(process.execPath, [FOUNDATION_MAIN, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  // Read, or a foundation that says much would block on a full pipe; its last words explain an early exit.
  let said = '';
  child.stderr!.on('data', (chunk: Buffer) => (said = (said + chunk.toString()).slice(-4000)));
  const url = await new Promise<string>((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const match = /^api=(.+)$/.exec(line);
      if (match?.[1]) resolve(match[1]);
    });
    child.once('exit', (code, signal) => reject(new Error(`foundation exited with ${code ?? signal}${said ? `:\n${said}` : ''}`)));
  });
  const control = async <T>(method: string, route: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${url}${route}`, {
      method,
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as T;
  };
  return {
    url,
    process: child,
    control,
    tokens: (user, password) => passwordGrant(url, user, password),
    stop: () =>
      new Promise<void>((resolve) => {
        // Ended already (a signal leaves exitCode null): its 'exit' will not come again.
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
