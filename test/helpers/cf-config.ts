// cf's own config.json (`$CF_HOME/.cf/config.json`) as cf 7 writes it after `cf login`, for tests
// that start from a login made by cf rather than by cf-ssh-tools.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Foundation } from '../foundation/server.js';
import { tempHome } from './cli.js';

/** The config of a login to `foundation` targeting demo-org and demo-space; `fields` add or replace. */
export function cfConfigFor(foundation: Foundation, fields: Record<string, unknown> = {}): Record<string, unknown> {
  const org = foundation.world.orgs.find((o) => o.name === 'demo-org');
  const space = foundation.world.spaces.find((s) => s.name === 'demo-space' && s.orgGuid === org?.guid);
  if (!org || !space) throw new Error('the foundation seeds demo-org and demo-space');
  return {
    ConfigVersion: 4,
    Target: foundation.url,
    APIVersion: '3.180.0',
    AuthorizationEndpoint: `${foundation.url}/uaa`,
    UaaEndpoint: `${foundation.url}/uaa`,
    SSHOAuthClient: 'ssh-proxy',
    UAAOAuthClient: 'cf',
    UAAOAuthClientSecret: '',
    UAAGrantType: '',
    SSLDisabled: false,
    OrganizationFields: { GUID: org.guid, Name: org.name },
    SpaceFields: { GUID: space.guid, Name: space.name, AllowSSH: true },
    ColorEnabled: 'true',
    Locale: '',
    PluginRepos: [{ Name: 'CF-Community', URL: 'https://plugins.cloudfoundry.org' }],
    MinCLIVersion: '6.23.0',
    ...fields,
  };
}

/** A fresh home whose .cf/config.json holds `config` (cf writes it 0644). */
export function homeWithCfConfig(config: Record<string, unknown>): { home: string; file: string } {
  const home = tempHome();
  mkdirSync(path.join(home, '.cf'), { mode: 0o700 });
  const file = path.join(home, '.cf', 'config.json');
  writeFileSync(file, JSON.stringify(config, null, 2), { mode: 0o644 });
  return { home, file };
}
