// The gob codec against what Go writes: every recorded exchange decoded to its values and
// encoded again byte for byte, integers at their edges, and the decoder's refusals.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GobDecoder, GobEncoder, GobError, type GobType, GobTypeIds, gobBool, gobBytes, gobInt, gobMap, gobSlice, gobString, gobStruct, gobUint } from '../../src/plugin/gob.js';
import { rpcRequest, rpcResponse } from '../../src/plugin/rpc.js';
import { type Direction, EXPECTED, readVectors, streamOf, VECTOR_ORG } from '../helpers/gob-vectors.js';

const DIRECTIONS: Direction[] = ['plugin->cli', 'cli->plugin'];

/** What exchange `i` of the vectors carries one way. */
function expectedValues(i: number, direction: Direction) {
  const exchange = EXPECTED[i];
  assert.ok(exchange, `EXPECTED has nothing for exchange ${i}`);
  return exchange[direction];
}

function decodeAll(bytes: Uint8Array, types: GobType<any>[]): unknown[] {
  const decoder = new GobDecoder();
  decoder.push(bytes);
  return types.map((type, i) => {
    const value = decoder.next(type);
    assert.notEqual(value, undefined, `value ${i} is incomplete`);
    return value;
  });
}

/** A value's whole message, encoded on a fresh stream of a fresh process. */
function encodeOne<T>(type: GobType<T>, value: T): Buffer {
  return new GobEncoder(new GobTypeIds()).encode(type, value);
}

describe('gob vectors (Go 1.19 net/rpc, cf plugin RPC)', () => {
  const exchanges = readVectors();

  it('has the four exchanges the file records, and the values we expect for each message', () => {
    assert.equal(exchanges.length, EXPECTED.length);
    for (const [i, exchange] of exchanges.entries()) {
      for (const direction of DIRECTIONS) {
        const values = exchange.messages.filter((m) => m.direction === direction && m.typeId > 0);
        assert.equal(values.length, expectedValues(i, direction).length, `exchange ${i} ${direction}`);
      }
    }
  });

  it('decodes every message to the recorded values', () => {
    for (const [i, exchange] of exchanges.entries()) {
      for (const direction of DIRECTIONS) {
        const expected = expectedValues(i, direction);
        const decoder = new GobDecoder();
        decoder.push(streamOf(exchange, direction));
        for (const [j, { type, value }] of expected.entries()) assert.deepEqual(decoder.next(type), value, `exchange ${i} ${direction} value ${j}`);
        assert.equal(decoder.skipNext(), false, 'nothing is left over');
      }
    }
  });

  it('encodes the same values to the same bytes: type ids per process, definitions once per stream', () => {
    // One cf process answered all four exchanges; the plugin processes end where the file says.
    const cliIds = new GobTypeIds();
    const pluginIds = new Map<number, GobTypeIds>();
    for (const [i, exchange] of exchanges.entries()) {
      if (!pluginIds.has(exchange.pluginProcess)) pluginIds.set(exchange.pluginProcess, new GobTypeIds());
      for (const direction of DIRECTIONS) {
        const encoder = new GobEncoder(direction === 'cli->plugin' ? cliIds : pluginIds.get(exchange.pluginProcess));
        const bytes = Buffer.concat(expectedValues(i, direction).map(({ type, value }) => encoder.encode(type, value)));
        assert.equal(bytes.toString('hex'), streamOf(exchange, direction).toString('hex'), `exchange ${i} ${direction}`);
      }
    }
  });

  it('decodes a stream that arrives a byte at a time', () => {
    const [metadata] = exchanges;
    assert.ok(metadata);
    const expected = expectedValues(0, 'plugin->cli');
    const decoder = new GobDecoder();
    const decoded: unknown[] = [];
    for (const byte of streamOf(metadata, 'plugin->cli')) {
      decoder.push(Uint8Array.of(byte));
      const next = expected[decoded.length];
      assert.ok(next, 'no more values than expected');
      const value = decoder.next(next.type);
      if (value !== undefined) decoded.push(value);
    }
    assert.deepEqual(
      decoded,
      expected.map((e) => e.value),
    );
  });
});

describe('gob integers', () => {
  const unsigned: [number, string][] = [
    [0, '00'],
    [1, '01'],
    [127, '7f'],
    [128, 'ff80'],
    [255, 'ffff'],
    [256, 'fe0100'],
    [65535, 'feffff'],
    [2 ** 32, 'fb0100000000'],
    [Number.MAX_SAFE_INTEGER, 'f91fffffffffffff'],
  ];
  const signed: [number, string][] = [
    [0, '00'],
    [1, '02'],
    [-1, '01'],
    [63, '7e'],
    [-64, '7f'],
    [64, 'ff80'],
    [-65, 'ff81'],
    [127, 'fffe'],
    [128, 'fe0100'],
    [-129, 'fe0101'],
    [255, 'fe01fe'],
    [256, 'fe0200'],
    [2 ** 32, 'fb0200000000'],
    [-(2 ** 32), 'fb01ffffffff'],
    [Number.MAX_SAFE_INTEGER, 'f93ffffffffffffe'],
    [-Number.MAX_SAFE_INTEGER, 'f93ffffffffffffd'],
  ];

  /** A top-level value: length, type id, the 00 of a non-struct, the number. */
  function message(typeIdByte: string, number: string): string {
    return `${(number.length / 2 + 2).toString(16).padStart(2, '0')}${typeIdByte}00${number}`;
  }

  it('writes and reads uints in Go encoding: below 128 one byte, else a negated byte count and big-endian bytes', () => {
    for (const [value, hex] of unsigned) {
      const bytes = encodeOne(gobUint, value);
      assert.equal(bytes.toString('hex'), message('06', hex), `${value}`);
      assert.equal(decodeAll(bytes, [gobUint])[0], value);
    }
  });

  it('writes and reads ints with the sign in the lowest bit', () => {
    for (const [value, hex] of signed) {
      const bytes = encodeOne(gobInt, value);
      assert.equal(bytes.toString('hex'), message('04', hex), `${value}`);
      assert.equal(decodeAll(bytes, [gobInt])[0], value);
    }
  });

  it('refuses numbers a JavaScript number cannot hold, both ways', () => {
    assert.throws(() => encodeOne(gobInt, 2 ** 53), GobError);
    assert.throws(() => encodeOne(gobUint, -1), GobError);
    assert.throws(() => encodeOne(gobInt, 1.5), GobError);
    // uint64 max and int64 min, as Go writes them
    assert.throws(() => decodeAll(Buffer.from('0b06 00 f8ffffffffffffffff'.replaceAll(' ', ''), 'hex'), [gobUint]), GobError);
    assert.throws(() => decodeAll(Buffer.from('0b04 00 f8ffffffffffffffff'.replaceAll(' ', ''), 'hex'), [gobInt]), GobError);
    // nine bytes do not make a uint64
    assert.throws(() => decodeAll(Buffer.from('0c06 00 f7 010000000000000000'.replaceAll(' ', ''), 'hex'), [gobUint]), GobError);
  });

  it('reads past a number it could not hold when the field is not ours', () => {
    const wide = gobStruct('Response', { ServiceMethod: gobString, Big: gobUint, Seq: gobUint });
    const [definition] = splitMessages(encodeOne(wide, { ServiceMethod: 'm', Big: 0, Seq: 0 }));
    assert.ok(definition);
    // ServiceMethod "m", Big 2^64-1 (f8 and eight ff), Seq 7, end.
    const value = frame(Buffer.from('ff82' + '01016d' + '01f8ffffffffffffffff' + '0107' + '00', 'hex'));
    assert.deepEqual(decodeAll(Buffer.concat([definition, value]), [rpcResponse]), [{ ServiceMethod: 'm', Seq: 7, Error: '' }]);
  });
});

/** The messages of a stream, each with its length prefix (all short here: one byte). */
function splitMessages(stream: Buffer): Buffer[] {
  const messages: Buffer[] = [];
  for (let at = 0; at < stream.length; at += 1 + stream.readUInt8(at)) messages.push(stream.subarray(at, at + 1 + stream.readUInt8(at)));
  return messages;
}

function frame(payload: Buffer): Buffer {
  assert.ok(payload.length < 128);
  return Buffer.concat([Uint8Array.of(payload.length), payload]);
}

describe('gob values and types', () => {
  it('round-trips every kind, leaving zero fields out as Go does', () => {
    const inner = gobStruct('Inner', { Flag: gobBool });
    const everything = gobStruct('Everything', {
      B: gobBool,
      I: gobInt,
      U: gobUint,
      S: gobString,
      Raw: gobBytes,
      List: gobSlice(gobString, '[]string'),
      Table: gobMap(gobString, gobInt, 'map[string]int'),
      Nested: inner,
      Structs: gobSlice(inner, '[]main.Inner'),
    });
    const full = {
      B: true,
      I: -5,
      U: 300,
      S: 'snowman ☃',
      Raw: Uint8Array.of(0, 1, 255),
      List: ['', 'x'],
      Table: new Map([
        ['a', 1],
        ['b', 0],
      ]),
      Nested: { Flag: true },
      Structs: [{ Flag: false }, { Flag: true }],
    };
    const zero = { B: false, I: 0, U: 0, S: '', Raw: new Uint8Array(0), List: [], Table: new Map(), Nested: { Flag: false }, Structs: [] };
    assert.deepEqual(decodeAll(encodeOne(everything, full), [everything])[0], full);
    const zeroBytes = encodeOne(everything, zero);
    assert.deepEqual(decodeAll(zeroBytes, [everything])[0], zero);
    // Only the nested struct is sent: type 65, field 7 (delta 8), empty (00), then the end (00).
    assert.equal(splitMessages(zeroBytes).at(-1)!.toString('hex'), '05ff82080000');
  });

  it('matches struct fields by name and reads past the ones it does not know', () => {
    const wider = gobStruct('Response', { Extra: gobSlice(gobString, '[]string'), Error: gobString, More: gobMap(gobString, gobString), Seq: gobUint, ServiceMethod: gobString });
    const bytes = encodeOne(wider, { Extra: ['a', 'b'], Error: 'bad', More: new Map([['k', 'v']]), Seq: 3, ServiceMethod: 'X.Y' });
    assert.deepEqual(decodeAll(bytes, [rpcResponse])[0], { ServiceMethod: 'X.Y', Seq: 3, Error: 'bad' });

    const narrow = gobStruct('Organization', { OrganizationFields: gobStruct('OrganizationFields', { Name: gobString }) });
    const org = readVectors()[1];
    assert.ok(org);
    const decoded = decodeAll(streamOf(org, 'cli->plugin'), [rpcResponse, narrow]);
    assert.deepEqual(decoded[1], { OrganizationFields: { Name: VECTOR_ORG.OrganizationFields.Name } });
  });

  it('gives a field missing from the message its zero value', () => {
    const fewer = gobStruct('Request', { ServiceMethod: gobString });
    assert.deepEqual(decodeAll(encodeOne(fewer, { ServiceMethod: 'A.B' }), [rpcRequest])[0], { ServiceMethod: 'A.B', Seq: 0 });
  });

  it('defines each type once per stream, and again on a new stream', () => {
    const ids = new GobTypeIds();
    const encoder = new GobEncoder(ids);
    const first = splitMessages(encoder.encode(rpcRequest, { ServiceMethod: 'A.B', Seq: 0 }));
    const second = splitMessages(encoder.encode(rpcRequest, { ServiceMethod: 'A.B', Seq: 1 }));
    assert.deepEqual([first.length, second.length], [2, 1]);
    assert.equal(splitMessages(new GobEncoder(ids).encode(rpcRequest, { ServiceMethod: 'A.B', Seq: 0 })).length, 2);
  });

  it('refuses a type defined twice on one stream', () => {
    const [definition, value] = splitMessages(encodeOne(rpcRequest, { ServiceMethod: 'A.B', Seq: 0 }));
    assert.ok(definition && value);
    const decoder = new GobDecoder();
    decoder.push(Buffer.concat([definition, definition, value]));
    assert.throws(
      () => decoder.next(rpcRequest),
      (err: unknown) => err instanceof GobError && /duplicate type/.test(err.message),
    );
  });

  it("refuses to redefine Go's own type ids", () => {
    const [definition] = splitMessages(encodeOne(rpcRequest, { ServiceMethod: 'A.B', Seq: 0 }));
    assert.ok(definition);
    // The same definition, its id -65 (ff81) replaced by -1 (01), then by -16 (1f: wireType's).
    for (const id of [0x01, 0x1f]) {
      const decoder = new GobDecoder();
      decoder.push(frame(Buffer.concat([Uint8Array.of(id), definition.subarray(3)])));
      assert.throws(() => decoder.next(rpcRequest), /is Go's own/);
    }
  });

  it('refuses a value whose kind does not match, and a type id never defined', () => {
    assert.throws(() => decodeAll(encodeOne(gobString, 'x'), [gobInt]), /cannot be decoded as int/);
    assert.throws(() => decodeAll(encodeOne(gobSlice(gobString), ['x']), [gobSlice(gobInt)]), GobError);
    assert.throws(() => decodeAll(encodeOne(rpcRequest, { ServiceMethod: 'A', Seq: 1 }), [gobString]), GobError);
    assert.throws(() => decodeAll(encodeOne(gobString, 'x'), [rpcRequest]), GobError);
    assert.throws(() => decodeAll(Buffer.from('03ff8200', 'hex'), [rpcRequest]), /never defined/);
  });

  it('refuses a non-struct value without its 00, and bytes left over in a message', () => {
    assert.throws(() => decodeAll(Buffer.from('030c0100', 'hex'), [gobString]), /must start with 00/);
    assert.throws(() => decodeAll(Buffer.from('040c000000', 'hex'), [gobString]), /left over/);
  });

  it('refuses lengths beyond the bytes there are, and messages beyond the limit, without allocating them', () => {
    // a string claiming 2^60 bytes
    assert.throws(() => decodeAll(Buffer.from('0b0c00f81000000000000000', 'hex'), [gobString]), /more than the 0 bytes left/);
    // a message claiming 2^60 bytes: refused from its length alone
    const decoder = new GobDecoder();
    decoder.push(Buffer.from('f81000000000000000', 'hex'));
    assert.throws(() => decoder.next(gobString), /over the limit/);
    // a slice claiming 2^32 elements
    const [sliceDefinition] = splitMessages(encodeOne(gobSlice(gobString), []));
    assert.ok(sliceDefinition);
    assert.throws(() => decodeAll(Buffer.concat([sliceDefinition, Buffer.from('09ff8200fb0100000000', 'hex')]), [gobSlice(gobString)]), GobError);
    const small = new GobDecoder(16);
    small.push(encodeOne(gobString, 'a string of more than sixteen bytes'));
    assert.throws(() => small.next(gobString), /over the limit of 16/);
  });
});
