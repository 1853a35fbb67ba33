// The SSH proxy's host key itself (not only its fingerprint), for clients such as OpenSSH
// that pin a key in a known_hosts file.
import ssh2 from 'ssh2';
import { ALGORITHMS } from './client.js';
import { dial, type DialOptions } from './dial.js';

// ssh2 is CommonJS: its classes come from the default export.
const { Client } = ssh2;

/** Reads the server's host key from the key exchange and disconnects before authenticating. */
export async function readHostKey(host: string, port: number, options: DialOptions): Promise<Buffer> {
  const sock = await dial(host, port, options);
  const client = new Client();
  return new Promise((resolve, reject) => {
    let key: Buffer | undefined;
    const finish = () => (key ? resolve(key) : reject(new Error(`no host key from ${host}:${port}`)));
    client.once('error', finish);
    client.once('close', finish);
    client.connect({
      sock,
      username: 'host-key-probe',
      algorithms: structuredClone(ALGORITHMS) as never,
      readyTimeout: options.timeoutMs,
      hostVerifier: (received: Buffer) => {
        key = received;
        return false;
      },
    });
  });
}

/** A known_hosts line for the key: "[host]:port type base64". */
export function knownHostsLine(host: string, port: number, key: Buffer): string {
  const typeLength = key.readUInt32BE(0);
  const type = key.subarray(4, 4 + typeLength).toString('ascii');
  const name = port === 22 ? host : `[${host}]:${port}`;
  return `${name} ${type} ${key.toString('base64')}`;
}
