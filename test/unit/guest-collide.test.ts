// The collide search's fast path against node:crypto and a naive reference: the unrolled SHA-256
// first word, the in-place decimal counter across carries, chunked stepping, and the slow path
// past 15 digits. Any divergence here would make the guest answer wrong matches.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CollideSearch, collideSearch, collideTarget } from '../../guest-server/src/collide';
import { MAX_FAST_MESSAGE_BYTES, packMessage, sha256FirstWordFunction } from '../../guest-server/src/sha256-prefix';
import { referenceCollide, sha256Hex } from '../support/guest-reference';

function firstWordByCrypto(bytes: Uint8Array): number {
  return createHash('sha256').update(bytes).digest().readUInt32BE(0);
}

/** The reference search, from an arbitrary start. */
function referenceFrom(word: string, digits: number, startAt: number): number {
  const prefix = sha256Hex(word).slice(0, digits);
  for (let i = startAt; ; i++) if (sha256Hex(String(i)).startsWith(prefix)) return i;
}

describe('sha256FirstWordFunction', () => {
  it('equals node:crypto for every message of 0–15 arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: MAX_FAST_MESSAGE_BYTES }), (bytes) => {
        expect(sha256FirstWordFunction()(...packMessage(bytes))).toBe(firstWordByCrypto(bytes));
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses to pack a message longer than the fast path handles', () => {
    expect(() => packMessage(new Uint8Array(16))).toThrow(RangeError);
  });
});

describe('collideTarget', () => {
  it('takes the first `digits` hex characters of the word digest', () => {
    const hex = sha256Hex('word7');
    for (let digits = 1; digits <= 8; digits++) {
      const target = collideTarget('word7', digits);
      expect(target.prefixHex).toBe(hex.slice(0, digits));
      expect(target.value).toBe(Number.parseInt(hex.slice(0, digits), 16));
      expect(target.shift).toBe(32 - 4 * digits);
    }
    expect(() => collideTarget('x', 0)).toThrow(RangeError);
    expect(() => collideTarget('x', 9)).toThrow(RangeError);
  });
});

describe('CollideSearch', () => {
  it('finds the same match as the naive reference for several words and digits 1–4', () => {
    for (const word of ['', 'a', 'hello', 'word7', 'ünïcødé ✓', 'x'.repeat(100)]) {
      for (let digits = 1; digits <= 4; digits++) {
        expect(collideSearch(word, digits), `${word}/${digits}`).toEqual(referenceCollide(word, digits));
      }
    }
  });

  it('gives the same answer whatever the chunk sizes', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), fc.integer({ min: 1, max: 3 }), fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 8 }), (word, digits, chunks) => {
        const expected = collideSearch(word, digits).attempts - 1;
        const search = new CollideSearch(word, digits);
        let found = -1;
        for (let k = 0; found < 0; k++) found = search.step(chunks[k % chunks.length] as number);
        expect(found).toBe(expected);
      }),
      { numRuns: 200 },
    );
  });

  it('counts correctly across decimal carries (9→10, 99→100, 9999→10000, …)', () => {
    for (const startAt of [9, 95, 999, 9990, 99_999_990, 999_999_999]) {
      const search = new CollideSearch('carry', 2, startAt);
      expect(search.step(1 << 20)).toBe(referenceFrom('carry', 2, startAt));
    }
  });

  it('stays exact past 15 digits, where it leaves the fast path', () => {
    const startAt = 999_999_999_999_900;
    const expected = referenceFrom('long', 3, startAt + 100); // search from the 16-digit range
    const search = new CollideSearch('long', 3, startAt);
    const first = search.step(1 << 20);
    const reference = referenceFrom('long', 3, startAt);
    expect(first).toBe(reference);
    expect(new CollideSearch('long', 3, startAt + 100).step(1 << 20)).toBe(expected);
    expect(String(expected).length).toBe(16);
  });

  it('reports how many candidates it tried when nothing matched yet', () => {
    const search = new CollideSearch('nothing-yet', 8);
    const found = search.step(1000);
    if (found < 0) expect(search.tried).toBe(1000);
    expect(() => new CollideSearch('x', 1, -1)).toThrow(RangeError);
  });
});
