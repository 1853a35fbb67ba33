// Where our own login keeps its secrets: the OS keychain through the keytar API, or,
// where no keychain is usable (a headless box without a Secret Service), a 0600 file.
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from './atomic.js';

export interface Secrets {
  accessToken: string;
  refreshToken: string;
  clientSecret: string;
}

export type SecretStorage = 'keychain' | 'file';

/** The part of the keytar API we use. */
export interface Keytar {
  getPassword(service: string, account: string): Promise<string | null>;
  setPassword(service: string, account: string, password: string): Promise<void>;
  deletePassword(service: string, account: string): Promise<boolean>;
}

const SERVICE = 'cf-ssh-tools';

export const loadKeytar = async (): Promise<Keytar> => {
  const mod = (await import('@napi-rs/keyring/keytar.js')) as Keytar & { default?: Keytar };
  return mod.default ?? mod;
};

export class TokenVault {
  readonly file: string;
  /** Why the keychain could not be used, once it failed. */
  keychainFailure?: string;

  constructor(
    private readonly dir: string,
    private readonly keychainAllowed: boolean,
    private readonly keytar: () => Promise<Keytar> = loadKeytar,
  ) {
    this.file = path.join(dir, 'tokens.json');
  }

  /** One keychain entry per session folder, so two CF_HOMEs never share tokens. */
  private get account(): string {
    return path.resolve(this.dir);
  }

  async write(secrets: Secrets): Promise<SecretStorage> {
    const text = JSON.stringify(secrets);
    if (this.keychainAllowed) {
      try {
        await (await this.keytar()).setPassword(SERVICE, this.account, text);
        await rm(this.file, { force: true });
        return 'keychain';
      } catch (err) {
        this.keychainFailure = (err as Error).message;
      }
    }
    await writeFileAtomic(this.file, `${text}\n`);
    return 'file';
  }

  async read(storage: SecretStorage): Promise<Secrets | undefined> {
    let text: string | null;
    if (storage === 'keychain') {
      try {
        text = await (await this.keytar()).getPassword(SERVICE, this.account);
      } catch {
        return undefined;
      }
    } else {
      text = await readFile(this.file, 'utf8').catch(() => null);
    }
    if (!text) return undefined;
    try {
      return JSON.parse(text) as Secrets;
    } catch {
      return undefined;
    }
  }

  async clear(): Promise<void> {
    await rm(this.file, { force: true });
    if (!this.keychainAllowed) return;
    try {
      await (await this.keytar()).deletePassword(SERVICE, this.account);
    } catch {
      // no keychain, nothing stored there
    }
  }
}
