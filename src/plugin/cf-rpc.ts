// The cf CLI's plugin RPC service (CliRpcCmd): its Go types, in their Go field order, and the
// calls cf-ssh-tools makes. Each call is a new connection, except CliCommand's three.
import { gobBool, gobInt, gobMap, gobSlice, gobString, gobStruct, type GobType, type GobValue } from './gob.js';
import { RpcClient } from './rpc.js';

const versionType = gobStruct('VersionType', { Major: gobInt, Minor: gobInt, Build: gobInt });
const usageType = gobStruct('Usage', { Usage: gobString, Options: gobMap(gobString, gobString, 'map[string]string') });
const commandType = gobStruct('Command', { Name: gobString, Alias: gobString, HelpText: gobString, UsageDetails: usageType });
export const pluginMetadataType = gobStruct('PluginMetadata', {
  Name: gobString,
  Version: versionType,
  LibraryVersion: versionType,
  MinCliVersion: versionType,
  // Spelled as the Go program that recorded gob-vectors.txt spells it; cf reads no type names.
  Commands: gobSlice(commandType, '[]main.Command'),
});
const quotaFieldsType = gobStruct('QuotaFields', {
  Guid: gobString,
  Name: gobString,
  MemoryLimit: gobInt,
  InstanceMemoryLimit: gobInt,
  RoutesLimit: gobInt,
  ServicesLimit: gobInt,
  NonBasicServicesAllowed: gobBool,
});
export const organizationType = gobStruct('Organization', {
  OrganizationFields: gobStruct('OrganizationFields', { Guid: gobString, Name: gobString, QuotaDefinition: quotaFieldsType }),
});
export const spaceType = gobStruct('Space', { SpaceFields: gobStruct('SpaceFields', { Guid: gobString, Name: gobString }) });
/** []string as a top-level argument or reply: unnamed, as Go names it there. */
export const stringsType = gobSlice(gobString);

export type PluginMetadata = GobValue<typeof pluginMetadataType>;
export type Version = GobValue<typeof versionType>;

const SERVICE = 'CliRpcCmd';

/** cf, as a plugin it runs sees it. */
export class CfCli {
  private readonly rpc: RpcClient;

  constructor(port: number, timeoutMs?: number) {
    this.rpc = new RpcClient(port, timeoutMs);
  }

  setPluginMetadata(metadata: PluginMetadata): Promise<boolean> {
    return this.rpc.call(`${SERVICE}.SetPluginMetadata`, pluginMetadataType, metadata, gobBool);
  }

  /** "bearer ...", refreshed by cf first. */
  accessToken(): Promise<string> {
    return this.ask('AccessToken', gobString);
  }

  apiEndpoint(): Promise<string> {
    return this.ask('ApiEndpoint', gobString);
  }

  isSSLDisabled(): Promise<boolean> {
    return this.ask('IsSSLDisabled', gobBool);
  }

  isLoggedIn(): Promise<boolean> {
    return this.ask('IsLoggedIn', gobBool);
  }

  async currentOrg(): Promise<{ guid: string; name: string }> {
    const { Guid, Name } = (await this.ask('GetCurrentOrg', organizationType)).OrganizationFields;
    return { guid: Guid, name: Name };
  }

  async currentSpace(): Promise<{ guid: string; name: string }> {
    const { Guid, Name } = (await this.ask('GetCurrentSpace', spaceType)).SpaceFields;
    return { guid: Guid, name: Name };
  }

  /** Runs a cf command with its terminal output captured, and returns that output's lines. */
  cliCommand(args: string[]): Promise<string[]> {
    return this.rpc.withConnection(`${SERVICE}.CallCoreCommand`, async (connection) => {
      await connection.call(`${SERVICE}.DisableTerminalOutput`, gobBool, true, gobBool);
      await connection.call(`${SERVICE}.CallCoreCommand`, stringsType, args, gobBool);
      return connection.call(`${SERVICE}.GetOutputAndReset`, gobBool, true, stringsType);
    });
  }

  /** A method that takes no input: cf's plugin library sends it "". */
  private ask<R>(method: string, replyType: GobType<R>): Promise<R> {
    return this.rpc.call(`${SERVICE}.${method}`, gobString, '', replyType);
  }
}
