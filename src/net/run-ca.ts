// A certificate authority made for one run, and certificates it signs, all in memory. The TLS
// bridge shows local clients a certificate for 127.0.0.1 from it, and hands them its CA as the
// one to trust. Node signs but cannot build a certificate, so this writes the few DER shapes
// X.509 needs itself (ECDSA P-256 with SHA-256) instead of bundling an X.509 library (about
// 350 kB minified).
import { createHash, createPrivateKey, generateKeyPairSync, type KeyObject, randomBytes, sign, X509Certificate } from 'node:crypto';
import { isIP, isIPv4 } from 'node:net';

/** A CA's certificate and key, PEM. */
export interface CertificateAuthority {
  certificate: string;
  key: string;
}

/** A server's certificate and key, PEM, and the CA that signed it (what its clients must trust). */
export interface ServerIdentity {
  ca: string;
  certificate: string;
  key: string;
}

/** The run's CA and the local end's certificate it signed (for 127.0.0.1, ::1 and localhost). */
export type RunCa = ServerIdentity;

/** Clocks drift: a certificate valid from a few minutes ago is valid on a client a little behind. */
const SKEW_MS = 5 * 60_000;
const DAY_MS = 24 * 60 * 60_000;

// The DER shapes a certificate is made of.
function lengthOf(size: number): Buffer {
  if (size < 0x80) return Buffer.from([size]);
  const bytes: number[] = [];
  for (let rest = size; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
const tlv = (tag: number, ...parts: Buffer[]): Buffer => {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag]), lengthOf(body.length), body]);
};
const sequence = (...parts: Buffer[]) => tlv(0x30, ...parts);
const octets = (value: Buffer) => tlv(0x04, value);
const bits = (value: Buffer, unusedBits = 0) => tlv(0x03, Buffer.from([unusedBits]), value);
const TRUE = tlv(0x01, Buffer.from([0xff]));

function oid(dotted: string): Buffer {
  const [a = 0, b = 0, ...rest] = dotted.split('.').map(Number);
  const bytes = [40 * a + b];
  for (const arc of rest) {
    const group = [arc & 0x7f];
    for (let value = arc >>> 7; value > 0; value >>>= 7) group.unshift(0x80 | (value & 0x7f));
    bytes.push(...group);
  }
  return tlv(0x06, Buffer.from(bytes));
}

/** UTCTime up to 2049, GeneralizedTime after (RFC 5280, 4.1.2.5). */
function time(date: Date): Buffer {
  const text = date.toISOString().replace(/[-:T]|\.\d+/g, '');
  return date.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(text.slice(2))) : tlv(0x18, Buffer.from(text));
}

const commonName = (name: string) => sequence(tlv(0x31, sequence(oid('2.5.4.3'), tlv(0x0c, Buffer.from(name)))));
const extension = (id: string, value: Buffer, critical = false) => sequence(oid(id), ...(critical ? [TRUE] : []), octets(value));
const ECDSA_WITH_SHA256 = sequence(oid('1.2.840.10045.4.3.2'));

function altName(name: string): Buffer {
  if (!isIP(name)) return tlv(0x82, Buffer.from(name));
  if (isIPv4(name)) return tlv(0x87, Buffer.from(name.split('.').map(Number)));
  const ip = new URL(`http://[${name}]`).hostname.slice(1, -1);
  const [head = '', tail = ''] = ip.split('::');
  const groups = (part: string) => (part ? part.split(':') : []);
  const zeros = Array<string>(8 - groups(head).length - groups(tail).length).fill('0');
  const all = ip.includes('::') ? [...groups(head), ...zeros, ...groups(tail)] : groups(ip);
  return tlv(0x87, Buffer.concat(all.map((group) => Buffer.from(group.padStart(4, '0'), 'hex'))));
}

const keyId = (spki: Buffer) => createHash('sha1').update(spki).digest();

interface Issue {
  subject: string;
  publicKey: KeyObject;
  issuer: { name: string; key: KeyObject; spki: Buffer };
  validFor: number;
  extensions: Buffer[];
}

function certificate({ subject, publicKey, issuer, validFor, extensions }: Issue): string {
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x40; // positive, and no leading zero byte to strip
  const now = Date.now();
  const tbs = sequence(
    tlv(0xa0, tlv(0x02, Buffer.from([2]))), // v3
    tlv(0x02, serial),
    ECDSA_WITH_SHA256,
    commonName(issuer.name),
    sequence(time(new Date(now - SKEW_MS)), time(new Date(now + validFor))),
    commonName(subject),
    spki,
    tlv(0xa3, sequence(...extensions, extension('2.5.29.14', octets(keyId(spki))), extension('2.5.29.35', sequence(tlv(0x80, keyId(issuer.spki)))))),
  );
  const der = sequence(tbs, ECDSA_WITH_SHA256, bits(sign('sha256', tbs, issuer.key)));
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

const p256 = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
const pem = (key: KeyObject) => key.export({ type: 'pkcs8', format: 'pem' }) as string;

/** A new CA named `name`, valid for `validForMs` (a day by default). */
export function createCertificateAuthority(name: string, validForMs = DAY_MS): CertificateAuthority {
  const { publicKey, privateKey } = p256();
  const issuer = { name, key: privateKey, spki: publicKey.export({ type: 'spki', format: 'der' }) };
  const extensions = [
    extension('2.5.29.19', sequence(TRUE), true), // basicConstraints: a CA
    extension('2.5.29.15', bits(Buffer.from([0x06]), 1), true), // keyUsage: keyCertSign, cRLSign
  ];
  return { certificate: certificate({ subject: name, publicKey, issuer, validFor: validForMs, extensions }), key: pem(privateKey) };
}

/** A server certificate for exactly `names` (host names and IP addresses), signed by `ca`. */
export function issueServerCertificate(ca: CertificateAuthority, names: readonly string[], validForMs = DAY_MS): ServerIdentity {
  const { publicKey, privateKey } = p256();
  const caCertificate = new X509Certificate(ca.certificate);
  const issuer = {
    name: caCertificate.subject.replace(/^CN=/, ''),
    key: createPrivateKey(ca.key),
    spki: caCertificate.publicKey.export({ type: 'spki', format: 'der' }),
  };
  const extensions = [
    extension('2.5.29.19', sequence()), // basicConstraints: not a CA
    extension('2.5.29.15', bits(Buffer.from([0x80]), 7), true), // keyUsage: digitalSignature
    extension('2.5.29.37', sequence(oid('1.3.6.1.5.5.7.3.1'))), // extKeyUsage: serverAuth
    extension('2.5.29.17', sequence(...names.map(altName))), // subjectAltName
  ];
  const subject = names[0] ?? 'server';
  return { ca: ca.certificate, certificate: certificate({ subject, publicKey, issuer, validFor: validForMs, extensions }), key: pem(privateKey) };
}

/** A CA for this run and the local end's certificate, for the loopback names and `localHost`, where clients are told to connect. */
export function createRunCa(localHost?: string): RunCa {
  const ca = createCertificateAuthority(`cf-ssh-tools run ${randomBytes(6).toString('hex')}`);
  const loopback = ['127.0.0.1', '::1', 'localhost'];
  return issueServerCertificate(ca, localHost && !loopback.includes(localHost) ? [...loopback, localHost] : loopback);
}
