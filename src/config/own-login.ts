// The session that `cf-ssh-tools login` keeps: session.json (no secrets) beside the
// tokens, which live in the OS keychain or, without one, in a 0600 file.
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../errors.js';
import { type SecretStorage, TokenVault } from './token-vault.js';
import { writeFileAtomic } from './atomic.js';
import { cfHome } from './cf-config.js';
import { type Folder, inFolder, subfolder } from './dirs.js';
import { withFileLock } from './file-lock.js';
import type { StoredLogin, LoginStore } from './login.js';

type PublicState = Omit<StoredLogin, 'accessToken' | 'refreshToken' | 'uaaClientSecret' | 'trace'>;

interface SessionFile extends PublicState {
  version: 1;
  secretStorage: SecretStorage;
}

/** $CF_SSH_TOOLS_HOME, else .cf-ssh-tools in cf's home. */
export function ownStateFolder(env: NodeJS.ProcessEnv): Folder {
  const use = "cf-ssh-tools' state";
  const own = env.CF_SSH_TOOLS_HOME;
  return own ? { dir: own, setting: `CF_SSH_TOOLS_HOME=${own}`, use } : subfolder(cfHome(env), '.cf-ssh-tools', use);
}

export class OwnLoginStore implements LoginStore {
  readonly file: string;
  readonly vault: TokenVault;
  readonly description: string;
  /** Set when a save had to fall back to the file: the caller tells the user once. */
  fellBackToFile = false;

  constructor(
    private readonly folder: Folder,
    keychainAllowed: boolean,
    vault?: TokenVault,
  ) {
    this.file = path.join(folder.dir, 'session.json');
    this.vault = vault ?? new TokenVault(folder.dir, keychainAllowed);
    this.description = `cf-ssh-tools session ${this.file}`;
  }

  async exists(): Promise<boolean> {
    return (await this.readFile()) !== undefined;
  }

  private async readFile(): Promise<SessionFile | undefined> {
    const text = await readFile(this.file, 'utf8').catch(() => undefined);
    if (text === undefined) return undefined;
    try {
      const parsed = JSON.parse(text) as SessionFile;
      return parsed?.version === 1 ? parsed : undefined;
    } catch {
      throw new UserError(`${this.file} is not valid JSON. Run 'cf-ssh-tools logout', then log in again.`);
    }
  }

  async load(): Promise<StoredLogin | undefined> {
    const saved = await this.readFile();
    if (!saved) return undefined;
    const { version: _version, secretStorage, ...state } = saved;
    const secrets = await this.vault.read(secretStorage);
    return {
      ...state,
      accessToken: secrets?.accessToken ?? '',
      refreshToken: secrets?.refreshToken ?? '',
      uaaClientSecret: secrets?.clientSecret ?? '',
    };
  }

  async save(state: StoredLogin): Promise<void> {
    const { accessToken, refreshToken, uaaClientSecret, trace: _trace, ...rest } = state;
    await inFolder(this.folder, async () => {
      const secretStorage = await this.vault.write({ accessToken, refreshToken, clientSecret: uaaClientSecret });
      this.fellBackToFile = secretStorage === 'file' && this.vault.keychainFailure !== undefined;
      const file: SessionFile = { version: 1, secretStorage, ...rest };
      await writeFileAtomic(this.file, `${JSON.stringify(file, null, 2)}\n`);
    });
  }

  whileLocked<T>(work: () => Promise<T>): Promise<T> {
    return withFileLock(this.folder, 'session.lock', work);
  }

  async clear(): Promise<void> {
    await inFolder(this.folder, async () => {
      await this.vault.clear();
      await rm(this.file, { force: true });
    });
  }
}
