// The collide search's fast path against node:crypto and a naive reference: the unrolled SHA-256
// first word, the in-place decimal counter across carries, chunked stepping, the slow path past 15
// digits, a fresh worker's node:crypto stretch before the fast path is built (and the hand-over at
// its end), and the stand-in's node:crypto-only stepping. Any divergence here would make the guest
// answer wrong matches.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { CollideSearch, collideSearch, collideTarget, NATIVE_CANDIDATES_BEFORE_FAST_PATH as NATIVE_LIMIT } from '../../guest-server/src/collide';
import { MAX_FAST_MESSAGE_BYTES, packMessage, sha256FirstWordFunction } from '../../guest-server/src/sha256-prefix';
import { referenceCollide, sha256Hex } from '../support/guest-reference';

function firstWordByCrypto(bytes: Uint8Array): number {
  return createHash('sha256').update(bytes).digest().readUInt32BE(0);
}

/** A word whose first match, searching from `from`, is `index` (found by trying w0, w1, …). */
function wordFirstMatchingAt(index: number, digits: number, from: number): string {
  const prefix = sha256Hex(String(index)).slice(0, digits);
  for (let k = 0; k < 1_000_000; k++) {
    const word = `w${k}`;
    if (sha256Hex(word).slice(0, digits) === prefix && referenceFrom(word, digits, from) === index) return word;
  }
  throw new Error(`no word matches first at ${index}`);
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

describe('CollideSearch in a fresh worker, before the fast path is built', () => {
  /** The two modules as a new worker thread sees them: the fast path not built yet. */
  async function freshModules() {
    vi.resetModules();
    const collide = await import('../../guest-server/src/collide');
    const prefix = await import('../../guest-server/src/sha256-prefix');
    return { ...collide, isBuilt: prefix.isSha256FirstWordFunctionBuilt };
  }

  it('answers small searches with node:crypto and leaves the fast path unbuilt', async () => {
    const fresh = await freshModules();
    let checked = 0;
    for (const word of ['a', 'hello', 'word7', 'ünïcødé ✓']) {
      for (let digits = 1; digits <= 2; digits++) {
        const expected = referenceCollide(word, digits);
        if (expected.attempts > fresh.NATIVE_CANDIDATES_BEFORE_FAST_PATH) continue;
        expect(fresh.collideSearch(word, digits), `${word}/${digits}`).toEqual(expected);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(4);
    expect(fresh.isBuilt()).toBe(false);
  });

  it('switches to the fast path past the threshold with the same answer, whatever the chunk sizes', async () => {
    // Words whose 3-digit match lies beyond the node:crypto stretch, so every run crosses it.
    const words = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta'].filter((word) => referenceCollide(word, 3).attempts > NATIVE_LIMIT);
    expect(words.length).toBeGreaterThan(2);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...words), fc.array(fc.integer({ min: 1, max: 1500 }), { minLength: 1, maxLength: 6 }), async (word, chunks) => {
        const fresh = await freshModules();
        const search = new fresh.CollideSearch(word, 3);
        let found = -1;
        for (let k = 0; found < 0; k++) {
          found = search.step(chunks[k % chunks.length] as number);
          if (found < 0 && search.tried < NATIVE_LIMIT) expect(fresh.isBuilt()).toBe(false);
        }
        expect(found).toBe(referenceCollide(word, 3).attempts - 1);
        expect(fresh.isBuilt()).toBe(true);
      }),
      { numRuns: 25 },
    );
  });

  it('finds a match that lies exactly on the last node:crypto candidate or the first fast one', async () => {
    for (const matchAt of [NATIVE_LIMIT - 1, NATIVE_LIMIT]) {
      const from = NATIVE_LIMIT - 20;
      const word = wordFirstMatchingAt(matchAt, 2, from);
      const fresh = await freshModules();
      const search = new fresh.CollideSearch(word, 2, from);
      // Twenty candidates: exactly the rest of the node:crypto stretch.
      expect(search.step(20)).toBe(matchAt === NATIVE_LIMIT - 1 ? matchAt : -1);
      expect(fresh.isBuilt()).toBe(false);
      if (matchAt === NATIVE_LIMIT) {
        expect(search.step(1)).toBe(matchAt);
        expect(fresh.isBuilt()).toBe(true);
      }
    }
  });

  it('stops a chunk at the threshold without building the fast path when nothing matched', async () => {
    const from = NATIVE_LIMIT - 5;
    const word = wordFirstMatchingAt(NATIVE_LIMIT + 3, 2, from);
    const fresh = await freshModules();
    const search = new fresh.CollideSearch(word, 2, from);
    expect(search.step(5)).toBe(-1);
    expect(search.tried).toBe(NATIVE_LIMIT);
    expect(fresh.isBuilt()).toBe(false);
    expect(search.step(10)).toBe(NATIVE_LIMIT + 3);
    expect(fresh.isBuilt()).toBe(true);
  });
});

describe('CollideSearch.stepNodeCrypto (the main thread stand-in)', () => {
  it('finds the same match past the threshold, in any batches, and never builds the fast path', async () => {
    vi.resetModules();
    const collide = await import('../../guest-server/src/collide');
    const words = ['alpha', 'beta', 'gamma', 'delta', 'epsilon'].filter((word) => referenceCollide(word, 3).attempts > NATIVE_LIMIT);
    expect(words.length).toBeGreaterThan(1);
    for (const [n, word] of words.entries()) {
      const search = new collide.CollideSearch(word, 3);
      let found = -1;
      while (found < 0) found = search.stepNodeCrypto(7 + 31 * n);
      expect(found, word).toBe(referenceCollide(word, 3).attempts - 1);
      // Handing over mid-way: a search resumed where the stand-in stopped agrees too.
      const resumed = new collide.CollideSearch(word, 3, Math.floor(found / 2));
      expect(resumed.step(1 << 20)).toBe(found);
    }
    vi.resetModules();
    const fresh = await import('../../guest-server/src/collide');
    const freshPrefix = await import('../../guest-server/src/sha256-prefix');
    const search = new fresh.CollideSearch(words[0] as string, 3);
    while (search.stepNodeCrypto(100) < 0);
    expect(search.tried).toBeGreaterThanOrEqual(NATIVE_LIMIT);
    expect(freshPrefix.isSha256FirstWordFunctionBuilt()).toBe(false);
  });
});
