// cf's plugin RPC server, as far as cf-ssh-tools uses it (net/rpc over gob on loopback), in
// the test's own process: our own codec in the server role, checked against Go's recorded
// bytes in test/unit/plugin.test.ts. What the plugin asks is in `calls`; what cf answers is in
// `answers`, which tests change at will.
import assert from 'node:assert/strict';
import net from 'node:net';
import { organizationType, type PluginMetadata, pluginMetadataType, spaceType, stringsType } from '../../src/plugin/cf-rpc.js';
import { GobDecoder, GobEncoder, type GobType, GobTypeIds, gobBool, gobString } from '../../src/plugin/gob.js';
import { rpcErrorBody, rpcRequest, rpcResponse } from '../../src/plugin/rpc.js';
import type { Foundation } from '../foundation/server.js';
import { passwordGrant } from './foundation.js';
import { VECTOR_ORG } from './gob-vectors.js';

export interface CfAnswers {
  api: string;
  sslDisabled: boolean;
  loggedIn: boolean;
  /** "bearer ...", or the error cf answers AccessToken with. */
  token: string | Error;
  org: { guid: string; name: string };
  space: { guid: string; name: string };
}

interface Method {
  arg: GobType<any>;
  reply: GobType<any>;
  answer(arg: any): unknown;
}

const ZERO_QUOTA = VECTOR_ORG.OrganizationFields.QuotaDefinition;

/** cf's plugin RPC server, as far as cf-ssh-tools uses it: one gob process, a stream per connection. */
export class FakeCf {
  readonly calls: string[] = [];
  metadata?: PluginMetadata;
  /** Set to leave calls unanswered (the client's timeout) or to hang up on them. */
  misbehave?: 'silent' | 'hang up';
  private output: string[] = [];
  private readonly typeIds = new GobTypeIds();
  private readonly server = net.createServer((socket) => this.serve(socket));
  private readonly sockets = new Set<net.Socket>();

  constructor(public answers: CfAnswers) {}

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as net.AddressInfo).port;
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private readonly methods: Record<string, Method> = {
    SetPluginMetadata: { arg: pluginMetadataType, reply: gobBool, answer: (metadata) => Boolean((this.metadata = metadata)) },
    AccessToken: {
      arg: gobString,
      reply: gobString,
      answer: () => {
        if (this.answers.token instanceof Error) throw this.answers.token;
        return this.answers.token;
      },
    },
    ApiEndpoint: { arg: gobString, reply: gobString, answer: () => this.answers.api },
    IsSSLDisabled: { arg: gobString, reply: gobBool, answer: () => this.answers.sslDisabled },
    IsLoggedIn: { arg: gobString, reply: gobBool, answer: () => this.answers.loggedIn },
    GetCurrentOrg: {
      arg: gobString,
      reply: organizationType,
      answer: () => ({ OrganizationFields: { Guid: this.answers.org.guid, Name: this.answers.org.name, QuotaDefinition: ZERO_QUOTA } }),
    },
    GetCurrentSpace: { arg: gobString, reply: spaceType, answer: () => ({ SpaceFields: { Guid: this.answers.space.guid, Name: this.answers.space.name } }) },
    DisableTerminalOutput: { arg: gobBool, reply: gobBool, answer: () => true },
    CallCoreCommand: {
      arg: stringsType,
      reply: gobBool,
      answer: (args: string[]) => Boolean((this.output = ['ran:', ...args])),
    },
    GetOutputAndReset: { arg: gobBool, reply: stringsType, answer: () => this.output },
  };

  private serve(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    const decoder = new GobDecoder();
    const encoder = new GobEncoder(this.typeIds);
    let header: { ServiceMethod: string; Seq: number } | undefined;
    socket.on('data', (chunk) => {
      decoder.push(chunk);
      for (;;) {
        header ??= decoder.next(rpcRequest);
        if (!header) return;
        const method = this.methods[header.ServiceMethod.replace(/^CliRpcCmd\./, '')];
        const arg = method ? decoder.next(method.arg) : decoder.skipNext() || undefined;
        if (arg === undefined) return;
        const { ServiceMethod, Seq } = header;
        header = undefined;
        this.calls.push(ServiceMethod);
        if (this.misbehave === 'hang up') return void socket.destroy();
        if (this.misbehave === 'silent') return;
        let reply: Buffer;
        try {
          if (!method) throw new Error(`rpc: can't find method ${ServiceMethod}`);
          const value = method.answer(arg);
          reply = Buffer.concat([encoder.encode(rpcResponse, { ServiceMethod, Seq, Error: '' }), encoder.encode(method.reply, value)]);
        } catch (err) {
          const error = (err as Error).message;
          reply = Buffer.concat([encoder.encode(rpcResponse, { ServiceMethod, Seq, Error: error }), encoder.encode(rpcErrorBody, {})]);
        }
        socket.write(reply);
      }
    });
  }
}

/** Sends raw bytes and collects `expected` bytes of answer (or whatever came before `timeoutMs`). */
export function exchange(port: number, bytes: Buffer, expected: number, timeoutMs = 5000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes));
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(Buffer.concat(chunks));
    };
    const timer = setTimeout(done, timeoutMs);
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      received += chunk.length;
      if (received >= expected) done();
    });
    socket.on('error', reject);
  });
}

/** What cf would answer for a seeded user logged in to the foundation, targeting demo-org / demo-space. */
export async function answersFor(foundation: Foundation, user = 'developer'): Promise<CfAnswers> {
  const { access_token: token } = await passwordGrant(foundation.url, user, `${user}-pass`);
  const org = foundation.world.orgs.find((o) => o.name === 'demo-org');
  const space = foundation.world.spaces.find((s) => s.name === 'demo-space');
  assert.ok(org && space, 'the foundation seeds demo-org and demo-space');
  return {
    api: foundation.url,
    sslDisabled: false,
    loggedIn: true,
    token: `bearer ${token}`,
    org: { guid: org.guid, name: org.name },
    space: { guid: space.guid, name: space.name },
  };
}
