// The TLS bridge's mechanics against small fake services: each protocol's way into TLS on both
// legs, the service's certificate checked against its real name and CA, and every refusal
// closing the local connection with one line that says why. The real servers and clients are in
// test/e2e/tls-bridge.test.ts.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import { after, describe, it } from 'node:test';
import { createCertificateAuthority, createRunCa, issueServerCertificate, type ServerIdentity } from '../../src/net/run-ca.js';
import { type BridgedProtocol, bridgeTls } from '../../src/net/tls-bridge.js';

const runCa = createRunCa();
const serviceCa = createCertificateAuthority('test service CA');
/** Names only a host name that resolves nowhere: the bridge checks the name, not the address it reached. */
const service = issueServerCertificate(serviceCa, ['db.internal']);
const otherCa = createCertificateAuthority('some other CA');

/** Reads exactly `size` bytes (a message may come in pieces). */
async function readBytes(socket: Duplex, size: number): Promise<Buffer> {
  let received = Buffer.alloc(0);
  while (received.length < size) {
    // No more than asked for: what follows may be the start of TLS.
    const chunk = socket.read(size - received.length) as Buffer | null;
    if (chunk) received = Buffer.concat([received, chunk]);
    else if (socket.readableEnded || socket.destroyed) break;
    else await Promise.race([once(socket, 'readable'), once(socket, 'close')]);
  }
  return received;
}

/** Everything until the other side closes. */
async function readToClose(socket: Duplex): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('error', () => undefined);
  await once(socket, 'close');
  return Buffer.concat(chunks);
}

/** A TLS echo with `identity`, after `preamble` (the protocol's exchange in clear). */
async function fakeService(identity: ServerIdentity, preamble: (socket: net.Socket) => Promise<boolean>): Promise<number> {
  const server = net.createServer((socket) => {
    socket.on('error', () => undefined);
    void preamble(socket).then((goOn) => {
      if (!goOn) return;
      const secure = new tls.TLSSocket(socket, { isServer: true, secureContext: tls.createSecureContext({ cert: identity.certificate, key: identity.key }) });
      secure.on('error', () => undefined);
      secure.pipe(secure);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  after(() => server.close());
  return (server.address() as AddressInfo).port;
}

/** A stream that is no net.Socket, as an SSH channel is not: TLS must run over any Duplex. */
function channelTo(port: number): Duplex {
  const socket = net.connect(port, '127.0.0.1');
  const channel = new Duplex({
    read: () => socket.resume(),
    write: (chunk: Buffer, _encoding, done) => socket.write(chunk, done),
    final: (done) => socket.end(done),
    destroy: (err, done) => {
      socket.destroy();
      done(err);
    },
  });
  socket.on('data', (chunk: Buffer) => channel.push(chunk) || socket.pause());
  socket.on('end', () => channel.push(null));
  socket.on('error', (err) => channel.destroy(err));
  return channel;
}

interface Bridge {
  port: number;
  errors: string[];
  results: Promise<boolean>[];
}

async function startBridge(protocol: BridgedProtocol, servicePort: number, options: { serverName?: string; ca?: string } = {}): Promise<Bridge> {
  const bridge: Bridge = { port: 0, errors: [], results: [] };
  const server = net.createServer((local) => {
    bridge.results.push(
      bridgeTls(local, channelTo(servicePort), {
        protocol,
        serverName: options.serverName ?? 'db.internal',
        ca: 'ca' in options ? options.ca : serviceCa.certificate,
        runCa,
        onError: (message) => bridge.errors.push(message),
      }),
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  after(() => server.close());
  bridge.port = (server.address() as AddressInfo).port;
  return bridge;
}

/** The local client's TLS over `socket`, trusting only the run CA, checking 127.0.0.1. */
async function clientTls(socket: net.Socket): Promise<tls.TLSSocket> {
  const secure = tls.connect({ socket, ca: runCa.ca, host: '127.0.0.1' });
  await once(secure, 'secureConnect');
  return secure;
}

async function echoes(secure: tls.TLSSocket): Promise<void> {
  secure.write('PING\r\n');
  assert.equal((await readBytes(secure, 6)).toString(), 'PING\r\n');
  secure.destroy();
}

async function connectLocal(port: number): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  return socket;
}

/** A client that expected TLS and got the connection closed. */
async function refused(port: number): Promise<void> {
  const secure = tls.connect({ port, host: '127.0.0.1', ca: runCa.ca });
  const [err] = (await once(secure, 'error')) as [NodeJS.ErrnoException];
  assert.match(err.code ?? '', /ECONNRESET|EPIPE/);
}

const noPreamble = () => Promise.resolve(true);

describe('the run CA', () => {
  it('signs a certificate for 127.0.0.1, ::1 and localhost, valid for a day', () => {
    const certificate = new X509Certificate(runCa.certificate);
    const ca = new X509Certificate(runCa.ca);
    assert.equal(certificate.subjectAltName, 'IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, DNS:localhost');
    assert.ok(certificate.checkIssued(ca) && certificate.verify(ca.publicKey));
    assert.equal(ca.ca, true);
    assert.equal(certificate.ca, false);
    assert.equal(ca.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    const validFor = Date.parse(certificate.validTo) - Date.parse(certificate.validFrom);
    assert.equal(validFor, 24 * 60 * 60_000 + 5 * 60_000);
    assert.notEqual(createRunCa().ca, runCa.ca, 'each run has a CA of its own');
  });
});

describe('the TLS bridge', () => {
  for (const protocol of ['redis', 'mongodb'] as const) {
    it(`${protocol}: TLS from the first byte on both legs, the service checked by its real name`, async () => {
      const bridge = await startBridge(protocol, await fakeService(service, noPreamble));
      await echoes(await clientTls(await connectLocal(bridge.port)));
      assert.deepEqual(await Promise.all(bridge.results), [true]);
      assert.deepEqual(bridge.errors, []);
    });
  }

  it('refuses a certificate that does not name the host, with one line', async () => {
    const bridge = await startBridge('redis', await fakeService(service, noPreamble), { serverName: 'other.example' });
    await refused(bridge.port);
    assert.deepEqual(await Promise.all(bridge.results), [false]);
    assert.deepEqual(bridge.errors, [
      "The certificate of other.example does not match its name: Hostname/IP does not match certificate's altnames: Host: other.example. is not in the cert's altnames: DNS:db.internal.",
    ]);
  });

  it('refuses a certificate the CA did not sign, and says which CA it looked for', async () => {
    const bridge = await startBridge('redis', await fakeService(service, noPreamble), { ca: otherCa.certificate });
    await refused(bridge.port);
    assert.deepEqual(bridge.errors, ["The certificate of db.internal is not signed by the service's CA: unable to verify the first certificate."]);
    const noCa = await startBridge('redis', await fakeService(service, noPreamble), { ca: undefined });
    await refused(noCa.port);
    assert.deepEqual(noCa.errors, ['The certificate of db.internal is not signed by a CA this computer trusts: unable to verify the first certificate.']);
  });

  it('refuses an expired certificate', async () => {
    const expired = issueServerCertificate(serviceCa, ['db.internal'], -10 * 60_000);
    const bridge = await startBridge('mongodb', await fakeService(expired, noPreamble));
    await refused(bridge.port);
    assert.deepEqual(bridge.errors, ['The certificate of db.internal has expired.']);
  });

  it('checks an address the credentials give against the IP names of the certificate', async () => {
    const byAddress = issueServerCertificate(serviceCa, ['10.0.0.7']);
    const bridge = await startBridge('redis', await fakeService(byAddress, noPreamble), { serverName: '10.0.0.7' });
    await echoes(await clientTls(await connectLocal(bridge.port)));
    const wrong = await startBridge('redis', await fakeService(byAddress, noPreamble), { serverName: '10.0.0.8' });
    await refused(wrong.port);
    assert.deepEqual(wrong.errors, [
      "The certificate of 10.0.0.8 does not match its name: Hostname/IP does not match certificate's altnames: IP: 10.0.0.8 is not in the cert's list: 10.0.0.7.",
    ]);
  });
});

const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);
const GSSENC_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x30]);

/** PostgreSQL's side of an SSLRequest: it answers `answer`, and goes on to TLS on 'S'. */
const postgresPreamble = (answer: string, requests: Buffer[]) => async (socket: net.Socket) => {
  const request = await readBytes(socket, 8);
  if (request.length === 0) return false;
  requests.push(request);
  socket.write(answer);
  return answer === 'S';
};

describe('the TLS bridge for PostgreSQL', () => {
  it('makes the SSLRequest on both legs, after saying no to GSS encryption', async () => {
    const requests: Buffer[] = [];
    const bridge = await startBridge('postgres', await fakeService(service, postgresPreamble('S', requests)));
    const local = await connectLocal(bridge.port);
    local.write(GSSENC_REQUEST);
    assert.equal((await readBytes(local, 1)).toString(), 'N');
    local.write(SSL_REQUEST);
    assert.equal((await readBytes(local, 1)).toString(), 'S');
    await echoes(await clientTls(local));
    assert.deepEqual(requests, [SSL_REQUEST]);
    assert.deepEqual(bridge.errors, []);
  });

  it('turns away a client that starts without TLS, with an error it shows', async () => {
    const requests: Buffer[] = [];
    const bridge = await startBridge('postgres', await fakeService(service, postgresPreamble('S', requests)));
    const local = await connectLocal(bridge.port);
    local.write(Buffer.from([0, 0, 0, 8, 0, 3, 0, 0])); // a StartupMessage, protocol 3.0
    const fields = 'SFATAL\0VFATAL\0C08P01\0Mcf-ssh-tools takes TLS connections only: connect with sslmode=verify-full and its CA file.\0\0';
    assert.equal((await readToClose(local)).toString(), `E\0\0\0${String.fromCharCode(4 + fields.length)}${fields}`);
    assert.deepEqual(bridge.errors, ['The local client did not ask for TLS (it must connect with sslmode=verify-full).']);
    assert.deepEqual(requests, [], 'nothing reached the service');
  });

  it('refuses a client that sends more before its answer (CVE-2021-23214)', async () => {
    const requests: Buffer[] = [];
    const bridge = await startBridge('postgres', await fakeService(service, postgresPreamble('S', requests)));
    const local = await connectLocal(bridge.port);
    local.write(Buffer.concat([SSL_REQUEST, Buffer.from('Q\0\0\0\x0dSELECT 1\0')]));
    assert.equal((await readToClose(local)).length, 0);
    assert.deepEqual(bridge.errors, ['The local client sent more than it may before TLS starts.']);
    assert.deepEqual(requests, []);
  });

  it('refuses a server that answers N', async () => {
    const bridge = await startBridge('postgres', await fakeService(service, postgresPreamble('N', [])));
    const local = await connectLocal(bridge.port);
    local.write(SSL_REQUEST);
    assert.equal((await readToClose(local)).length, 0);
    assert.deepEqual(bridge.errors, ["db.internal does not offer TLS (it answered PostgreSQL's SSLRequest with 'N')."]);
  });
});

const CLIENT_SSL = 0x0800;

function mysqlPacket(sequence: number, payload: Buffer): Buffer {
  const head = Buffer.from([payload.length & 0xff, (payload.length >> 8) & 0xff, payload.length >> 16, sequence]);
  return Buffer.concat([head, payload]);
}

function greeting(capabilities: number): Buffer {
  const payload = Buffer.concat([
    Buffer.from([10]),
    Buffer.from('10.11.19-MariaDB\0'),
    Buffer.from([1, 0, 0, 0]), // connection id
    Buffer.from('abcdefgh\0'), // scramble, filler
    Buffer.from([capabilities & 0xff, capabilities >> 8]),
    Buffer.alloc(20),
  ]);
  return mysqlPacket(0, payload);
}

function sslRequest(capabilities: number): Buffer {
  const payload = Buffer.alloc(32);
  payload.writeUInt32LE(capabilities, 0);
  payload.writeUInt32LE(16 * 1024 * 1024, 4);
  payload[8] = 45;
  return mysqlPacket(1, payload);
}

/** MySQL's side: the greeting, then the client's SSL request, then TLS. */
const mysqlPreamble = (capabilities: number, requests: Buffer[]) => async (socket: net.Socket) => {
  socket.write(greeting(capabilities));
  requests.push(await readBytes(socket, 36));
  return true;
};

describe('the TLS bridge for MySQL', () => {
  it("forwards the greeting and the client's SSL request as they are, then TLS on both legs", async () => {
    const requests: Buffer[] = [];
    const bridge = await startBridge('mysql', await fakeService(service, mysqlPreamble(0xfffe, requests)));
    const local = await connectLocal(bridge.port);
    assert.deepEqual(await readBytes(local, greeting(0xfffe).length), greeting(0xfffe));
    local.write(sslRequest(0x0008a20d | CLIENT_SSL));
    await echoes(await clientTls(local));
    assert.deepEqual(requests, [sslRequest(0x0008a20d | CLIENT_SSL)], 'the same packet, sequence 1');
    assert.deepEqual(bridge.errors, []);
  });

  it('turns away a client that logs in without TLS, with an error packet that follows its sequence', async () => {
    const requests: Buffer[] = [];
    const bridge = await startBridge('mysql', await fakeService(service, mysqlPreamble(0xfffe, requests)));
    const local = await connectLocal(bridge.port);
    await readBytes(local, greeting(0xfffe).length);
    local.write(mysqlPacket(1, Buffer.concat([Buffer.from([0x0d, 0xa2, 0, 0]), Buffer.alloc(60, 1)])));
    const message = 'cf-ssh-tools takes TLS connections only: connect with --ssl-verify-server-cert and its CA file.';
    assert.deepEqual(await readToClose(local), mysqlPacket(2, Buffer.concat([Buffer.from([0xff, 0x57, 0x0c]), Buffer.from(`#HY000${message}`)])));
    assert.deepEqual(bridge.errors, ['The local client did not ask for TLS (it must connect with --ssl-verify-server-cert).']);
  });

  it('refuses a server whose greeting does not offer TLS', async () => {
    const bridge = await startBridge('mysql', await fakeService(service, mysqlPreamble(0xfffe & ~CLIENT_SSL, [])));
    const local = await connectLocal(bridge.port);
    assert.equal((await readToClose(local)).length, 0, 'the client never sees the greeting');
    assert.deepEqual(bridge.errors, ['db.internal does not offer TLS (its MySQL greeting lacks the SSL capability).']);
  });
});
