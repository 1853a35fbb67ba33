// patches/ssh2+1.17.0.patch, as installed by npm's postinstall (patches/apply.mjs): an
// in-place cipher builds the next packet in the buffer of the last one only when the
// transport said it took that one at once; padding stays random.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';

interface OutboundCipher {
  allocPacket(payloadLen: number): Buffer;
  encrypt(packet: Buffer): void;
}

const ssh2Crypto = createRequire(import.meta.url)('ssh2/lib/protocol/crypto.js') as {
  bindingAvailable: boolean;
  CIPHER_INFO: Record<string, unknown>;
  createCipher(config: unknown): OutboundCipher;
};

/** An aes128-gcm@openssh.com cipher (ssh2's native binding) whose transport answers `taken`. */
function cipher(taken: boolean, sent: Buffer[]): OutboundCipher {
  return ssh2Crypto.createCipher({
    outbound: {
      onWrite: (packet: Buffer) => {
        sent.push(Buffer.from(packet));
        return taken;
      },
      cipherInfo: ssh2Crypto.CIPHER_INFO['aes128-gcm@openssh.com'],
      cipherKey: randomBytes(16),
      cipherIV: randomBytes(12),
      seqno: 0,
    },
  });
}

/** Allocates, fills and encrypts one packet of `payload`; returns the packet buffer used. */
function send(c: OutboundCipher, payload: Buffer): Buffer {
  const packet = c.allocPacket(payload.length);
  payload.copy(packet, 5);
  c.encrypt(packet);
  return packet;
}

describe('ssh2 as patched: outgoing packet buffers', { skip: !ssh2Crypto.bindingAvailable && "ssh2's native crypto binding is not built" }, () => {
  it('reuses the last packet buffer when the transport took it at once', () => {
    const sent: Buffer[] = [];
    const c = cipher(true, sent);
    const first = send(c, randomBytes(32_768));
    const second = send(c, randomBytes(32_768));
    assert.equal(second.buffer, first.buffer, 'the second packet is built where the first was');
    assert.equal(sent.length, 2);
    assert.notDeepEqual(sent[0], sent[1], 'each packet went out as it was when written');
  });

  it('takes a fresh buffer while the transport may still hold the last one', () => {
    const c = cipher(false, []);
    const first = send(c, randomBytes(32_768));
    const second = send(c, randomBytes(32_768));
    assert.notEqual(second.buffer, first.buffer);
  });

  it('pads every packet with fresh random bytes', () => {
    const c = cipher(false, []);
    // 1000 packets take more padding than the pool draws at a time (4 KiB), so it is refilled.
    const paddings = Array.from({ length: 1000 }, () => {
      const packet = c.allocPacket(32_777);
      return packet.subarray(5 + 32_777, 5 + 32_777 + packet[4]!).toString('hex');
    });
    assert.ok(
      paddings.every((hex) => hex.length >= 8),
      'at least 4 bytes each',
    );
    assert.equal(new Set(paddings).size, paddings.length, 'no padding repeats');
  });
});
