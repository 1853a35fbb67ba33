// Host key fingerprints in the four formats Cloud Foundry publishes, told apart by length
// as the cf CLI does, compared exactly.
import { createHash } from 'node:crypto';
import { UserError } from '../errors.js';

const colonHex = (digest: Buffer) => [...digest].map((b) => b.toString(16).padStart(2, '0')).join(':');

const FORMATS: Record<number, (key: Buffer) => string> = {
  64: (key) => createHash('sha256').update(key).digest('hex'),
  43: (key) => createHash('sha256').update(key).digest('base64').replace(/=+$/, ''),
  59: (key) => colonHex(createHash('sha1').update(key).digest()),
  47: (key) => colonHex(createHash('md5').update(key).digest()),
};

/** The fingerprint of a host key blob in the format of `expected` (chosen by its length). */
export function fingerprintLike(expected: string, hostKey: Buffer): string {
  const format = FORMATS[expected.length];
  if (!format) throw new UserError('Unsupported host key fingerprint format');
  return format(hostKey);
}

export class HostKeyMismatchError extends UserError {
  constructor(received: string) {
    super(`Host key verification failed.\n\nThe fingerprint of the received key was "${received}".`);
  }
}

/** Throws cf's message when the key is not the one Cloud Foundry published. */
export function verifyHostKey(expected: string, hostKey: Buffer): void {
  const received = fingerprintLike(expected, hostKey);
  if (received !== expected) throw new HostKeyMismatchError(received);
}
