// The one place an SSH connection to Cloud Foundry's SSH proxy is made: the dial (direct or
// through a proxy), Diego's algorithms, host key verification and cf's keepalive.
import ssh2, { type AuthenticationType, type Client as SshClient, type NextAuthHandler } from 'ssh2';
import type { Socket } from 'node:net';
import { UserError } from '../errors.js';
import { dial, type DialOptions } from './dial.js';
import { useCloudFoundryKeepalive } from './keepalive.js';
import { SSH_HANDSHAKE_MS, silentEndpointMessage } from './settings.js';

// ssh2 is CommonJS: its classes come from the default export.
const { Client } = ssh2;
type Client = SshClient;

/** Who logs in, and the one-time code. */
export interface SshLogin {
  username: string;
  password: string;
}

export interface SshConnectOptions extends DialOptions {
  host: string;
  port: number;
  /**
   * Asked once the key exchange is done, and only when the host key passed `checkHostKey`: what
   * it waits for (look-ups that decide the user name, the code) overlaps the handshake, whose
   * time bound is paused meanwhile. A rejection ends the connection with that error, nothing sent.
   */
  login(): Promise<SshLogin>;
  /** Rejects a host key that is not the one published; undefined skips the check (-k). Its wait is not the handshake's. */
  checkHostKey?(key: Buffer): Promise<void>;
  keepaliveMs: number;
  keepaliveCountMax: number;
  signal?: AbortSignal;
}

/** Offered in this order: what Diego's proxy accepts first, fast AES-GCM ahead of CTR. */
export const ALGORITHMS = {
  kex: ['curve25519-sha256@libssh.org', 'curve25519-sha256', 'ecdh-sha2-nistp256', 'ecdh-sha2-nistp384', 'ecdh-sha2-nistp521'],
  cipher: ['aes128-gcm@openssh.com', 'aes256-gcm@openssh.com', 'aes128-ctr', 'aes192-ctr', 'aes256-ctr', 'chacha20-poly1305@openssh.com'],
  serverHostKey: ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
  hmac: ['hmac-sha2-256-etm@openssh.com', 'hmac-sha2-512-etm@openssh.com', 'hmac-sha2-256', 'hmac-sha2-512'],
} as const;

export const NOT_AUTHORIZED = 'Error opening SSH connection: You are not authorized to perform the requested action.';

/** The connection went away (`when`: during the SSH handshake, after 12 s): OpenSSH's exit code for it. */
export class ConnectionLostError extends UserError {
  constructor(when: string, why: string) {
    super(`Connection to the app instance was lost ${when} (${why}).`, 255);
  }
}

/** The dial, or the signal's reason as soon as it is abandoned (a socket that connects after that is closed). */
function dialUnlessAbandoned(options: SshConnectOptions): Promise<Socket> {
  const dialling = dial(options.host, options.port, options);
  const { signal } = options;
  if (!signal) return dialling;
  return new Promise((resolve, reject) => {
    const abandon = () => {
      reject(signal.reason as Error);
      dialling.then(
        (late) => late.destroy(),
        () => undefined,
      );
    };
    if (signal.aborted) return abandon();
    signal.addEventListener('abort', abandon, { once: true });
    dialling.then(
      (sock) => {
        signal.removeEventListener('abort', abandon);
        if (signal.aborted) sock.destroy();
        else resolve(sock);
      },
      (err: Error) => {
        signal.removeEventListener('abort', abandon);
        reject(err);
      },
    );
  });
}

/** A time bound that stands still while we wait for something of ours rather than for the server. */
class HandshakeBound {
  private timer?: NodeJS.Timeout;
  private left: number;
  private since = 0;

  constructor(
    ms: number,
    private readonly expired: () => void,
  ) {
    this.left = ms;
  }

  run(): void {
    this.since = Date.now();
    this.timer = setTimeout(this.expired, this.left);
  }

  /** Stops the clock until `waiting` settles. */
  async pauseFor<T>(waiting: Promise<T>): Promise<T> {
    clearTimeout(this.timer);
    this.left = Math.max(0, this.left - (Date.now() - this.since));
    try {
      return await waiting;
    } finally {
      this.run();
    }
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}

/** Connects and authenticates; resolves once the connection is ready for channels. `signal` abandons it at any point. */
export async function connectSsh(options: SshConnectOptions): Promise<Client> {
  const sock = await dialUnlessAbandoned(options);
  const client = new Client();
  let hostKeyError: Error | undefined;
  let loginError: Error | undefined;
  return new Promise((resolve, reject) => {
    const timeout = Object.assign(new Error('Timed out while waiting for handshake'), { level: 'client-timeout' });
    const bound = new HandshakeBound(SSH_HANDSHAKE_MS, () => fail(timeout));
    // ssh2 reports a connection that closes before it is ready only with 'close': without
    // listening for it the promise would never settle, and Node would exit 0 with nothing done.
    const closedEarly = () => fail(new ConnectionLostError('during the SSH handshake', 'closed by the other end'));
    const abandon = () => fail(options.signal?.reason as Error);
    const fail = (err: Error & { level?: string }) => {
      bound.stop();
      client.removeAllListeners('ready');
      client.removeListener('close', closedEarly);
      options.signal?.removeEventListener('abort', abandon);
      // A late 'error' from the dying connection must find a listener.
      client.on('error', () => undefined);
      sock.destroy();
      if (options.signal?.aborted || err instanceof ConnectionLostError) return reject(err);
      if (err.message === 'Connection lost before handshake') return reject(new ConnectionLostError('before the SSH handshake', 'closed by the other end'));
      // A reset, or a write to a connection the other end has closed, is a lost connection too: not an error of the SSH server's.
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ECONNRESET') return reject(new ConnectionLostError('during the SSH handshake', 'reset'));
      if (code === 'EPIPE') return reject(new ConnectionLostError('during the SSH handshake', 'closed by the other end'));
      if (hostKeyError) return reject(hostKeyError);
      if (loginError) return reject(loginError);
      if (err.level === 'client-authentication') return reject(new UserError(NOT_AUTHORIZED));
      if (err.level === 'client-timeout') return reject(new UserError(silentEndpointMessage(options.host, options.port, options.env)));
      reject(new UserError(`Error opening SSH connection: ${err.message}`));
    };
    if (options.signal?.aborted) return abandon();
    options.signal?.addEventListener('abort', abandon, { once: true });
    client.once('ready', () => {
      bound.stop();
      client.removeListener('error', fail);
      client.removeListener('close', closedEarly);
      options.signal?.removeEventListener('abort', abandon);
      // From here a failure (a keepalive timeout, a reset) ends the connection with 'close',
      // which every user of the connection waits for; an 'error' nobody hears would crash us.
      client.on('error', () => undefined);
      resolve(client);
    });
    client.once('error', fail);
    client.once('close', closedEarly);
    // The dial has had its part of the bound; this is the handshake's (ours: ssh2's cannot pause).
    bound.run();
    client.connect({
      sock,
      // ssh2 insists on one here; the login's own is sent, once `login` has it.
      username: '',
      tryKeyboard: false,
      algorithms: structuredClone(ALGORITHMS) as never,
      readyTimeout: 0,
      keepaliveInterval: options.keepaliveMs,
      keepaliveCountMax: options.keepaliveCountMax,
      hostVerifier: (key: Buffer, verify: (valid: boolean) => void) => {
        if (!options.checkHostKey) return verify(true);
        bound.pauseFor(options.checkHostKey(key)).then(
          () => verify(true),
          (err: Error) => {
            hostKeyError = err;
            verify(false);
          },
        );
      },
      // One password login, with what `login` gives once it is known; then no other method.
      authHandler: (methodsLeft: AuthenticationType[] | null, _partialSuccess: boolean | null, next: NextAuthHandler) => {
        // ssh2 takes false for "no more methods" (its types do not say so): the login was refused.
        if (methodsLeft !== null) return (next as unknown as (auth: false) => void)(false);
        bound.pauseFor(options.login()).then(
          (login) => next({ type: 'password', ...login }),
          (err: Error) => {
            loginError = err;
            fail(err);
          },
        );
      },
    });
    useCloudFoundryKeepalive(client);
  });
}
