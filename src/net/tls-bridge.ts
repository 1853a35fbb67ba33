// TLS on both legs of a tunnelled connection: the local client does TLS to us with the run CA's
// certificate for 127.0.0.1, and we do TLS to the service through the tunnel, verifying its
// real host name against the binding's CA (or the runtime's CA store). One mechanism for every
// client, instead of asking each to verify a name it did not connect to.
//
// PostgreSQL and MySQL start TLS inside their own protocols: each leg makes the protocol's own
// request (SSLRequest; the greeting's SSL capability and the SSL request packet), forwarded as
// is so that packet sequence numbers stay as each side expects. Redis and MongoDB start TLS at
// the first byte. Any failure fails closed: the local connection is dropped, and one line says
// why. Nothing here ever falls back to a connection without verified TLS.
import type net from 'node:net';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import type { ServerIdentity } from './run-ca.js';

export type BridgedProtocol = 'postgres' | 'mysql' | 'redis' | 'mongodb';

/** How TLS to the service is started and checked. */
export interface ServiceTls {
  protocol: BridgedProtocol;
  /** The service's real host name (or address), as its credentials name it: what its certificate must name. */
  serverName: string;
  /** PEM of the CA the service's certificate must be signed by; the runtime's CA store when undefined. */
  ca?: string;
  /** --insecure-tls: the service's certificate is taken unchecked. The only way to skip the check. */
  insecure?: boolean;
  /** How long both legs have to be up (default TLS_START_TIMEOUT_MS). */
  startTimeoutMs?: number;
}

export interface TlsBridgeOptions extends ServiceTls {
  /** What the local client is shown: the run CA's certificate for the local end. */
  runCa: ServerIdentity;
  /** Why the connection was refused, once, as one line. */
  onError(message: string): void;
}

/** How long a refused client has to close its end before it is cut off. */
const CLOSE_GRACE_MS = 5000;
/** How long both legs have to be up: a service or client that stalls mid-handshake is given up on. */
const TLS_START_TIMEOUT_MS = 30_000;

/** A refusal with its one-line reason; anything else is a connection that broke. */
class Refusal extends Error {}

// PostgreSQL: the 8-byte requests that come before a StartupMessage (protocol docs, 55.2.10).
const PG_SSL_REQUEST = 80877103;
const PG_GSSENC_REQUEST = 80877104;
const pgRequest = (code: number) => Buffer.from([0, 0, 0, 8, code >>> 24, (code >>> 16) & 0xff, (code >>> 8) & 0xff, code & 0xff]);

// MySQL: CLIENT_SSL in the capability flags, and the SSL request's size (a HandshakeResponse cut short).
const MYSQL_CLIENT_SSL = 0x0800;
const MYSQL_SSL_REQUEST_SIZE = 32;
const MYSQL_CLIENT_PROTOCOL_41 = 0x0200;
const MYSQL_CLIENT_SECURE_CONNECTION = 0x8000;
const MYSQL_MAX_PACKET = 0x0100_0000;
const MYSQL_UTF8MB4 = 45;
/** ER_SECURE_TRANSPORT_REQUIRED: what MySQL itself says to a plain login where TLS is required. */
const MYSQL_SECURE_TRANSPORT_REQUIRED = 3159;

/**
 * Reads what arrives on `stream` until `complete` says how much of it is one message. What
 * comes after it is TLS the sender may start without waiting (`keepRest`), or else a sender
 * that did not wait for its answer: refused, as PostgreSQL itself does (CVE-2021-23214).
 */
function readMessage(stream: Duplex, who: string, complete: (received: Buffer) => number | undefined, keepRest = false): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0);
    const done = (err?: Error, message?: Buffer) => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onEnd);
      stream.pause();
      if (err) reject(err);
      else resolve(message!);
    };
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const size = complete(received);
      if (size === undefined) return;
      const rest = received.subarray(size);
      if (rest.length > 0 && !keepRest) return done(new Refusal(`${who} sent more than it may before TLS starts.`));
      done(undefined, received.subarray(0, size));
      if (rest.length > 0) stream.unshift(rest);
    };
    const onEnd = (err?: Error) => done(new Refusal(`${who} closed the connection before TLS started${err ? ` (${err.message})` : ''}.`));
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('error', onEnd);
    stream.resume();
  });
}

const fixedSize = (size: number) => (received: Buffer) => (received.length >= size ? size : undefined);
/** A MySQL packet: a 3-byte length, a sequence number, the payload. */
function mysqlPacket(received: Buffer): number | undefined {
  const size = received.length >= 4 ? 4 + received.readUIntLE(0, 3) : undefined;
  return size !== undefined && received.length >= size ? size : undefined;
}

/** The plain words for why Node's TLS refused the service's certificate. */
export function certificateRefusal(err: NodeJS.ErrnoException, serverName: string, ca: string | undefined): string {
  const signer = ca ? "the service's CA" : 'a CA this computer trusts';
  const words: Record<string, string> = {
    ERR_TLS_CERT_ALTNAME_INVALID: `The certificate of ${serverName} does not match its name: ${err.message}`,
    UNABLE_TO_VERIFY_LEAF_SIGNATURE: `The certificate of ${serverName} is not signed by ${signer}: ${err.message}`,
    UNABLE_TO_GET_ISSUER_CERT_LOCALLY: `The certificate of ${serverName} is not signed by ${signer}: ${err.message}`,
    SELF_SIGNED_CERT_IN_CHAIN: `The certificate of ${serverName} is not signed by ${signer}: its chain ends in a self-signed certificate not trusted here`,
    DEPTH_ZERO_SELF_SIGNED_CERT: `The certificate of ${serverName} is not signed by ${signer}: it is self-signed`,
    CERT_SIGNATURE_FAILURE: `The certificate of ${serverName} is not signed by ${signer}: its signature does not verify`,
    CERT_HAS_EXPIRED: `The certificate of ${serverName} has expired`,
    CERT_NOT_YET_VALID: `The certificate of ${serverName} is not valid yet`,
  };
  return `${(err.code && words[err.code]) ?? `TLS to ${serverName} failed: ${err.message}`}.`;
}

/** TLS to the service over `remote`, its certificate verified against the real host name. */
function connectToService(remote: Duplex, options: ServiceTls): Promise<tls.TLSSocket> {
  const { serverName, ca, insecure = false } = options;
  return new Promise((resolve, reject) => {
    const secure = tls.connect({
      socket: remote,
      // SNI takes host names only; an address is checked against the certificate's IP names.
      ...(isIP(serverName) ? { host: serverName } : { servername: serverName, host: serverName }),
      ...(ca && { ca }),
      rejectUnauthorized: !insecure,
    });
    const onError = (err: NodeJS.ErrnoException) => reject(new Refusal(certificateRefusal(err, serverName, ca)));
    secure.once('error', onError);
    secure.once('secureConnect', () => {
      secure.off('error', onError);
      resolve(secure);
    });
  });
}

/** TLS from the local client, with the run CA's certificate. */
function acceptLocal(local: net.Socket, identity: ServerIdentity): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const secure = new tls.TLSSocket(local, { isServer: true, secureContext: tls.createSecureContext({ cert: identity.certificate, key: identity.key }) });
    const onError = (err: Error) => reject(new Refusal(`The local client's TLS handshake failed: ${err.message}.`));
    secure.once('error', onError);
    secure.once('secure', () => {
      secure.off('error', onError);
      resolve(secure);
    });
  });
}

/** An ErrorResponse the client shows before it gives up. */
function postgresError(message: string): Buffer {
  const fields = Buffer.from(`SFATAL\0VFATAL\0C08P01\0M${message}\0\0`);
  const head = Buffer.alloc(5);
  head.write('E');
  head.writeUInt32BE(4 + fields.length, 1);
  return Buffer.concat([head, fields]);
}

/** The service's leg up, and what the local client must be told before its TLS starts. */
interface ServiceLeg {
  service: tls.TLSSocket;
  answer?: Buffer;
}

/** PostgreSQL's own SSLRequest to the service, then TLS. */
async function postgresServiceLeg(remote: Duplex, options: ServiceTls): Promise<tls.TLSSocket> {
  remote.write(pgRequest(PG_SSL_REQUEST));
  const answer = await readMessage(remote, options.serverName, fixedSize(1));
  if (answer.toString() !== 'S') throw new Refusal(`${options.serverName} does not offer TLS (it answered PostgreSQL's SSLRequest with '${answer.toString('latin1')}').`);
  return connectToService(remote, options);
}

async function postgresStart(local: net.Socket, remote: Duplex, options: ServiceTls): Promise<ServiceLeg> {
  let request = await readMessage(local, 'The local client', fixedSize(8));
  // libpq tries GSS encryption first where it can: say no, and it asks for TLS next.
  if (request.readUInt32BE(0) === 8 && request.readUInt32BE(4) === PG_GSSENC_REQUEST) {
    local.write(Buffer.from('N'));
    request = await readMessage(local, 'The local client', fixedSize(8));
  }
  if (request.readUInt32BE(0) !== 8 || request.readUInt32BE(4) !== PG_SSL_REQUEST) {
    local.end(postgresError('cf-ssh-tools takes TLS connections only: connect with sslmode=verify-full and its CA file.'));
    throw new Refusal('The local client did not ask for TLS (it must connect with sslmode=verify-full).');
  }
  return { service: await postgresServiceLeg(remote, options), answer: Buffer.from('S') };
}

/** An ERR packet: what the client shows when it is turned away. */
function mysqlError(sequence: number, message: string): Buffer {
  const payload = Buffer.concat([Buffer.from([0xff, MYSQL_SECURE_TRANSPORT_REQUIRED & 0xff, MYSQL_SECURE_TRANSPORT_REQUIRED >>> 8]), Buffer.from(`#HY000${message}`)]);
  const head = Buffer.alloc(4);
  head.writeUIntLE(payload.length, 0, 3);
  head[3] = sequence;
  return Buffer.concat([head, payload]);
}

/** The lower capability flags of a greeting (protocol 10): after the version, connection id and first scramble. */
function greetingCapabilities(payload: Buffer): number | undefined {
  if (payload[0] !== 10) return undefined;
  const versionEnd = payload.indexOf(0, 1);
  const at = versionEnd + 1 + 4 + 8 + 1;
  return versionEnd > 0 && payload.length >= at + 2 ? payload.readUInt16LE(at) : undefined;
}

/** The service's greeting, checked to offer TLS; an error packet in its place goes to `refused` before the refusal. */
async function mysqlGreeting(remote: Duplex, options: ServiceTls, refused?: (packet: Buffer) => void): Promise<Buffer> {
  const greeting = await readMessage(remote, options.serverName, mysqlPacket);
  const payload = greeting.subarray(4);
  if (payload[0] === 0xff) {
    refused?.(greeting);
    throw new Refusal(
      `${options.serverName} refused the connection: ${payload
        .subarray(3)
        .toString()
        .replace(/^#\w{5}/, '')}.`,
    );
  }
  const capabilities = greetingCapabilities(payload);
  if (capabilities === undefined) throw new Refusal(`${options.serverName} does not speak the MySQL protocol (its greeting is not protocol 10).`);
  if (!(capabilities & MYSQL_CLIENT_SSL)) throw new Refusal(`${options.serverName} does not offer TLS (its MySQL greeting lacks the SSL capability).`);
  return greeting;
}

/** An SSL request of our own (protocol 4.1, utf8mb4), for a check with no client behind it. */
function mysqlSslRequest(): Buffer {
  const packet = Buffer.alloc(4 + MYSQL_SSL_REQUEST_SIZE);
  packet.writeUIntLE(MYSQL_SSL_REQUEST_SIZE, 0, 3);
  packet[3] = 1;
  packet.writeUInt32LE(MYSQL_CLIENT_PROTOCOL_41 | MYSQL_CLIENT_SSL | MYSQL_CLIENT_SECURE_CONNECTION, 4);
  packet.writeUInt32LE(MYSQL_MAX_PACKET, 8);
  packet[12] = MYSQL_UTF8MB4;
  return packet;
}

async function mysqlStart(local: net.Socket, remote: Duplex, options: ServiceTls): Promise<ServiceLeg> {
  // The server speaks first; its greeting goes to the client as it came.
  const greeting = await mysqlGreeting(remote, options, (packet) => local.end(packet));
  local.write(greeting);
  // The client starts TLS right after its SSL request, without waiting for an answer.
  const request = await readMessage(local, 'The local client', mysqlPacket, true);
  const asksForTls = request.length === 4 + MYSQL_SSL_REQUEST_SIZE && request.readUInt32LE(4) & MYSQL_CLIENT_SSL;
  if (!asksForTls) {
    local.end(mysqlError(request[3]! + 1, 'cf-ssh-tools takes TLS connections only: connect with --ssl-verify-server-cert and its CA file.'));
    throw new Refusal('The local client did not ask for TLS (it must connect with --ssl-verify-server-cert).');
  }
  remote.write(request);
  return { service: await connectToService(remote, options) };
}

/** The service's leg first: a client never gets a secure link to a service we could not verify. */
async function startService(local: net.Socket, remote: Duplex, options: ServiceTls): Promise<ServiceLeg> {
  switch (options.protocol) {
    case 'postgres':
      return postgresStart(local, remote, options);
    case 'mysql':
      return mysqlStart(local, remote, options);
    case 'redis':
    case 'mongodb':
      local.pause();
      return { service: await connectToService(remote, options) };
  }
}

function refusalLine(err: unknown, serverName: string): string {
  return err instanceof Refusal ? err.message : `The connection to ${serverName} broke before TLS was up: ${(err as Error).message}.`;
}

/** `starting`, unless it takes longer than the start timeout: then a refusal that says so. */
async function withinStartTimeout<T>(starting: Promise<T>, { serverName, startTimeoutMs = TLS_START_TIMEOUT_MS }: ServiceTls): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Refusal(`TLS with ${serverName} did not start within ${startTimeoutMs / 1000} s.`)), startTimeoutMs);
  });
  try {
    return await Promise.race([starting, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Starts TLS with the service over `remote` the protocol's own way and checks its certificate,
 * with no client behind it; then closes. Why it was refused, as one line; undefined when it verified.
 */
export async function checkServiceTls(remote: Duplex, options: ServiceTls): Promise<string | undefined> {
  const ignore = () => undefined;
  remote.on('error', ignore);
  const connect = async () => {
    switch (options.protocol) {
      case 'postgres':
        return postgresServiceLeg(remote, options);
      case 'mysql':
        await mysqlGreeting(remote, options);
        remote.write(mysqlSslRequest());
        return connectToService(remote, options);
      case 'redis':
      case 'mongodb':
        return connectToService(remote, options);
    }
  };
  try {
    (await withinStartTimeout(connect(), options)).destroy();
    return undefined;
  } catch (err) {
    return refusalLine(err, options.serverName);
  } finally {
    remote.destroy();
  }
}

/**
 * Bridges a freshly accepted local connection and a freshly opened stream to the service (an SSH
 * direct-tcpip channel) with TLS on both legs. True once both legs are up and piped; false when
 * it was refused: then both are closed and `onError` was told why. It never rejects.
 */
export async function bridgeTls(local: net.Socket, remote: Duplex, options: TlsBridgeOptions): Promise<boolean> {
  const legs: Duplex[] = [local, remote];
  const closeAll = () => legs.forEach((leg) => leg.destroy());
  // Errors of either side while starting end up in the promise below; these keep them from throwing.
  const ignore = () => undefined;
  local.on('error', ignore);
  remote.on('error', ignore);
  const start = async (): Promise<[tls.TLSSocket, tls.TLSSocket]> => {
    const { service, answer } = await startService(local, remote, options);
    legs.push(service);
    if (answer) local.write(answer);
    const client = await acceptLocal(local, options.runCa);
    legs.push(client);
    return [client, service];
  };
  try {
    const [client, service] = await withinStartTimeout(start(), options);
    for (const leg of [client, service]) {
      leg.on('error', closeAll);
      leg.once('close', closeAll);
    }
    client.pipe(service).pipe(client);
    return true;
  } catch (err) {
    options.onError(refusalLine(err, options.serverName));
    for (const leg of legs.slice(1)) leg.destroy();
    // Close with a FIN after what was written (an error packet) and after reading what was sent:
    // a reset makes some clients die of SIGPIPE instead of saying what failed.
    local.setTimeout(CLOSE_GRACE_MS, () => local.destroy());
    local.resume();
    local.end();
    return false;
  }
}
