// Go's encoding/gob, the part cf's plugin RPC uses: bool, int, uint, string, []byte, slices,
// maps and structs, with the type definitions each stream carries. The encoder writes what Go
// writes, byte for byte: the same type ids, field order and zero-value omissions. The decoder
// takes untrusted bytes: every length is checked against the bytes that are really there, and
// anything malformed is a GobError. Spec: "Encoding Details" in Go's encoding/gob documentation.

/** Bytes that are not the gob we expect, or a value gob cannot carry. */
export class GobError extends Error {
  override readonly name = 'GobError';
}

declare const goValue: unique symbol;

type Descriptor =
  | BasicDescriptor
  | { readonly kind: 'slice'; readonly name: string; readonly elem: Descriptor }
  | { readonly kind: 'map'; readonly name: string; readonly key: Descriptor; readonly elem: Descriptor }
  | StructDescriptor
  // Only as a struct field: Go leaves a nil pointer out, and sends a set one as its value.
  | { readonly kind: 'pointer'; readonly elem: StructDescriptor };

interface BasicDescriptor {
  readonly kind: 'bool' | 'int' | 'uint' | 'string' | 'bytes';
}

interface StructDescriptor {
  readonly kind: 'struct';
  readonly name: string;
  readonly fields: readonly { readonly name: string; readonly type: Descriptor }[];
}

/**
 * A Go type as gob sees it, with T the JavaScript value it stands for. Declare each Go type
 * once and reuse it: gob knows a type by its identity, as Go knows it by its reflect.Type.
 */
export type GobType<T> = Descriptor & Phantom<T>;
// Ties a descriptor to its value type; never set at run time.
type Phantom<T> = { readonly [goValue]?: (value: T) => T };

export type GobValue<G> = G extends GobType<infer T> ? T : never;

type Fields = Record<string, GobType<any>>;
type Simplify<T> = { [K in keyof T]: T[K] };
/** A struct's value: a property per field; a pointer field may be left out (Go's nil). */
type StructValue<F extends Fields> = Simplify<
  { [K in keyof F as undefined extends GobValue<F[K]> ? never : K]: GobValue<F[K]> } & {
    [K in keyof F as undefined extends GobValue<F[K]> ? K : never]?: GobValue<F[K]>;
  }
>;

export const gobBool: GobType<boolean> = { kind: 'bool' };
/** Go's int and int64. Values beyond ±(2^53-1) do not fit a JavaScript number: a GobError. */
export const gobInt: GobType<number> = { kind: 'int' };
/** Go's uint and uint64, within 2^53-1. */
export const gobUint: GobType<number> = { kind: 'uint' };
export const gobString: GobType<string> = { kind: 'string' };
export const gobBytes: GobType<Uint8Array> = { kind: 'bytes' };

/**
 * A slice. `name` is what Go calls it in a definition: empty for a top-level value of an
 * unnamed type such as []string, the type's spelling ("[]main.Command") for a struct field.
 */
export function gobSlice<T>(elem: GobType<T>, name = ''): GobType<T[]> {
  return { kind: 'slice', name, elem };
}

/** A map, named as gobSlice explains. An empty map is sent as Go sends a nil one: not at all. */
export function gobMap<K, V>(key: GobType<K>, elem: GobType<V>, name = ''): GobType<Map<K, V>> {
  return { kind: 'map', name, key, elem };
}

/**
 * A struct, its fields in Go's declaration order (that order is on the wire). An embedded
 * struct is a field named after its type, as Go sends it.
 */
export function gobStruct<F extends Fields>(name: string, fields: F): StructDescriptor & Phantom<StructValue<F>> {
  return { kind: 'struct', name, fields: Object.entries(fields).map(([fieldName, type]) => ({ name: fieldName, type })) };
}

function gobPointer<T>(elem: StructDescriptor & Phantom<T>): GobType<T | undefined> {
  return { kind: 'pointer', elem };
}

// The ids Go gives its predefined types, and their names for messages.
const BOOL = 1;
const INT = 2;
const UINT = 3;
const FLOAT = 4;
const BYTES = 5;
const STRING = 6;
const COMPLEX = 7;
const INTERFACE = 8;
const BASIC_IDS: Record<BasicDescriptor['kind'], number> = { bool: BOOL, int: INT, uint: UINT, bytes: BYTES, string: STRING };
const BASIC_NAMES = ['', 'bool', 'int', 'uint', 'float', '[]byte', 'string', 'complex', 'interface'];
const FIRST_USER_ID = 65;

function isBasic(type: Descriptor): type is BasicDescriptor {
  return type.kind in BASIC_IDS;
}

/** A type as a stream defines it: what the decoder keeps per id. */
type WireDef = LocalDef | { kind: 'array'; name: string; elem: number; len: number };
/** What our own types become (Go arrays have no use here: we only read past them). */
type LocalDef =
  | { kind: 'struct'; name: string; fields: { name: string; id: number }[] }
  | { kind: 'slice'; name: string; elem: number }
  | { kind: 'map'; name: string; key: number; elem: number };

/**
 * Go's type ids, which are per process (not per stream): a struct takes the next id before
 * its fields do, a slice or map after its elements. The first id handed out is `lastId + 1`.
 */
export class GobTypeIds {
  private readonly ids = new Map<Descriptor, number>();
  private readonly defs = new Map<number, LocalDef>();

  constructor(private lastId = FIRST_USER_ID - 1) {}

  idOf(type: Descriptor): number {
    if (type.kind === 'pointer') return this.idOf(type.elem);
    if (isBasic(type)) return BASIC_IDS[type.kind];
    const known = this.ids.get(type);
    if (known !== undefined) return known;
    if (type.kind === 'struct') {
      const id = this.assign(type);
      const fields = type.fields.map((field) => ({ name: field.name, id: this.idOf(field.type) }));
      this.defs.set(id, { kind: 'struct', name: type.name, fields });
      return id;
    }
    if (type.kind === 'slice') {
      const elem = this.idOf(type.elem);
      return this.define(type, { kind: 'slice', name: type.name, elem });
    }
    const key = this.idOf(type.key);
    const elem = this.idOf(type.elem);
    return this.define(type, { kind: 'map', name: type.name, key, elem });
  }

  definition(id: number): LocalDef {
    return this.defs.get(id)!;
  }

  /** Every definition so far, by id. */
  definitions(): ReadonlyMap<number, LocalDef> {
    return this.defs;
  }

  private assign(type: Descriptor): number {
    this.lastId += 1;
    this.ids.set(type, this.lastId);
    return this.lastId;
  }

  private define(type: Descriptor, def: LocalDef): number {
    const id = this.assign(type);
    this.defs.set(id, def);
    return id;
  }
}

/** This process's ids, as Go keeps one table per process. */
const processTypeIds = new GobTypeIds();

// Go's own description of a type definition (the wireType), itself sent as gob. Go numbers
// these types from 16 on, in this order; registering them the same way gives the same ids.
const commonType = gobStruct('CommonType', { Name: gobString, Id: gobInt });
const arrayType = gobStruct('arrayType', { CommonType: commonType, Elem: gobInt, Len: gobInt });
const sliceType = gobStruct('sliceType', { CommonType: commonType, Elem: gobInt });
const fieldType = gobStruct('fieldType', { Name: gobString, Id: gobInt });
const structType = gobStruct('structType', { CommonType: commonType, Field: gobSlice(fieldType, '[]*gob.fieldType') });
const mapType = gobStruct('mapType', { CommonType: commonType, Key: gobInt, Elem: gobInt });
const gobEncoderType = gobStruct('gobEncoderType', { CommonType: commonType });
const wireType = gobStruct('wireType', {
  ArrayT: gobPointer(arrayType),
  SliceT: gobPointer(sliceType),
  StructT: gobPointer(structType),
  MapT: gobPointer(mapType),
  GobEncoderT: gobPointer(gobEncoderType),
  BinaryMarshalerT: gobPointer(gobEncoderType),
  TextMarshalerT: gobPointer(gobEncoderType),
});
type WireType = GobValue<typeof wireType>;
const goInternalIds = new GobTypeIds(15);
const WIRE_TYPE_ID = goInternalIds.idOf(wireType);

function toWireType(def: LocalDef, id: number): WireType {
  const common = { Name: def.name, Id: id };
  switch (def.kind) {
    case 'struct':
      return { StructT: { CommonType: common, Field: def.fields.map((f) => ({ Name: f.name, Id: f.id })) } };
    case 'slice':
      return { SliceT: { CommonType: common, Elem: def.elem } };
    case 'map':
      return { MapT: { CommonType: common, Key: def.key, Elem: def.elem } };
  }
}

function fromWireType(wire: WireType): WireDef {
  if (wire.GobEncoderT || wire.BinaryMarshalerT || wire.TextMarshalerT) {
    throw new GobError('types that encode themselves (GobEncoder, BinaryMarshaler, TextMarshaler) are not supported');
  }
  const described = [wire.ArrayT, wire.SliceT, wire.StructT, wire.MapT].filter((t) => t !== undefined);
  if (described.length !== 1) throw new GobError(`a type definition must describe one type, not ${described.length}`);
  const def = wireDefOf(wire);
  const parts = def.kind === 'struct' ? def.fields.map((f) => f.id) : def.kind === 'map' ? [def.key, def.elem] : [def.elem];
  const bad = parts.find((id) => id <= 0);
  if (bad !== undefined) throw new GobError(`a type definition refers to type id ${bad}`);
  if (def.kind === 'array' && def.len < 0) throw new GobError(`an array cannot have ${def.len} elements`);
  return def;
}

function wireDefOf({ ArrayT, SliceT, StructT, MapT }: WireType): WireDef {
  if (StructT) return { kind: 'struct', name: StructT.CommonType.Name, fields: StructT.Field.map((f) => ({ name: f.Name, id: f.Id })) };
  if (SliceT) return { kind: 'slice', name: SliceT.CommonType.Name, elem: SliceT.Elem };
  if (MapT) return { kind: 'map', name: MapT.CommonType.Name, key: MapT.Key, elem: MapT.Elem };
  return { kind: 'array', name: ArrayT!.CommonType.Name, elem: ArrayT!.Elem, len: ArrayT!.Len };
}

// ---------------------------------------------------------------------------------------------
// Encoding

class Writer {
  private readonly chunks: Uint8Array[] = [];
  private length = 0;

  uint(value: number | bigint): void {
    let v = BigInt(value);
    if (v < 0n || v >= 1n << 64n) throw new GobError(`${value} does not fit an unsigned 64-bit integer`);
    if (v < 128n) return this.bytes(Uint8Array.of(Number(v)));
    const bytes: number[] = [];
    for (; v > 0n; v >>= 8n) bytes.unshift(Number(v & 0xffn));
    // A byte count, negated, then the bytes big-endian: 256 is FE 01 00.
    this.bytes(Uint8Array.of(256 - bytes.length, ...bytes));
  }

  int(value: number | bigint): void {
    const v = BigInt(value);
    if (v < -(1n << 63n) || v >= 1n << 63n) throw new GobError(`${value} does not fit a signed 64-bit integer`);
    // The sign goes to the lowest bit; a negative number is complemented first.
    this.uint(v < 0n ? ((-v - 1n) << 1n) | 1n : v << 1n);
  }

  bytes(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.length += bytes.length;
  }

  /** The bytes written, as one message: its length first. */
  message(): Buffer {
    const framed = new Writer();
    framed.uint(this.length);
    return Buffer.concat([...framed.chunks, ...this.chunks]);
  }
}

function checkedInteger(value: number, unsigned: boolean): number {
  if (!Number.isSafeInteger(value) || (unsigned && value < 0)) {
    throw new GobError(`${value} is not ${unsigned ? 'an unsigned' : 'an'} integer a JavaScript number holds exactly`);
  }
  return value;
}

/** Go leaves a struct field out when it holds its type's zero value; nested structs always go. */
function isOmitted(type: Descriptor, value: any): boolean {
  switch (type.kind) {
    case 'bool':
      return !value;
    case 'int':
    case 'uint':
      return value === 0;
    case 'string':
    case 'bytes':
    case 'slice':
      return value.length === 0;
    case 'map':
      return value.size === 0;
    case 'struct':
      return false;
    case 'pointer':
      return value === undefined;
  }
}

function writeValue(type: Descriptor, value: any, out: Writer): void {
  switch (type.kind) {
    case 'bool':
      return out.uint(value ? 1 : 0);
    case 'int':
      return out.int(checkedInteger(value, false));
    case 'uint':
      return out.uint(checkedInteger(value, true));
    case 'string':
    case 'bytes': {
      const bytes = type.kind === 'string' ? Buffer.from(value as string, 'utf8') : (value as Uint8Array);
      out.uint(bytes.length);
      return out.bytes(bytes);
    }
    case 'slice':
      out.uint(value.length);
      for (const elem of value) writeValue(type.elem, elem, out);
      return;
    case 'map':
      out.uint(value.size);
      for (const [key, elem] of value as Map<unknown, unknown>) {
        writeValue(type.key, key, out);
        writeValue(type.elem, elem, out);
      }
      return;
    case 'struct': {
      // Each field sent is the difference of its number from the last one sent; 0 ends.
      let last = -1;
      type.fields.forEach((field, index) => {
        const fieldValue = value[field.name];
        if (isOmitted(field.type, fieldValue)) return;
        out.uint(index - last);
        last = index;
        writeValue(field.type, fieldValue, out);
      });
      return out.uint(0);
    }
    case 'pointer':
      return writeValue(type.elem, value, out);
  }
}

/** One direction of one connection: each type is defined once on it, before its first value. */
export class GobEncoder {
  private readonly sent = new Set<Descriptor>();

  constructor(private readonly ids: GobTypeIds = processTypeIds) {}

  /** The messages for `value`: definitions of its types not yet sent on this stream, then the value. */
  encode<T>(type: GobType<T>, value: T): Buffer {
    const messages: Buffer[] = [];
    const id = this.ids.idOf(type);
    this.define(type, messages);
    const out = new Writer();
    out.int(id);
    // A value that is not a struct goes as field 0 of an imaginary struct: a 00 first.
    if (type.kind !== 'struct') out.uint(0);
    writeValue(type, value, out);
    messages.push(out.message());
    return Buffer.concat(messages);
  }

  /** Go's order: a type's definition, then those of its fields or elements, depth first. */
  private define(type: Descriptor, messages: Buffer[]): void {
    if (type.kind === 'pointer') return this.define(type.elem, messages);
    if (isBasic(type) || this.sent.has(type)) return;
    const id = this.ids.idOf(type);
    const out = new Writer();
    out.int(-id);
    writeValue(wireType, toWireType(this.ids.definition(id), id), out);
    messages.push(out.message());
    this.sent.add(type);
    if (type.kind === 'struct') for (const field of type.fields) this.define(field.type, messages);
    if (type.kind === 'slice') this.define(type.elem, messages);
    if (type.kind === 'map') {
      this.define(type.key, messages);
      this.define(type.elem, messages);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Decoding

/** Go refuses messages of 1 GiB; cf's answers are small, the largest a command's output. */
const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
/** Deeper nesting than any cf type has; it keeps a hostile recursive type off the stack. */
const MAX_DEPTH = 100;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Reads one message; every length is checked against the bytes left in it. */
class Reader {
  private at = 0;

  constructor(private readonly bytes: Buffer) {}

  bigUint(): bigint {
    const first = this.take(1).readUInt8(0);
    if (first < 0x80) return BigInt(first);
    const count = 256 - first;
    if (count > 8) throw new GobError(`an unsigned integer cannot be ${count} bytes long`);
    let value = 0n;
    for (const byte of this.take(count)) value = (value << 8n) | BigInt(byte);
    return value;
  }

  bigInt(): bigint {
    const u = this.bigUint();
    return u & 1n ? -(u >> 1n) - 1n : u >> 1n;
  }

  uint(): number {
    return toNumber(this.bigUint());
  }

  int(): number {
    return toNumber(this.bigInt());
  }

  /** A count of things that take at least a byte each: no more than the bytes left. */
  count(what: string): number {
    const n = this.bigUint();
    if (n > BigInt(this.left())) throw new GobError(`${what} of ${n} is more than the ${this.left()} bytes left in the message`);
    return Number(n);
  }

  take(n: number): Buffer {
    if (n > this.left()) throw new GobError(`the message ends ${n - this.left()} bytes too early`);
    this.at += n;
    return this.bytes.subarray(this.at - n, this.at);
  }

  left(): number {
    return this.bytes.length - this.at;
  }

  end(): void {
    if (this.left() > 0) throw new GobError(`${this.left()} bytes are left over at the end of a message`);
  }
}

function toNumber(value: bigint): number {
  if (value > MAX_SAFE || value < -MAX_SAFE) throw new GobError(`${value} does not fit a JavaScript number`);
  return Number(value);
}

function zeroValue(type: Descriptor): unknown {
  switch (type.kind) {
    case 'bool':
      return false;
    case 'int':
    case 'uint':
      return 0;
    case 'string':
      return '';
    case 'bytes':
      return new Uint8Array(0);
    case 'slice':
      return [];
    case 'map':
      return new Map();
    case 'struct':
      return Object.fromEntries(type.fields.filter((f) => f.type.kind !== 'pointer').map((f) => [f.name, zeroValue(f.type)]));
    case 'pointer':
      return undefined;
  }
}

/** Bytes as they arrive, handed out a whole message at a time. */
class MessageQueue {
  private chunks: Buffer[] = [];
  private length = 0;

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    this.length += chunk.length;
  }

  /** The next whole message without its length, or undefined until all of it is here. */
  next(maxBytes: number): Buffer | undefined {
    const head = this.peek(9);
    if (head.length === 0) return undefined;
    const lead = head.readUInt8(0);
    const prefix = lead < 0x80 ? 1 : 1 + 256 - lead;
    if (prefix > 9) throw new GobError(`a message length cannot be ${prefix - 1} bytes long`);
    if (head.length < prefix) return undefined;
    const size = new Reader(head).bigUint();
    if (size === 0n) throw new GobError('an empty message');
    if (size > BigInt(maxBytes)) throw new GobError(`a message of ${size} bytes is over the limit of ${maxBytes}`);
    if (this.length < prefix + Number(size)) return undefined;
    this.take(prefix);
    return this.take(Number(size));
  }

  private peek(n: number): Buffer {
    const parts: Buffer[] = [];
    let have = 0;
    for (const chunk of this.chunks) {
      if (have >= n) break;
      parts.push(chunk);
      have += chunk.length;
    }
    return Buffer.concat(parts, Math.min(n, have));
  }

  private take(n: number): Buffer {
    const parts: Buffer[] = [];
    this.length -= n;
    while (n > 0) {
      const chunk = this.chunks[0];
      if (!chunk) throw new GobError(`${n} bytes short of a message`);
      if (chunk.length <= n) {
        parts.push(chunk);
        this.chunks.shift();
        n -= chunk.length;
      } else {
        parts.push(chunk.subarray(0, n));
        this.chunks[0] = chunk.subarray(n);
        n = 0;
      }
    }
    const [single] = parts;
    return single && parts.length === 1 ? single : Buffer.concat(parts);
  }
}

/**
 * One direction of one connection. push() what arrives; next() gives the following value once
 * all of it is here, taking in the type definitions before it. Struct fields are matched by
 * name; fields we do not know are read past.
 */
export class GobDecoder {
  private readonly types = new Map<number, WireDef>(goInternalIds.definitions());
  private readonly queue = new MessageQueue();

  constructor(private readonly maxMessageBytes = MAX_MESSAGE_BYTES) {}

  push(chunk: Uint8Array): void {
    this.queue.push(chunk);
  }

  /** The next value as `type`, or undefined while its message has not fully arrived. */
  next<T>(type: GobType<T>): T | undefined {
    return this.nextValue(type)?.value as T | undefined;
  }

  /** Reads past the next value whatever its type (net/rpc's body of an error reply); false while it has not fully arrived. */
  skipNext(): boolean {
    return this.nextValue(undefined) !== undefined;
  }

  private nextValue(type: Descriptor | undefined): { value: unknown } | undefined {
    for (;;) {
      const message = this.queue.next(this.maxMessageBytes);
      if (!message) return undefined;
      const reader = new Reader(message);
      const id = reader.int();
      if (id === 0 || Math.abs(id) >= 2 ** 31) throw new GobError(`${id} is not a type id`);
      if (id < 0) {
        this.defineType(-id, reader);
        reader.end();
        continue;
      }
      const def = this.types.get(id);
      if (def?.kind !== 'struct' && reader.uint() !== 0) throw new GobError('a value that is not a struct must start with 00');
      const value = this.decode(id, type, reader, 0);
      reader.end();
      return { value };
    }
  }

  private defineType(id: number, reader: Reader): void {
    if (id < FIRST_USER_ID) throw new GobError(`type id ${id} is Go's own and cannot be defined`);
    if (this.types.has(id)) throw new GobError(`duplicate type received: type id ${id} is defined twice`);
    this.types.set(id, fromWireType(this.decode(WIRE_TYPE_ID, wireType, reader, 0) as WireType));
  }

  /** Decodes a value of wire type `id` into `type`, or reads past it when `type` is undefined. */
  private decode(id: number, type: Descriptor | undefined, reader: Reader, depth: number): unknown {
    if (depth > MAX_DEPTH) throw new GobError(`values nested more than ${MAX_DEPTH} deep`);
    if (type?.kind === 'pointer') type = type.elem;
    if (type && !this.fits(type, id)) throw new GobError(`a value of type id ${id} (${this.describe(id)}) cannot be decoded as ${type.kind}`);
    switch (id) {
      case BOOL:
        return reader.bigUint() !== 0n;
      case INT:
        return type ? reader.int() : reader.bigInt();
      case UINT:
      case FLOAT: // a float is sent as a uint with its bytes reversed
        return type ? reader.uint() : reader.bigUint();
      case COMPLEX:
        reader.bigUint();
        return reader.bigUint();
      case STRING:
      case BYTES: {
        const bytes = reader.take(reader.count('a length'));
        if (!type) return undefined;
        return id === STRING ? bytes.toString('utf8') : Uint8Array.from(bytes);
      }
      case INTERFACE:
        throw new GobError('interface values are not supported');
    }
    const def = this.types.get(id);
    if (!def) throw new GobError(`type id ${id} is used but was never defined`);
    switch (def.kind) {
      case 'slice':
      case 'array': {
        const count = reader.count('an element count');
        if (def.kind === 'array' && count !== def.len) throw new GobError(`an array of ${def.len} elements came with ${count}`);
        const elemType = type?.kind === 'slice' ? type.elem : undefined;
        const elems: unknown[] = [];
        for (let i = 0; i < count; i += 1) elems.push(this.decode(def.elem, elemType, reader, depth + 1));
        return elems;
      }
      case 'map': {
        const count = reader.count('an entry count');
        const mapType = type?.kind === 'map' ? type : undefined;
        const entries = new Map<unknown, unknown>();
        for (let i = 0; i < count; i += 1) {
          const key = this.decode(def.key, mapType?.key, reader, depth + 1);
          entries.set(key, this.decode(def.elem, mapType?.elem, reader, depth + 1));
        }
        return entries;
      }
      case 'struct': {
        const local = type?.kind === 'struct' ? type : undefined;
        const value = (local ? zeroValue(local) : undefined) as Record<string, unknown> | undefined;
        for (let field = -1; ;) {
          const delta = reader.uint();
          if (delta === 0) return value;
          field += delta;
          const wireField = def.fields[field];
          if (!wireField) throw new GobError(`field number ${field} is beyond the ${def.fields.length} fields of ${this.describe(id)}`);
          const localField = local?.fields.find((f) => f.name === wireField.name);
          const fieldValue = this.decode(wireField.id, localField?.type, reader, depth + 1);
          if (localField) value![localField.name] = fieldValue;
        }
      }
    }
  }

  /** Go's rule: kinds must match, struct fields are matched later by name. */
  private fits(type: Descriptor, id: number): boolean {
    if (type.kind === 'pointer') return this.fits(type.elem, id);
    if (isBasic(type)) return BASIC_IDS[type.kind] === id;
    const def = this.types.get(id);
    if (type.kind === 'struct') return def?.kind === 'struct';
    if (type.kind === 'slice') return def?.kind === 'slice' && this.fits(type.elem, def.elem);
    return def?.kind === 'map' && this.fits(type.key, def.key) && this.fits(type.elem, def.elem);
  }

  private describe(id: number): string {
    const def = this.types.get(id);
    return BASIC_NAMES[id] ?? (def ? `${def.kind} ${def.name || '(unnamed)'}` : 'never defined');
  }
}
