// cf's keepalive is the global request keepalive@cloudfoundry.org; ssh2's own keepalive
// timer (interval, count of unanswered requests, timeout) is right but sends
// keepalive@openssh.com. This swaps the request's name and keeps ssh2's machinery.
import { createRequire } from 'node:module';
import type { Client } from 'ssh2';

const require = createRequire(import.meta.url);
const { sendPacket } = require('ssh2/lib/protocol/utils.js') as { sendPacket: (proto: unknown, packet: Buffer) => void };

const GLOBAL_REQUEST = 80;
const NAME = Buffer.from('keepalive@cloudfoundry.org');

/** SSH_MSG_GLOBAL_REQUEST, string name, boolean want-reply = true. */
const PAYLOAD = Buffer.concat([Buffer.from([GLOBAL_REQUEST]), Buffer.from([0, 0, 0, NAME.length]), NAME, Buffer.from([1])]);

interface ProtocolInternals {
  ping(): void;
  _packetRW: { write: { allocStart: number; alloc(size: number): Buffer; finalize(packet: Buffer): Buffer } };
}

/** Call right after client.connect(), which creates the protocol object. */
export function useCloudFoundryKeepalive(client: Client): void {
  const proto = (client as unknown as { _protocol?: ProtocolInternals })._protocol;
  if (!proto) return;
  proto.ping = function ping(this: ProtocolInternals) {
    const start = this._packetRW.write.allocStart;
    const packet = this._packetRW.write.alloc(PAYLOAD.length);
    packet.set(PAYLOAD, start);
    sendPacket(this, this._packetRW.write.finalize(packet));
  };
}
