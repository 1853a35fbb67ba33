import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { describe, it } from 'node:test';
import { type Keytar, TokenVault } from '../../src/config/token-vault.js';
import { tempHome } from '../helpers/cli.js';

class MemoryKeytar implements Keytar {
  readonly entries = new Map<string, string>();
  async getPassword(service: string, account: string) {
    return this.entries.get(`${service}/${account}`) ?? null;
  }
  async setPassword(service: string, account: string, password: string) {
    this.entries.set(`${service}/${account}`, password);
  }
  async deletePassword(service: string, account: string) {
    return this.entries.delete(`${service}/${account}`);
  }
}

const secrets = { accessToken: 'bearer a', refreshToken: 'r', clientSecret: '' };

describe('token vault', () => {
  it('keeps secrets in the keychain when one works, and no file', async () => {
    const keytar = new MemoryKeytar();
    const vault = new TokenVault(tempHome(), true, async () => keytar);
    assert.equal(await vault.write(secrets), 'keychain');
    assert.equal(existsSync(vault.file), false);
    assert.deepEqual(await vault.read('keychain'), secrets);
    assert.equal(keytar.entries.size, 1);
    await vault.clear();
    assert.equal(keytar.entries.size, 0);
  });

  it('falls back to a 0600 file and remembers why', async () => {
    const broken = async (): Promise<Keytar> => {
      throw new Error("Couldn't access platform storage");
    };
    const vault = new TokenVault(tempHome(), true, broken);
    assert.equal(await vault.write(secrets), 'file');
    assert.match(vault.keychainFailure ?? '', /platform storage/);
    assert.equal(statSync(vault.file).mode & 0o777, 0o600);
    assert.deepEqual(await vault.read('file'), secrets);
    await vault.clear();
    assert.equal(existsSync(vault.file), false);
  });

  it('two session folders never share a keychain entry', async () => {
    const keytar = new MemoryKeytar();
    await new TokenVault(tempHome(), true, async () => keytar).write(secrets);
    await new TokenVault(tempHome(), true, async () => keytar).write({ ...secrets, refreshToken: 'other' });
    assert.equal(keytar.entries.size, 2);
  });
});
