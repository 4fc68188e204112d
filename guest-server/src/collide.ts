// The collide search: find the first i = 0, 1, 2, … whose SHA-256(String(i)) hex digest starts
// with the first `digits` hex characters of SHA-256(word). Runs in chunks so that the worker can
// pace and cancel it; it must stay exact, so every fast-path step is checked against node:crypto.
import { createHash, hash } from 'node:crypto';
import { isSha256FirstWordFunctionBuilt, MAX_FAST_MESSAGE_BYTES, sha256FirstWordFunction } from './sha256-prefix';

const ASCII_0 = 0x30;
const ASCII_9 = 0x39;
/** Room for every decimal below 2^53 (16 digits) with margin. */
const DIGIT_BUFFER_BYTES = 24;
/**
 * Until some search has gone this far, candidates are hashed with node:crypto. Building the fast
 * path and running it before V8 has compiled it costs ~20 ms on a host and ~0.3 s in an emulated
 * guest, which a worker's first small request (digits 1–2: 16–256 candidates) should not pay.
 */
export const NATIVE_CANDIDATES_BEFORE_FAST_PATH = 1024;

/** What a collide search compares: the leading `digits` hex characters of the word's digest. */
export interface CollideTarget {
  /** The hex prefix itself, e.g. "3fa9". */
  prefixHex: string;
  /** The prefix as an unsigned integer, compared against `firstWord >>> shift`. */
  value: number;
  /** 32 − 4 × digits: how far the digest's first word is shifted before comparing. */
  shift: number;
}

export function collideTarget(word: string, digits: number): CollideTarget {
  if (!Number.isInteger(digits) || digits < 1 || digits > 8) throw new RangeError(`digits must be 1–8, got ${digits}`);
  const prefixHex = createHash('sha256').update(word, 'utf8').digest('hex').slice(0, digits);
  return { prefixHex, value: Number.parseInt(prefixHex, 16), shift: 32 - 4 * digits };
}

/**
 * A resumable search. `step(n)` tries at most n more candidates and returns the index of the
 * match, or -1 when none of them matched. The decimal digits of i live in a byte buffer that is
 * incremented in place, and the fast path compares the digest's first 32-bit word to the target,
 * so no string and no digest buffer is made per candidate.
 */
export class CollideSearch {
  readonly target: CollideTarget;
  /** ASCII decimal digits of the next candidate. */
  private readonly digitBytes = new Uint8Array(DIGIT_BUFFER_BYTES);
  private digitCount = 1;
  /** Padded message words 0–3 of the next candidate, valid while digitCount ≤ 15. */
  private readonly words = new Int32Array(4);
  private nextIndex = 0;

  constructor(word: string, digits: number, startAt = 0) {
    this.target = collideTarget(word, digits);
    if (!Number.isSafeInteger(startAt) || startAt < 0) throw new RangeError(`startAt must be a non-negative safe integer, got ${startAt}`);
    this.moveTo(startAt);
  }

  /** Candidates tried so far (the next index to try). */
  get tried(): number {
    return this.nextIndex;
  }

  step(maxCandidates: number): number {
    const end = this.nextIndex + maxCandidates;
    if (this.nextIndex < NATIVE_CANDIDATES_BEFORE_FAST_PATH && !isSha256FirstWordFunctionBuilt()) {
      const found = this.stepNative(Math.min(end, NATIVE_CANDIDATES_BEFORE_FAST_PATH));
      if (found >= 0 || this.nextIndex >= end) return found;
    }
    const { value, shift } = this.target;
    const digitBytes = this.digitBytes;
    const words = this.words;
    const firstWord = sha256FirstWordFunction();
    let count = this.digitCount;
    let index = this.nextIndex;
    // Where the last digit sits in the words, and what adding 1 to it adds to that word.
    let bitLength = count * 8;
    let lastWord = (count - 1) >> 2;
    let lastIncrement = 1 << (24 - 8 * ((count - 1) & 3));
    while (index < end) {
      const matched =
        count <= MAX_FAST_MESSAGE_BYTES
          ? firstWord(words[0] as number, words[1] as number, words[2] as number, words[3] as number, bitLength) >>> shift === value
          : hash('sha256', digitBytes.subarray(0, count), 'buffer').readUInt32BE(0) >>> shift === value;
      if (matched) {
        this.digitCount = count;
        this.nextIndex = index;
        return index;
      }
      index++;
      const last = count - 1;
      if ((digitBytes[last] as number) !== ASCII_9) {
        digitBytes[last] = (digitBytes[last] as number) + 1;
        words[lastWord] = (words[lastWord] as number) + lastIncrement;
        continue;
      }
      // Carry: one step in ten, so it may be slow.
      let position = last;
      while (position >= 0 && digitBytes[position] === ASCII_9) digitBytes[position--] = ASCII_0;
      if (position < 0) {
        digitBytes[0] = 0x31;
        digitBytes.fill(ASCII_0, 1, count + 1);
        count++;
      } else {
        digitBytes[position] = (digitBytes[position] as number) + 1;
      }
      this.digitCount = count;
      this.packWords();
      bitLength = count * 8;
      lastWord = (count - 1) >> 2;
      lastIncrement = 1 << (24 - 8 * ((count - 1) & 3));
    }
    this.digitCount = count;
    this.nextIndex = index;
    return -1;
  }

  /**
   * Like step, but always hashes with node:crypto. For the main thread's stand-in, which tries a
   * few candidates while the threads start and must not spend ~0.3 s of an emulated guest's
   * start-up building the fast path.
   */
  stepNodeCrypto(maxCandidates: number): number {
    return this.stepNative(this.nextIndex + maxCandidates);
  }

  /** Tries candidates up to (not including) `until` with node:crypto, then leaves the digit buffer at the next one. */
  private stepNative(until: number): number {
    const { value, shift } = this.target;
    let index = this.nextIndex;
    for (; index < until; index++) {
      if (hash('sha256', String(index), 'buffer').readUInt32BE(0) >>> shift === value) break;
    }
    this.moveTo(index);
    return index < until ? index : -1;
  }

  private moveTo(index: number): void {
    const text = String(index);
    for (let k = 0; k < text.length; k++) this.digitBytes[k] = text.charCodeAt(k);
    this.digitCount = text.length;
    this.nextIndex = index;
    this.packWords();
  }

  private packWords(): void {
    const words = this.words;
    words.fill(0);
    const count = this.digitCount;
    if (count > MAX_FAST_MESSAGE_BYTES) return;
    for (let k = 0; k < count; k++) words[k >> 2] = (words[k >> 2] as number) | ((this.digitBytes[k] as number) << (24 - 8 * (k & 3)));
    words[count >> 2] = (words[count >> 2] as number) | (0x80 << (24 - 8 * (count & 3)));
  }
}

/** Runs a whole search at once (tests and tools; the worker uses CollideSearch in chunks). */
export function collideSearch(word: string, digits: number): { match: string; attempts: number } {
  const search = new CollideSearch(word, digits);
  for (;;) {
    const found = search.step(1 << 20);
    if (found >= 0) return { match: String(found), attempts: found + 1 };
  }
}
