// The cf CLI's own $CF_HOME/.cf/config.json: read, and written back exactly as cf does
// (atomically, mode 0600, every field we do not know kept as it was).
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../errors.js';
import { boolean, optional, type Shape, ShapeError, string } from '../net/shape.js';
import { writeFileAtomic } from './atomic.js';
import { type Folder, folderError, inFolder, type Place, placeFrom, subfolder } from './dirs.js';
import { withFileLock } from './file-lock.js';
import type { StoredLogin, LoginStore } from './login.js';

const CONFIG_VERSION = 4;

interface CfConfigFile {
  ConfigVersion?: number;
  Target?: string;
  APIVersion?: string;
  AuthorizationEndpoint?: string;
  UaaEndpoint?: string;
  SSHOAuthClient?: string;
  UAAOAuthClient?: string;
  UAAOAuthClientSecret?: string;
  UAAGrantType?: string;
  AccessToken?: string;
  RefreshToken?: string;
  SSLDisabled?: boolean;
  OrganizationFields?: { GUID?: string; Name?: string };
  SpaceFields?: { GUID?: string; Name?: string; AllowSSH?: boolean };
  Trace?: string;
  [other: string]: unknown;
}

/** $CF_HOME, else $HOME, as cf takes them (the system's home folder where HOME is not set). */
export function cfHome(env: NodeJS.ProcessEnv): Place {
  return placeFrom(env, env.CF_HOME ? 'CF_HOME' : 'HOME', os.homedir);
}

export function cfConfigFolder(env: NodeJS.ProcessEnv): Folder {
  return subfolder(cfHome(env), '.cf', CF_CONFIG_USE);
}

const CF_CONFIG_USE = "cf's config";

export class CfConfigStore implements LoginStore {
  readonly description: string;
  private readonly folder: Folder;

  /** `setting` names where the file's folder comes from, for messages (CF_HOME=...); the folder itself by default. */
  constructor(
    readonly file: string,
    setting = path.dirname(file),
  ) {
    this.description = `cf CLI config ${file}`;
    this.folder = { dir: path.dirname(file), setting, use: CF_CONFIG_USE };
  }

  static in(folder: Folder): CfConfigStore {
    return new CfConfigStore(path.join(folder.dir, 'config.json'), folder.setting);
  }

  private async readRaw(): Promise<CfConfigFile | undefined> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw folderError(this.folder, err, `cannot read ${this.file}`);
    }
    try {
      const parsed = JSON.parse(text) as CfConfigFile;
      return parsed && typeof parsed === 'object' ? parsed : undefined;
    } catch {
      throw new UserError(`${this.file} is not valid JSON. Fix or remove it, then log in again.`);
    }
  }

  async load(): Promise<StoredLogin | undefined> {
    const raw = await this.readRaw();
    if (!raw || raw.ConfigVersion !== CONFIG_VERSION || !raw.Target) return undefined;
    // As cf, which does not read a config.json whose fields have the wrong type: one line naming the field.
    // The shape's words name the kind, never the value: a token of the wrong type stays unsaid.
    const typed = <T>(field: string, value: unknown, shape: Shape<T>): T | undefined => {
      try {
        return optional(shape)(value, field);
      } catch (err) {
        if (err instanceof ShapeError) throw new UserError(`${this.file}: ${err.message}. Fix or remove it, then log in again.`);
        throw err;
      }
    };
    const text = (field: string, value: unknown) => typed(field, value, string);
    const fields = (value: unknown) => (value && typeof value === 'object' ? (value as Record<string, unknown>) : {});
    const org = fields(raw.OrganizationFields);
    const space = fields(raw.SpaceFields);
    const orgGuid = text('OrganizationFields.GUID', org.GUID);
    const spaceGuid = text('SpaceFields.GUID', space.GUID);
    return {
      api: text('Target', raw.Target) ?? '',
      apiVersion: text('APIVersion', raw.APIVersion) ?? '',
      authorizationEndpoint: text('AuthorizationEndpoint', raw.AuthorizationEndpoint) ?? '',
      uaaEndpoint: text('UaaEndpoint', raw.UaaEndpoint) || raw.AuthorizationEndpoint || '',
      sshOAuthClient: text('SSHOAuthClient', raw.SSHOAuthClient) ?? '',
      uaaClient: text('UAAOAuthClient', raw.UAAOAuthClient) || 'cf',
      uaaClientSecret: text('UAAOAuthClientSecret', raw.UAAOAuthClientSecret) ?? '',
      grantType: text('UAAGrantType', raw.UAAGrantType) === 'client_credentials' ? 'client_credentials' : '',
      accessToken: text('AccessToken', raw.AccessToken) ?? '',
      refreshToken: text('RefreshToken', raw.RefreshToken) ?? '',
      sslDisabled: typed('SSLDisabled', raw.SSLDisabled, boolean) ?? false,
      org: orgGuid ? { guid: orgGuid, name: text('OrganizationFields.Name', org.Name) ?? '' } : undefined,
      space: spaceGuid ? { guid: spaceGuid, name: text('SpaceFields.Name', space.Name) ?? '', allowSSH: typed('SpaceFields.AllowSSH', space.AllowSSH, boolean) } : undefined,
      trace: text('Trace', raw.Trace),
    };
  }

  async save(state: StoredLogin): Promise<void> {
    const raw = (await this.readRaw()) ?? { ConfigVersion: CONFIG_VERSION };
    const next: CfConfigFile = {
      ...raw,
      ConfigVersion: CONFIG_VERSION,
      Target: state.api,
      APIVersion: state.apiVersion,
      AuthorizationEndpoint: state.authorizationEndpoint,
      UaaEndpoint: state.uaaEndpoint,
      SSHOAuthClient: state.sshOAuthClient,
      UAAOAuthClient: state.uaaClient,
      UAAOAuthClientSecret: state.uaaClientSecret,
      UAAGrantType: state.grantType,
      AccessToken: state.accessToken,
      RefreshToken: state.refreshToken,
      SSLDisabled: state.sslDisabled,
      OrganizationFields: { ...raw.OrganizationFields, GUID: state.org?.guid ?? '', Name: state.org?.name ?? '' },
      SpaceFields: {
        ...raw.SpaceFields,
        GUID: state.space?.guid ?? '',
        Name: state.space?.name ?? '',
        AllowSSH: state.space?.allowSSH ?? false,
      },
    };
    await inFolder(this.folder, () => writeFileAtomic(this.file, JSON.stringify(next, null, 2))); // cf writes no final newline
  }

  /** Only our runs take this lock: cf itself refreshes without it. */
  whileLocked<T>(work: () => Promise<T>): Promise<T> {
    return withFileLock(this.folder, `.${path.basename(this.file)}.cf-ssh-tools.lock`, work);
  }
}
