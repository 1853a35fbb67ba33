// A bounded, repeatable fuzz run of the gob decoder: random bytes and damaged recordings of
// real exchanges. Whatever arrives, the decoder answers with a value, "not yet", or a GobError,
// quickly and without allocating what a length field claims.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GobDecoder, GobError, type GobType, gobBool, gobString } from '../../src/plugin/gob.js';
import { organizationType, pluginMetadataType, spaceType, stringsType } from '../../src/plugin/cf-rpc.js';
import { rpcRequest, rpcResponse } from '../../src/plugin/rpc.js';
import { type Direction, EXPECTED, readVectors, streamOf } from '../helpers/gob-vectors.js';

const SEED = 0x5eed_cf01;
const CASES_PER_KIND = 1500;
const SLOW_CASE_MS = 200;

/** mulberry32: small, fast and the same on every machine. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Fuzzer {
  int(below: number): number;
  /** One of `items`, which must not be empty. */
  pick<T>(items: readonly T[]): T;
  bytes(count: number): Buffer;
}

function fuzzer(seed: number): Fuzzer {
  const next = random(seed);
  const int = (below: number) => Math.floor(next() * below);
  return {
    int,
    pick: (items) => {
      const item = items[int(items.length)];
      if (item === undefined) throw new Error('pick from an empty list');
      return item;
    },
    bytes: (count) => Buffer.from(Array.from({ length: count }, () => Math.floor(next() * 256))),
  };
}

/** Lengths that claim far more than there is: 2^60, 2^32, 2^31-1, 64 MiB + 1, and one byte short of a count. */
const HUGE_LENGTHS = ['f81000000000000000', 'fb0100000000', 'fc7fffffff', 'fc04000001', 'f7', '80'].map((hex) => Buffer.from(hex, 'hex'));

type Mutation = (stream: Buffer, f: Fuzzer) => Buffer;

const MUTATIONS: Record<string, Mutation> = {
  'bit flips': (stream, f) => {
    const out = Buffer.from(stream);
    for (let i = 1 + f.int(3); i > 0; i -= 1) {
      const at = f.int(out.length);
      out[at] = (out[at] ?? 0) ^ (1 << f.int(8));
    }
    return out;
  },
  truncation: (stream, f) => stream.subarray(0, f.int(stream.length)),
  insertion: (stream, f) => {
    const at = f.int(stream.length + 1);
    return Buffer.concat([stream.subarray(0, at), f.bytes(1 + f.int(8)), stream.subarray(at)]);
  },
  'huge length': (stream, f) => {
    const at = f.int(stream.length);
    return Buffer.concat([stream.subarray(0, at), f.pick(HUGE_LENGTHS), stream.subarray(at + 1)]);
  },
  'byte replaced': (stream, f) => {
    const out = Buffer.from(stream);
    out[f.int(out.length)] = f.pick([0x00, 0x01, 0x7f, 0x80, 0xf8, 0xff]);
    return out;
  },
};

const ANY_TYPES: GobType<any>[] = [rpcRequest, rpcResponse, pluginMetadataType, organizationType, spaceType, stringsType, gobString, gobBool];

/**
 * Feeds `bytes` in random pieces and asks for `types` in order, then reads past whatever else
 * is there. Returns how it ended; throws whatever is not a GobError.
 */
function decode(bytes: Buffer, types: GobType<any>[], f: Fuzzer): 'complete' | 'incomplete' | 'refused' {
  const decoder = new GobDecoder();
  let fed = 0;
  try {
    for (const type of types) {
      let value = decoder.next(type);
      while (value === undefined && fed < bytes.length) {
        const piece = 1 + f.int(16);
        decoder.push(bytes.subarray(fed, fed + piece));
        fed += piece;
        value = decoder.next(type);
      }
      if (value === undefined) return 'incomplete';
    }
    decoder.push(bytes.subarray(fed));
    while (decoder.skipNext());
    return 'complete';
  } catch (err) {
    if (err instanceof GobError) return 'refused';
    throw err;
  }
}

/** The CPU time `run` took, in ms: what a claimed length could blow up, and what other work on a busy machine does not add to. */
function timed(run: () => void): number {
  const start = process.cpuUsage();
  run();
  const { user, system } = process.cpuUsage(start);
  return (user + system) / 1000;
}

describe('gob decoder fuzz (fixed seed)', () => {
  const streams = readVectors().flatMap((exchange, i) => {
    const expected = EXPECTED[i];
    if (!expected) throw new Error(`EXPECTED has nothing for exchange ${i}`);
    return (['plugin->cli', 'cli->plugin'] as Direction[]).map((direction) => ({
      bytes: streamOf(exchange, direction),
      types: expected[direction].map((e) => e.type),
    }));
  });

  it('the undamaged recordings decode completely (the fuzz starts from good input)', () => {
    const f = fuzzer(SEED);
    for (const stream of streams) assert.equal(decode(stream.bytes, stream.types, f), 'complete');
  });

  it('random bytes: only GobError, each case quick', () => {
    const f = fuzzer(SEED);
    const outcomes = new Map<string, number>();
    let slowest = 0;
    for (let i = 0; i < CASES_PER_KIND; i += 1) {
      const bytes = f.bytes(f.int(96));
      const types = [f.pick(ANY_TYPES), f.pick(ANY_TYPES)];
      slowest = Math.max(
        slowest,
        timed(() => {
          const outcome = decode(bytes, types, f);
          outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        }),
      );
    }
    assert.ok(slowest < SLOW_CASE_MS, `slowest case took ${slowest} ms`);
    assert.ok((outcomes.get('refused') ?? 0) > CASES_PER_KIND / 2, `mostly refused: ${JSON.stringify([...outcomes])}`);
  });

  for (const [name, mutate] of Object.entries(MUTATIONS)) {
    it(`recordings with ${name}: only GobError, each case quick, no memory taken for claimed lengths`, () => {
      const f = fuzzer(SEED ^ name.length);
      const memoryBefore = process.memoryUsage().arrayBuffers;
      let slowest = 0;
      for (let i = 0; i < CASES_PER_KIND; i += 1) {
        const stream = f.pick(streams);
        const damaged = mutate(stream.bytes, f);
        slowest = Math.max(
          slowest,
          timed(() => decode(damaged, stream.types, f)),
        );
      }
      assert.ok(slowest < SLOW_CASE_MS, `slowest case took ${slowest} ms`);
      const grown = process.memoryUsage().arrayBuffers - memoryBefore;
      assert.ok(grown < 32 * 1024 * 1024, `array buffers grew by ${grown} bytes`);
    });
  }
});
