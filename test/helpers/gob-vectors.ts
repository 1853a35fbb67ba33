// gob-vectors.txt (whole cf plugin RPC exchanges as Go 1.19 wrote them; a copy of the design's
// file), with the values each message carries, for the codec tests and the fake cf's own check.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type GobType, gobBool, gobString } from '../../src/plugin/gob.js';
import { organizationType, pluginMetadataType, stringsType } from '../../src/plugin/cf-rpc.js';
import { rpcErrorBody, rpcRequest, rpcResponse } from '../../src/plugin/rpc.js';
import { ROOT } from './foundation.js';

export const VECTORS_FILE = path.join(ROOT, 'test/helpers/gob-vectors.txt');

export type Direction = 'plugin->cli' | 'cli->plugin';

export interface VectorMessage {
  direction: Direction;
  /** The type id column: negative for a type definition. */
  typeId: number;
  bytes: Buffer;
}

export interface VectorExchange {
  messages: VectorMessage[];
  /** Which plugin process sent it: the file marks each one's exit. Ids are per process in Go. */
  pluginProcess: number;
}

/** The file's exchanges: runs of messages, each closed by its `# result:` lines. */
export function readVectors(): VectorExchange[] {
  const exchanges: VectorExchange[] = [];
  let messages: VectorMessage[] = [];
  let pluginProcess = 0;
  for (const line of readFileSync(VECTORS_FILE, 'utf8').split('\n')) {
    const result = /^#\s+result:\s*(.*)$/.exec(line);
    if (result) {
      if (messages.length > 0) exchanges.push({ messages, pluginProcess });
      messages = [];
      if (result[1]?.startsWith('plugin exit')) pluginProcess += 1;
      continue;
    }
    const [direction, typeId, hex, ...more] = line.split('|').map((f) => f.trim());
    if (line.startsWith('#') || hex === undefined || more.length > 0) continue;
    messages.push({ direction: direction as Direction, typeId: Number(typeId), bytes: Buffer.from(hex, 'hex') });
  }
  return exchanges;
}

/** One direction of an exchange, as one stream. */
export function streamOf(exchange: VectorExchange, direction: Direction): Buffer {
  return Buffer.concat(exchange.messages.filter((m) => m.direction === direction).map((m) => m.bytes));
}

export interface ExpectedValue {
  type: GobType<any>;
  value: unknown;
}

const request = (method: string, seq = 0): ExpectedValue => ({ type: rpcRequest, value: { ServiceMethod: `CliRpcCmd.${method}`, Seq: seq } });
const response = (method: string, seq = 0, error = ''): ExpectedValue => ({
  type: rpcResponse,
  value: { ServiceMethod: `CliRpcCmd.${method}`, Seq: seq, Error: error },
});
const bool = (value: boolean): ExpectedValue => ({ type: gobBool, value });

export const VECTOR_METADATA = {
  Name: 'demo',
  Version: { Major: 1, Minor: 2, Build: 3 },
  LibraryVersion: { Major: 0, Minor: 0, Build: 0 },
  MinCliVersion: { Major: 0, Minor: 0, Build: 0 },
  Commands: [{ Name: 'hello', Alias: 'hi', HelpText: 'says hi', UsageDetails: { Usage: 'cf hello', Options: new Map([['f', 'force']]) } }],
};
export const VECTOR_ORG = {
  OrganizationFields: {
    Guid: 'org-guid',
    Name: 'my-org',
    QuotaDefinition: { Guid: '', Name: '', MemoryLimit: 0, InstanceMemoryLimit: 0, RoutesLimit: 0, ServicesLimit: 0, NonBasicServicesAllowed: false },
  },
};
export const VECTOR_TOKEN_ERROR = 'token refresh failed';
export const VECTOR_CORE_COMMAND = ['apps', '--x'];
export const VECTOR_COMMAND_OUTPUT = ['ran:', 'apps', '--x'];

/** What each exchange of the file carries, in order, per direction (the `# result:` lines say the same). */
export const EXPECTED: Record<Direction, ExpectedValue[]>[] = [
  {
    'plugin->cli': [request('SetPluginMetadata'), { type: pluginMetadataType, value: VECTOR_METADATA }],
    'cli->plugin': [response('SetPluginMetadata'), bool(true)],
  },
  {
    'plugin->cli': [request('GetCurrentOrg'), { type: gobString, value: '' }],
    'cli->plugin': [response('GetCurrentOrg'), { type: organizationType, value: VECTOR_ORG }],
  },
  {
    'plugin->cli': [request('AccessToken'), { type: gobString, value: '' }],
    'cli->plugin': [response('AccessToken', 0, VECTOR_TOKEN_ERROR), { type: rpcErrorBody, value: {} }],
  },
  {
    'plugin->cli': [
      request('DisableTerminalOutput', 0),
      bool(true),
      request('CallCoreCommand', 1),
      { type: stringsType, value: VECTOR_CORE_COMMAND },
      request('GetOutputAndReset', 2),
      bool(true),
    ],
    'cli->plugin': [
      response('DisableTerminalOutput', 0),
      bool(true),
      response('CallCoreCommand', 1),
      bool(true),
      response('GetOutputAndReset', 2),
      { type: stringsType, value: VECTOR_COMMAND_OUTPUT },
    ],
  },
];
