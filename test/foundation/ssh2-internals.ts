// What the SSH proxy needs that ssh2's public API lacks, kept here so the reliance on its
// internals (ssh2 1.x, lib/protocol/Protocol.js) stays in one place: a channel request of
// its own that wants a reply (the keepalive), a channel-open failure with a given reason,
// and a look at every global request (ssh2 answers unknown ones itself, silently). Also a
// way around a bug of its key generator.
import { createRequire } from 'node:module';
import ssh2, { type Channel, type Connection, type ParsedKey, type RejectConnection } from 'ssh2';

interface PacketWriter {
  allocStart: number;
  alloc(size: number): Buffer;
  finalize(packet: Buffer): Buffer;
}

interface Protocol {
  _packetRW: { write: PacketWriter };
  _handlers: Record<string, (...args: unknown[]) => void>;
  channelOpenFail: (remoteChannel: number, reason: number, description?: string) => void;
}

interface ChannelInternals {
  _client: { _protocol: Protocol };
  _callbacks: ((failed: boolean) => void)[];
  incoming: { state: string };
  outgoing: { id: number; state: string };
}

const { sendPacket } = createRequire(import.meta.url)('ssh2/lib/protocol/utils.js') as {
  sendPacket: (protocol: Protocol, packet: Buffer) => void;
};

const SSH_MSG_CHANNEL_REQUEST = 98;

export interface Ed25519KeyPair {
  /** OpenSSH formats, as generateKeyPairSync gives them. */
  private: string;
  public: string;
  parsedPublic: ParsedKey;
}

/**
 * An ed25519 key pair from ssh2's generateKeyPairSync, which about once in 256 times cuts a
 * leading zero byte off the public key, giving keys nothing can parse (mscdex/ssh2#1390):
 * such a pair is drawn again.
 */
export function ed25519KeyPair(): Ed25519KeyPair {
  for (;;) {
    const pair = ssh2.utils.generateKeyPairSync('ed25519');
    const parsedPublic = ssh2.utils.parseKey(pair.public);
    if (!(parsedPublic instanceof Error) && !(ssh2.utils.parseKey(pair.private) instanceof Error)) return { ...pair, parsedPublic };
  }
}

/** What became of a channel request that wants a reply. */
export type RequestOutcome = 'success' | 'failure' | 'unanswered';

/**
 * Sends a channel request without data (like `keepalive@cloudfoundry.org`) and waits for
 * its reply. Written as Protocol.exitStatus writes its request: byte CHANNEL_REQUEST,
 * uint32 recipient channel, string type, boolean want-reply. ssh2 settles `_callbacks` in
 * order on CHANNEL_SUCCESS or CHANNEL_FAILURE, and all of them with failure on close.
 */
export function askChannelRequest(channel: Channel, type: string): Promise<RequestOutcome> {
  const internals = channel as unknown as ChannelInternals;
  if (internals.outgoing.state !== 'open') return Promise.resolve('unanswered');
  const protocol = internals._client._protocol;
  const writer = protocol._packetRW.write;
  const typeLength = Buffer.byteLength(type);
  let p = writer.allocStart;
  const packet = writer.alloc(1 + 4 + 4 + typeLength + 1);
  packet[p] = SSH_MSG_CHANNEL_REQUEST;
  packet.writeUInt32BE(internals.outgoing.id, ++p);
  packet.writeUInt32BE(typeLength, (p += 4));
  packet.write(type, (p += 4), typeLength, 'utf8');
  packet[p + typeLength] = 1;
  return new Promise((resolve) => {
    internals._callbacks.push((failed) => resolve(!failed ? 'success' : internals.incoming.state === 'closed' ? 'unanswered' : 'failure'));
    sendPacket(protocol, writer.finalize(packet));
  });
}

/** Rejects a channel open with a reason code and text of our choosing (ssh2's `reject` sends its own). */
export function rejectChannelOpen(connection: Connection, reject: RejectConnection, reason: number, description: string): void {
  const protocol = (connection as unknown as { _protocol: Protocol })._protocol;
  const original = protocol.channelOpenFail;
  protocol.channelOpenFail = (remoteChannel) => original.call(protocol, remoteChannel, reason, description);
  try {
    reject();
  } finally {
    protocol.channelOpenFail = original;
  }
}

/** Calls `listener` with the name of every global request the client sends, before ssh2 handles it. */
export function observeGlobalRequests(connection: Connection, listener: (name: string) => void): void {
  const handlers = (connection as unknown as { _protocol: Protocol })._protocol._handlers;
  const original = handlers.GLOBAL_REQUEST;
  if (!original) throw new Error('ssh2 has no GLOBAL_REQUEST handler: its internals changed');
  handlers.GLOBAL_REQUEST = (protocol, name, ...rest) => {
    listener(String(name));
    original(protocol, name, ...rest);
  };
}
