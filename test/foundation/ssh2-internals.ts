// What the SSH proxy needs that ssh2's public API lacks, kept here so the reliance on its
// internals (ssh2 1.x, lib/protocol/Protocol.js) stays in one place: channel requests it
// sends itself (a keepalive that wants a reply; exit-status after EOF), a channel-open
// failure with a given reason, and a look at every global request (ssh2 answers unknown
// ones itself, silently). Also a way around a bug of its key generator.
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
  channelOpenFail(remoteChannel: number, reason: number, description?: string): void;
}

interface ChannelInternals {
  _client: { _protocol: Protocol };
  _callbacks: ((failed: boolean) => void)[];
  outgoing: { id: number; state: string };
}

const { sendPacket } = createRequire(import.meta.url)('ssh2/lib/protocol/utils.js') as {
  sendPacket(protocol: Protocol, packet: Buffer): void;
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
 * Writes a CHANNEL_REQUEST as Protocol.exitStatus does (byte 98, uint32 recipient channel,
 * string type, boolean want-reply, then the type's data), also after our EOF, which
 * ssh2's own exit() refuses. ssh2 settles `_callbacks` in order on CHANNEL_SUCCESS or
 * CHANNEL_FAILURE, and all of them with failure when the channel closes.
 */
function writeChannelRequest(channel: Channel, type: string, data: Buffer, onReply?: (failed: boolean) => void): boolean {
  const internals = channel as unknown as ChannelInternals;
  if (internals.outgoing.state !== 'open' && internals.outgoing.state !== 'eof') return false;
  const protocol = internals._client._protocol;
  const writer = protocol._packetRW.write;
  const typeLength = Buffer.byteLength(type);
  let p = writer.allocStart;
  const packet = writer.alloc(1 + 4 + 4 + typeLength + 1 + data.length);
  packet[p] = SSH_MSG_CHANNEL_REQUEST;
  packet.writeUInt32BE(internals.outgoing.id, ++p);
  packet.writeUInt32BE(typeLength, (p += 4));
  packet.write(type, (p += 4), typeLength, 'utf8');
  packet[(p += typeLength)] = onReply ? 1 : 0;
  data.copy(packet, p + 1);
  if (onReply) internals._callbacks.push(onReply);
  sendPacket(protocol, writer.finalize(packet));
  return true;
}

/** Sends a request without data (like `keepalive@cloudfoundry.org`) and waits for its reply. */
export function askChannelRequest(channel: Channel, type: string): Promise<RequestOutcome> {
  const incoming = (channel as unknown as { incoming: { state: string } }).incoming;
  return new Promise((resolve) => {
    const sent = writeChannelRequest(channel, type, Buffer.alloc(0), (failed) =>
      resolve(!failed ? 'success' : incoming.state === 'closed' ? 'unanswered' : 'failure'),
    );
    if (!sent) resolve('unanswered');
  });
}

const sshString = (text: string) => {
  const bytes = Buffer.from(text, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
};

export function sendExitStatus(channel: Channel, status: number): void {
  const data = Buffer.alloc(4);
  data.writeUInt32BE(status);
  writeChannelRequest(channel, 'exit-status', data);
}

/** `signal` without its SIG prefix, as on the wire: TERM, KILL... */
export function sendExitSignal(channel: Channel, signal: string, coreDumped: boolean, message: string): void {
  const data = Buffer.concat([sshString(signal), Buffer.from([coreDumped ? 1 : 0]), sshString(message), sshString('')]);
  writeChannelRequest(channel, 'exit-signal', data);
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
  handlers.GLOBAL_REQUEST = (protocol, name, ...rest) => {
    listener(String(name));
    original(protocol, name, ...rest);
  };
}
