// The one place an SSH connection to Cloud Foundry's SSH proxy is made: the dial (direct or
// through a proxy), Diego's algorithms, host key verification and cf's keepalive.
import ssh2, { type Client as SshClient } from 'ssh2';
import { UserError } from '../errors.js';
import { dial, type DialOptions } from './dial.js';
import { verifyHostKey } from './fingerprint.js';
import { useCloudFoundryKeepalive } from './keepalive.js';
import { SSH_HANDSHAKE_MS, silentEndpointMessage } from './settings.js';

// ssh2 is CommonJS: its classes come from the default export.
const { Client } = ssh2;
type Client = SshClient;

export interface SshConnectOptions extends DialOptions {
  host: string;
  port: number;
  username: string;
  password: string;
  /** The fingerprint published in the API root; undefined skips the check (-k). */
  fingerprint?: string;
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

/** Connects and authenticates; resolves once the connection is ready for channels. `signal` abandons it at any point. */
export async function connectSsh(options: SshConnectOptions, onHostKey?: (key: Buffer) => void): Promise<Client> {
  const sock = await dial(options.host, options.port, options);
  const client = new Client();
  let hostKeyError: Error | undefined;
  return new Promise((resolve, reject) => {
    // ssh2 reports a connection that closes before it is ready only with 'close': without
    // listening for it the promise would never settle, and Node would exit 0 with nothing done.
    const closedEarly = () => fail(new ConnectionLostError('during the SSH handshake', 'closed by the other end'));
    const abandon = () => fail(options.signal?.reason as Error);
    const fail = (err: Error & { level?: string }) => {
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
      if (err.level === 'client-authentication') return reject(new UserError(NOT_AUTHORIZED));
      if (err.level === 'client-timeout') return reject(new UserError(silentEndpointMessage(options.host, options.port, options.env)));
      reject(new UserError(`Error opening SSH connection: ${err.message}`));
    };
    if (options.signal?.aborted) return abandon();
    options.signal?.addEventListener('abort', abandon, { once: true });
    client.once('ready', () => {
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
    client.connect({
      sock,
      username: options.username,
      password: options.password,
      tryKeyboard: false,
      algorithms: structuredClone(ALGORITHMS) as never,
      // The dial has had its part of the bound; this is the handshake's.
      readyTimeout: SSH_HANDSHAKE_MS,
      keepaliveInterval: options.keepaliveMs,
      keepaliveCountMax: options.keepaliveCountMax,
      hostVerifier: (key: Buffer) => {
        onHostKey?.(key);
        if (options.fingerprint === undefined) return true;
        try {
          verifyHostKey(options.fingerprint, key);
          return true;
        } catch (err) {
          hostKeyError = err as Error;
          return false;
        }
      },
    });
    useCloudFoundryKeepalive(client);
  });
}
