import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { CfConfigStore } from '../../src/config/cf-config.js';
import { tempHome } from '../helpers/cli.js';

function configFile(content: object | string): string {
  const dir = path.join(tempHome(), '.cf');
  mkdirSync(dir);
  const file = path.join(dir, 'config.json');
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content), { mode: 0o644 });
  return file;
}

describe('cf config.json', () => {
  it('reads the session fields cf writes', async () => {
    const file = configFile({
      ConfigVersion: 4,
      Target: 'https://api.example.com',
      AuthorizationEndpoint: 'https://login.example.com',
      UaaEndpoint: 'https://uaa.example.com',
      AccessToken: 'bearer a',
      RefreshToken: 'r',
      SSLDisabled: true,
      OrganizationFields: { GUID: 'o', Name: 'org' },
      SpaceFields: { GUID: 's', Name: 'space', AllowSSH: true },
    });
    const state = await new CfConfigStore(file).load();
    assert.equal(state?.api, 'https://api.example.com');
    assert.equal(state?.uaaEndpoint, 'https://uaa.example.com');
    assert.equal(state?.uaaClient, 'cf');
    assert.equal(state?.sslDisabled, true);
    assert.deepEqual(state?.space, { guid: 's', name: 'space', allowSSH: true });
  });

  it('ignores other ConfigVersions and explains broken JSON', async () => {
    assert.equal(await new CfConfigStore(configFile({ ConfigVersion: 3, Target: 'x' })).load(), undefined);
    await assert.rejects(new CfConfigStore(configFile('{oops')).load(), /is not valid JSON/);
    assert.equal(await new CfConfigStore('/nonexistent/config.json').load(), undefined);
  });

  it('writes back atomically, mode 0600, keeping fields it does not know', async () => {
    const file = configFile({ ConfigVersion: 4, Target: 'https://api.example.com', PluginRepos: [{ Name: 'x' }], Locale: 'de-DE' });
    const store = new CfConfigStore(file);
    const state = (await store.load())!;
    state.accessToken = 'bearer new';
    await store.save(state);
    const written = JSON.parse(readFileSync(file, 'utf8'));
    assert.equal(written.AccessToken, 'bearer new');
    assert.deepEqual(written.PluginRepos, [{ Name: 'x' }]);
    assert.equal(written.Locale, 'de-DE');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(path.dirname(file)), ['config.json']);
  });
});
